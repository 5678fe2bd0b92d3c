// The serving layer under a parallel CI suite's load, against the real
// binary over raw sockets (include/csrsim/server.hpp): many keep-alive
// connections all make progress, /_sim answers while long-polls, slow clients
// and latency faults hold connections, a connection past --max-connections
// gets 503 at once, slow and idle clients are cut off; a create past
// --max-orders, --max-notes-per-order or --max-subscriptions-per-account is
// refused with 409 1017 and creates nothing; an endless chunked body and a
// header flood are refused while they stream, with the server's peak RSS
// under 200 MiB; pipelined creates are each answered once and executed once;
// protocol errors (no or a negative Content-Length, an overlong request line)
// are answered at once with a body in the route family's shape.
//
// No assertion is on elapsed time: every wait has a generous bound and the
// checks are on what arrives. Where a test proves something is not blocked,
// the blockers last far longer (60 s) than the bound it waits (30 s), and the
// simulator is killed at the end instead of waiting them out.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

constexpr auto kBound = std::chrono::seconds(30);
const std::string kAccountPath = "/api/accounts/9900000";

std::string Get(const std::string& target, const std::string& extra_headers = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + GuideAuthorization() + "\r\n" +
         extra_headers + "\r\n";
}

// Sends `request` and returns the status of the answer (0: none came).
int StatusOf(RawConnection& connection, const std::string& request) {
  if (!connection.Send(request)) return 0;
  auto response = connection.Read();
  return response ? response->status : 0;
}

bool HealthAnswers(const SimulatorProcess& sim) {
  RawConnection health(sim.port());
  if (!health.Send(Get("/_sim/health"))) return false;
  auto response = health.Read();
  return response && response->status == 200 && Json::parse(response->body).value("status", "") == "ok";
}

}  // namespace

TEST_CASE("serving: 200 keep-alive connections held open at once all make progress") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  std::vector<std::unique_ptr<RawConnection>> workers;
  for (int i = 0; i < 200; ++i) {
    workers.push_back(std::make_unique<RawConnection>(sim.port()));
    REQUIRE(workers.back()->connected());
  }
  // Every round needs every connection served while all 200 stay open.
  int answered = 0;
  for (int round = 0; round < 3; ++round) {
    for (auto& worker : workers) REQUIRE(worker->Send(Get(kAccountPath + "/subscriptions")));
    for (auto& worker : workers) {
      auto response = worker->Read();
      REQUIRE(response);
      CHECK(response->status == 200);
      CHECK(response->Header("Connection") == "keep-alive");
      ++answered;
    }
  }
  CHECK(answered == 600);
}

TEST_CASE("serving: /_sim answers while 64 long-polls, 64 slow clients and 64 latency-faulted calls are in flight") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto control = sim.Client("");
  REQUIRE(control
              ->Post("/_sim/faults", R"({"target":"api","action":"latency","latencyMs":60000,"count":64})",
                     "application/json")
              ->status == 201);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 64; ++i) {
    held.push_back(std::make_unique<RawConnection>(sim.port()));
    REQUIRE(held.back()->Send(Get("/_sim/callbacks/wait?orderId=none-" + std::to_string(i) + "&timeout=60s")));
    held.push_back(std::make_unique<RawConnection>(sim.port()));
    REQUIRE(held.back()->Send("GET /_sim/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"));  // and never the rest
    held.push_back(std::make_unique<RawConnection>(sim.port()));
    REQUIRE(held.back()->Send(Get(kAccountPath + "/csrs/slow-" + std::to_string(i))));
  }
  // The latency rule is used up (and removed) once all 64 calls reached it.
  bool all_delayed = false;
  for (auto until = std::chrono::steady_clock::now() + kBound;
       !all_delayed && std::chrono::steady_clock::now() < until;) {
    auto faults = control->Get("/_sim/faults");
    REQUIRE(faults);
    all_delayed = Json::parse(faults->body)["faults"].empty();
  }
  REQUIRE(all_delayed);
  CHECK(HealthAnswers(sim));
  auto cleared = control->Delete("/_sim/faults");
  REQUIRE(cleared);
  CHECK(cleared->status == 200);
  CHECK(HealthAnswers(sim));
  for (auto& connection : held) CHECK_FALSE(connection->Answered());  // all still held
  sim.Stop(9);                                                        // not waiting for the 60 s blockers
}

TEST_CASE("serving: a connection past --max-connections is answered 503 at once, with a body") {
  SimulatorProcess sim(
      {"--clock", "manual", "--log-level", "off", "--max-connections", "4", "--keep-alive-timeout", "60s"});
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConnection>(sim.port()));
    REQUIRE(StatusOf(*held.back(), Get("/_sim/health")) == 200);
  }
  RawConnection api(sim.port());
  REQUIRE(api.Send(Get(kAccountPath + "/csrs/any")));
  auto refused = api.Read();
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(XmlRoot(refused->body) == "CsrResponse");
  CHECK(XmlText(refused->body, "ErrorCode") == "1015");
  CHECK(XmlText(refused->body, "Description").value_or("").find("--max-connections") != std::string::npos);
  CHECK(api.WaitClosed());

  RawConnection control(sim.port());
  REQUIRE(control.Send(Get("/_sim/health")));
  auto also_refused = control.Read();
  REQUIRE(also_refused);
  CHECK(also_refused->status == 503);
  CHECK_FALSE(also_refused->body.empty());
  // The held connections are still served.
  for (auto& connection : held) CHECK(StatusOf(*connection, Get("/_sim/health")) == 200);

  // The metrics count the four held connections (a fifth thread could not
  // exist, so every earlier connection has closed) and the two refused.
  REQUIRE(held.front()->Send(Get("/_sim/metrics")));
  auto metrics = held.front()->Read();
  REQUIRE(metrics);
  CHECK(metrics->body.find("\ncsrsim_connections_open 4\n") != std::string::npos);
  CHECK(metrics->body.find("\ncsrsim_connections_refused_total 2\n") != std::string::npos);
}

TEST_CASE(
    "serving: a head not complete within --header-timeout is closed, idle keep-alive after --keep-alive-timeout") {
  SimulatorProcess sim(
      {"--clock", "manual", "--log-level", "off", "--header-timeout", "1s", "--keep-alive-timeout", "1s"});
  RawConnection slow(sim.port());
  REQUIRE(slow.Send("GET /_sim/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  CHECK(slow.WaitClosed());

  RawConnection idle(sim.port());
  REQUIRE(StatusOf(idle, Get("/_sim/health")) == 200);
  CHECK(idle.WaitClosed());

  RawConnection silent(sim.port());  // connects and never sends a byte
  CHECK(silent.WaitClosed());
  CHECK(HealthAnswers(sim));
}

TEST_CASE("serving: --http-threads is retired with a warning, and the simulator still starts") {
  SimulatorProcess sim({"--clock", "manual", "--http-threads", "8"});
  CHECK(HealthAnswers(sim));
  sim.Stop();
  CHECK(sim.Stderr().find("warning: --http-threads is retired and ignored") != std::string::npos);
}

namespace {

// Orders of every account, as GET /_sim/health counts them.
int HeldOrders(const SimulatorProcess& sim) {
  auto health = sim.Client("")->Get("/_sim/health");
  REQUIRE(health);
  REQUIRE(health->status == 200);
  return Json::parse(health->body).at("orders").get<int>();
}

// A 409 "Limit reached" in `root`'s ResponseStatus, code 1017, naming `flag`.
void CheckLimitReached(const httplib::Result& response, const std::string& root, const std::string& flag) {
  REQUIRE(response);
  INFO(response->body);
  CHECK(response->status == 409);
  CHECK(response->get_header_value("Content-Type").find("application/xml") == 0);
  CHECK(XmlRoot(response->body) == root);
  CHECK(XmlText(response->body, "ErrorCode") == "1017");
  const std::string description = XmlText(response->body, "Description").value_or("");
  CHECK(description.rfind("Limit reached: ", 0) == 0);
  CHECK(description.find(flag) != std::string::npos);
}

}  // namespace

TEST_CASE("serving: the order past --max-orders is 409 1017 naming the flag, and nothing is created") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--max-orders", "3"});
  auto api = sim.Client();
  for (int i = 0; i < 3; ++i) {
    auto created = api->Post((kAccountPath + "/csrs").c_str(), kGuideCsrBody, "application/xml");
    REQUIRE(created);
    REQUIRE(created->status == 200);
  }
  // The cap counts every account together.
  CheckLimitReached(api->Post((kAccountPath + "/csrs").c_str(), kGuideCsrBody, "application/xml"), "CsrResponse",
                    "--max-orders");
  CheckLimitReached(api->Post("/api/accounts/9900001/csrs", kGuideCsrBody, "application/xml"), "CsrResponse",
                    "--max-orders");
  CHECK(HeldOrders(sim) == 3);
  auto other = api->Get("/api/accounts/9900001/csrs");
  REQUIRE(other);
  CHECK(XmlText(other->body, "TotalCount") == "0");
  // Steps of the refused orders never run: advancing completes exactly three.
  REQUIRE(AdvanceClock(sim, "5s"));
  auto complete = api->Get((kAccountPath + "/csrs?status=COMPLETE").c_str());
  REQUIRE(complete);
  CHECK(XmlText(complete->body, "TotalCount") == "3");
  // A reset frees room.
  REQUIRE(sim.Client("")->Post("/_sim/reset", "", "application/json")->status == 200);
  auto again = api->Post((kAccountPath + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(HeldOrders(sim) == 1);
}

TEST_CASE(
    "serving: notes past --max-notes-per-order and subscriptions past --max-subscriptions-per-account are 409 1017") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--max-notes-per-order", "2",
                        "--max-subscriptions-per-account", "2"});
  auto api = sim.Client();
  auto created = api->Post((kAccountPath + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  const std::string notes = kAccountPath + "/csrs/" + XmlText(created->body, "OrderId").value_or("") + "/notes";
  const std::string note = "<Note><UserId>u</UserId><Description>d</Description></Note>";
  for (int i = 0; i < 2; ++i) REQUIRE(api->Post(notes.c_str(), note, "application/xml")->status == 201);
  CheckLimitReached(api->Post(notes.c_str(), note, "application/xml"), "NoteResponse", "--max-notes-per-order");
  auto listed_notes = api->Get(notes.c_str());
  REQUIRE(listed_notes);
  CHECK(XmlCount(listed_notes->body, "Note") == 2);

  const std::string subscriptions = kAccountPath + "/subscriptions";
  for (int i = 0; i < 2; ++i) {
    auto subscribed =
        api->Post(subscriptions.c_str(), SubscriptionRequest("http://127.0.0.1:9/cb" + std::to_string(i)).Xml(),
                  "application/xml");
    REQUIRE(subscribed);
    REQUIRE(subscribed->status == 201);
  }
  CheckLimitReached(
      api->Post(subscriptions.c_str(), SubscriptionRequest("http://127.0.0.1:9/cb2").Xml(), "application/xml"),
      "SubscriptionsResponse", "--max-subscriptions-per-account");
  auto listed = api->Get(subscriptions.c_str());
  REQUIRE(listed);
  CHECK(XmlCount(listed->body, "Subscription") == 2);
  // The cap is per account: another account still subscribes.
  auto elsewhere = api->Post("/api/accounts/9900001/subscriptions", SubscriptionRequest("http://127.0.0.1:9/cb").Xml(),
                             "application/xml");
  REQUIRE(elsewhere);
  CHECK(elsewhere->status == 201);
}

namespace {

// The peak resident memory of process `pid` (VmHWM in /proc/PID/status), in KiB.
long PeakRssKib(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

constexpr long kRssCeilingKib = 200 * 1024;
// What a client offers at most before it must have been answered: far past
// every limit, but bounded so the test stays quick under ASan.
constexpr std::size_t kFloodBytes = 256u << 20;

// Sends `head`, then `piece` again and again until the server answers (or
// kFloodBytes went out); returns how many bytes of pieces were sent.
std::size_t FloodUntilAnswered(RawConnection& connection, const std::string& head, const std::string& piece) {
  REQUIRE(connection.Send(head));
  std::size_t sent = 0;
  while (sent < kFloodBytes && !connection.Answered()) {
    if (!connection.Send(piece)) break;  // the server closed after answering
    sent += piece.size();
  }
  return sent;
}

// The head of a POST of `target` with the guide's credentials and `extra_headers`.
std::string PostHead(const std::string& target, const std::string& extra_headers) {
  return "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + GuideAuthorization() + "\r\n" +
         extra_headers + "\r\n";
}

std::string Post(const std::string& target, const std::string& body, const std::string& content_type) {
  return PostHead(target,
                  "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") +
         body;
}

}  // namespace

TEST_CASE("serving: an endless chunked body is refused 413 while it streams, and memory stays bounded") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  RawConnection connection(sim.port());
  const std::string head =
      PostHead(kAccountPath + "/csrs", "Content-Type: application/xml\r\nTransfer-Encoding: chunked\r\n");
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";  // 64 KiB chunks
  const std::size_t sent = FloodUntilAnswered(connection, head, chunk);
  CHECK(sent < kFloodBytes);  // answered while the body was still coming
  auto response = connection.Read();
  REQUIRE(response);
  CHECK(response->status == 413);
  CHECK(XmlRoot(response->body) == "CsrResponse");
  CHECK(XmlText(response->body, "ErrorCode") == "1011");
  CHECK(HealthAnswers(sim));
  const long peak = PeakRssKib(sim.pid());
  INFO("peak RSS " << peak << " KiB after " << sent << " bytes of chunks");
  CHECK(peak > 0);
  CHECK(peak < kRssCeilingKib);
}

TEST_CASE("serving: a header flood is refused 431 with a Bandwidth body, and memory stays bounded") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  {
    RawConnection connection(sim.port());
    const std::string line = "X-Flood: " + std::string(4000, 'h') + "\r\n";  // each line well under any limit
    const std::size_t sent =
        FloodUntilAnswered(connection, "GET " + kAccountPath + "/csrs HTTP/1.1\r\nHost: 127.0.0.1\r\n", line);
    CHECK(sent < kFloodBytes);
    auto response = connection.Read();
    REQUIRE(response);
    CHECK(response->status == 431);
    CHECK(XmlRoot(response->body) == "CsrResponse");
    CHECK(XmlText(response->body, "ErrorCode") == "1014");
  }
  {
    RawConnection connection(sim.port());  // many small fields: the count limit
    std::string request = "GET " + kAccountPath + "/subscriptions HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (int i = 0; i < 101; ++i) request += "X-" + std::to_string(i) + ": 1\r\n";
    REQUIRE(connection.Send(request + "\r\n"));
    auto response = connection.Read();
    REQUIRE(response);
    CHECK(response->status == 431);
    CHECK(XmlRoot(response->body) == "SubscriptionsResponse");
    CHECK(XmlText(response->body, "Description").value_or("").find("header fields") != std::string::npos);
  }
  CHECK(HealthAnswers(sim));
  const long peak = PeakRssKib(sim.pid());
  INFO("peak RSS " << peak << " KiB");
  CHECK(peak > 0);
  CHECK(peak < kRssCeilingKib);
}

TEST_CASE("serving: 10 POST /csrs pipelined in one write get 10 answers in order and create exactly 10 orders") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  std::string pipelined;
  for (int i = 0; i < 10; ++i) {
    pipelined += Post(kAccountPath + "/csrs",
                      "<Csr><CustomerOrderId>pipe-" + std::to_string(i) +
                          "</CustomerOrderId><WorkingOrBillingTelephoneNumber>9198675309"
                          "</WorkingOrBillingTelephoneNumber></Csr>",
                      "application/xml");
  }
  RawConnection connection(sim.port());
  REQUIRE(connection.Send(pipelined));
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    auto response = connection.Read();
    REQUIRE(response);
    CHECK(response->status == 200);
    ids.push_back(XmlText(response->body, "OrderId").value_or(""));
  }
  // Answers come in request order: each order carries its request's CustomerOrderId.
  auto api = sim.Client();
  for (int i = 0; i < 10; ++i) {
    auto order = api->Get((kAccountPath + "/csrs/" + ids[static_cast<std::size_t>(i)]).c_str());
    REQUIRE(order);
    CHECK(XmlText(order->body, "CustomerOrderId") == "pipe-" + std::to_string(i));
  }
  CHECK(HeldOrders(sim) == 10);
  // The connection is still usable afterwards.
  CHECK(StatusOf(connection, Get("/_sim/health")) == 200);
}

TEST_CASE("serving: an XML order sent form-encoded (curl's default) is accepted, also past 8 KiB") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  const std::string padded = "<Csr>" + std::string(16 * 1024, ' ') +
                             "<CustomerOrderId>form</CustomerOrderId><WorkingOrBillingTelephoneNumber>9198675309"
                             "</WorkingOrBillingTelephoneNumber></Csr>";
  RawConnection connection(sim.port());
  for (const std::string& body : {kGuideCsrBody, padded}) {
    REQUIRE(connection.Send(Post(kAccountPath + "/csrs", body, "application/x-www-form-urlencoded")));
    auto response = connection.Read();
    REQUIRE(response);
    INFO(response->body);
    CHECK(response->status == 200);
    CHECK(XmlText(response->body, "Status") == "RECEIVED");
  }
  CHECK(HeldOrders(sim) == 2);
}

TEST_CASE(
    "serving: a body-less POST without Content-Length is answered at once, Content-Length -5 is 400 with a body") {
  // A server waiting for a body would wait --header-timeout (10 min here),
  // far past the 30 s a read waits.
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--header-timeout", "600s"});
  struct Case {
    std::string headers;
    std::string code;        // in the CSR validation envelope
    std::string connection;  // a request that cannot be framed closes its connection
  };
  for (const Case& c : {Case{"", "1003", "keep-alive"}, Case{"Content-Length: -5\r\n", "1012", "close"}}) {
    INFO(c.headers);
    RawConnection connection(sim.port());
    REQUIRE(connection.Send(PostHead(kAccountPath + "/csrs", c.headers)));
    auto response = connection.Read();
    REQUIRE(response);
    INFO(response->body);
    CHECK(response->status == 400);
    CHECK(XmlRoot(response->body) == "CsrOrderResponse");
    CHECK(XmlText(response->body, "Code") == c.code);
    CHECK(response->Header("Connection") == c.connection);
  }
  CHECK(HeldOrders(sim) == 0);
}

TEST_CASE("serving: a request line over 8192 bytes is 414, with JSON on /_sim and ResponseStatus on the API") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  {
    RawConnection connection(sim.port());
    REQUIRE(connection.Send(Get("/_sim/orders?account=" + std::string(9000, 'a'))));
    auto response = connection.Read();
    REQUIRE(response);
    CHECK(response->status == 414);
    CHECK(response->Header("Content-Type").value_or("").find("application/json") == 0);
    CHECK(Json::parse(response->body).at("error").get<std::string>().find("8192") != std::string::npos);
  }
  {
    RawConnection connection(sim.port());
    REQUIRE(connection.Send(Get(kAccountPath + "/csrs?status=" + std::string(9000, 'a'))));
    auto response = connection.Read();
    REQUIRE(response);
    CHECK(response->status == 414);
    CHECK(XmlRoot(response->body) == "CsrResponse");
    CHECK(XmlText(response->body, "ErrorCode") == "1013");
  }
}
