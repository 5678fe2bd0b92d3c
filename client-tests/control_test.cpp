// The control API (/_sim) through real HTTP against the real binary, as a CI
// suite would script it: manual clock, reset, journal, long-poll wait,
// scenario reload, every fault kind, deterministic runs, the control token.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

const std::string kAccount = "/api/accounts/9900000";

// Talks to /_sim and checks each answer is JSON with the expected status.
class Control {
 public:
  explicit Control(const SimulatorProcess& sim, const std::string& authorization = "")
      : client_(sim.Client(authorization)) {}

  Json Get(const std::string& path, int expected = 200) { return Checked(client_->Get(path.c_str()), expected); }
  Json Post(const std::string& path, const std::string& body = "", int expected = 200) {
    return Checked(client_->Post(path.c_str(), body, "application/json"), expected);
  }
  Json Delete(const std::string& path, int expected = 200) { return Checked(client_->Delete(path.c_str()), expected); }
  Json Advance(const std::string& by) { return Post("/_sim/clock/advance", R"({"by":")" + by + R"("})"); }
  Json AddFault(const std::string& rule) { return Post("/_sim/faults", rule, 201); }
  Json Journal(const std::string& query = "") { return Get("/_sim/callbacks" + query)["entries"]; }

 private:
  static Json Checked(const httplib::Result& result, int expected) {
    REQUIRE(result);
    INFO(result->status << " " << result->body);
    REQUIRE(result->status == expected);
    REQUIRE(result->get_header_value("Content-Type") == "application/json");
    return Json::parse(result->body);
  }
  std::unique_ptr<httplib::Client> client_;
};

std::string CreateOrder(httplib::Client& api, const std::string& tn) {
  auto created = api.Post((kAccount + "/csrs").c_str(), CsrBody(tn), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

void Subscribe(httplib::Client& api, const std::string& url) {
  auto created = api.Post((kAccount + "/subscriptions").c_str(), SubscriptionRequest(url).Xml(), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 201);
}

std::vector<std::string> NotifiedStatuses(const CallbackReceiver& receiver) {
  std::vector<std::string> statuses;
  for (const auto& request : receiver.Requests()) statuses.push_back(XmlText(request.body, "Status").value_or(""));
  return statuses;
}

}  // namespace

TEST_CASE("the testing guide's flow: after advancing 5 s the COMPLETE callback has already arrived") {
  SimulatorProcess sim(kManual);
  CallbackReceiver receiver;
  Control control(sim);
  auto api = sim.Client();
  const std::string order_id = SubscribeAndCreate(*api, "9900000", receiver.Url(), CsrBody("9198675309"));

  Json clock = control.Advance("5s");
  CHECK(clock["now"] == "2026-01-01T00:00:05.000Z");
  // The advance guarantee: no waiting needed.
  CHECK(NotifiedStatuses(receiver) == std::vector<std::string>{"COMPLETE"});
  Json journal = control.Journal("?orderId=" + order_id);
  REQUIRE(journal.size() == 1);
  CHECK(journal[0]["responseStatus"] == 200);
  CHECK(journal[0]["body"] == receiver.Requests()[0].body);
  // Sent at the simulated time it fell due (3 s), not when the advance ended (5 s).
  CHECK(journal[0]["scheduledAt"] == "2026-01-01T00:00:03.000Z");
  CHECK(journal[0]["sentAt"] == "2026-01-01T00:00:03.000Z");

  Json waited = control.Get("/_sim/callbacks/wait?orderId=" + order_id + "&status=COMPLETE&timeout=1s");
  CHECK(waited["id"] == journal[0]["id"]);

  Json order = control.Get("/_sim/orders/" + order_id);
  CHECK(order["status"] == "COMPLETE");
  CHECK(order["scenario"] == "house-of-mouse");
  CHECK(order["csrData"]["CustomerName"] == "House of Mouse");
  CHECK(order["history"].size() == 3);
}

TEST_CASE("a long-poll wait answers once the callback is delivered and 408 when none comes") {
  SimulatorProcess sim(kManual);
  CallbackReceiver receiver;
  Control control(sim);
  auto api = sim.Client();
  const std::string order_id =
      SubscribeAndCreate(*api, "9900000", receiver.Url(), CsrBody("9195550000"));  // FAILED at 2 s

  // The waiter thread only records what it got: Catch2 assertions are made on
  // this thread (they are not thread-safe).
  int waited_status = 0;
  std::string waited_body;
  std::thread waiter([&] {
    auto client = sim.Client("");
    if (auto result = client->Get("/_sim/callbacks/wait?orderId=" + order_id + "&status=FAILED&timeout=10s")) {
      waited_status = result->status;
      waited_body = result->body;
    }
  });
  control.Advance("2s");
  waiter.join();
  REQUIRE(waited_status == 200);
  const Json waited = Json::parse(waited_body);
  CHECK(waited["status"] == "FAILED");
  CHECK(waited["orderId"] == order_id);

  CHECK(control.Get("/_sim/callbacks/wait?orderId=" + order_id + "&status=COMPLETE&timeout=50ms", 408) ==
        Json{{"error", "no matching callback within 50ms"}});
}

TEST_CASE("health, clock, orders, reset and a forced transition answer over HTTP") {
  SimulatorProcess sim(kManual);
  CallbackReceiver receiver;
  Control control(sim);
  auto api = sim.Client();

  Json health = control.Get("/_sim/health");
  CHECK(health["status"] == "ok");
  CHECK(health["clock"] == "manual");
  CHECK(health["scenarios"] == 6);
  CHECK(control.Get("/_sim/clock")["now"] == "2026-01-01T00:00:00.000Z");

  const std::string order_id =
      SubscribeAndCreate(*api, "9900000", receiver.Url(), CsrBody("9195550002"));  // never completes
  CHECK(control.Get("/_sim/orders?account=9900000")["orders"].size() == 1);

  Json forced =
      control.Post("/_sim/orders/" + order_id + "/transition",
                   R"({"status":"FAILED","errors":[{"code":26500,"description":"CSR is not available for this TN"}]})");
  CHECK(forced["status"] == "FAILED");
  CHECK(NotifiedStatuses(receiver) == std::vector<std::string>{"FAILED"});  // attempted before the answer
  auto fetched = api->Get((kAccount + "/csrs/" + order_id).c_str());
  REQUIRE(fetched);
  CHECK(XmlText(fetched->body, "Code") == "26500");

  CHECK(control.Post("/_sim/reset") == Json{{"reset", "all"}});
  CHECK(control.Get("/_sim/orders")["orders"].empty());
  CHECK(control.Journal().empty());
  CHECK(api->Get((kAccount + "/csrs/" + order_id).c_str())->status == 404);
  control.Post("/_sim/clock/advance", "{by:1s}", 400);
  control.Get("/_sim/nothing-here", 404);
}

TEST_CASE("advancing a real clock is refused with 409") {
  SimulatorProcess sim({"--log-level", "off"});
  Control control(sim);
  CHECK(control.Post("/_sim/clock/advance", R"({"by":"5s"})", 409)["error"] ==
        "the clock is not manual; start with --clock manual");
}

TEST_CASE("a reload with a broken file keeps the old scenarios and names file:line:col") {
  const std::string dir = MakeTempDir();
  const std::string file = WriteFile(dir, "mine.yaml",
                                     "scenarios:\n  - name: instant-fail\n    steps:\n      - after: 1s\n"
                                     "        status: FAILED\n");
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--scenarios", file});
  Control control(sim);
  Json before = control.Get("/_sim/scenarios");
  CHECK(before["scenarios"][0]["name"] == "instant-fail");

  WriteFile(dir, "mine.yaml", "scenarios:\n  - name: broken\n    steps:\n      - after: whenever\n");
  Json error = control.Post("/_sim/scenarios/reload", "", 400);
  CHECK(error["error"].get<std::string>().starts_with(file + ":4:"));
  CHECK(control.Get("/_sim/scenarios") == before);

  auto api = sim.Client();
  const std::string order_id = CreateOrder(*api, "9195550100");
  control.Advance("1s");
  CHECK(control.Get("/_sim/orders/" + order_id)["status"] == "FAILED");

  WriteFile(dir, "mine.yaml",
            "scenarios:\n  - name: renamed\n    steps:\n      - after: 1s\n        status: COMPLETE\n");
  CHECK(control.Post("/_sim/scenarios/reload")["scenarios"][0]["name"] == "renamed");
}

TEST_CASE("API faults: a status for the next call, 429 with X-RateLimit-Reset, latency, a dropped connection") {
  SimulatorProcess sim(kManual);
  Control control(sim);
  auto api = sim.Client();

  control.AddFault(
      R"({"target":"api","account":"9900000","route":"POST /csrs","action":"status","status":503,"count":1})");
  auto failed = api->Post((kAccount + "/csrs").c_str(), CsrBody("9195550100"), "application/xml");
  REQUIRE(failed);
  CHECK(failed->status == 503);
  CreateOrder(*api, "9195550100");  // the count is used up

  control.AddFault(R"({"target":"api","route":"GET /csrs","action":"status","status":429,"count":1})");
  auto limited = api->Get((kAccount + "/csrs").c_str());
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(limited->has_header("X-RateLimit-Reset"));

  control.AddFault(R"({"target":"api","route":"GET /csrs","action":"latency","latencyMs":100,"count":1})");
  auto started = std::chrono::steady_clock::now();
  auto slow = api->Get((kAccount + "/csrs").c_str());
  REQUIRE(slow);
  CHECK(slow->status == 200);
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(100));

  control.AddFault(R"({"target":"api","action":"drop","count":1})");
  auto dropped = api->Get((kAccount + "/csrs").c_str());
  CHECK_FALSE(dropped);
  CHECK(control.Get("/_sim/faults")["faults"].empty());
}

TEST_CASE("callback faults: drop, duplicate, delay, out of order and wrong credentials") {
  SimulatorProcess sim(kManual);
  CallbackReceiver receiver;
  Control control(sim);
  auto api = sim.Client();
  Subscribe(*api, receiver.Url());

  SECTION("drop") {
    control.AddFault(R"({"target":"callback","fault":"drop","count":1})");
    CreateOrder(*api, "9195550000");
    control.Advance("2s");
    CHECK(receiver.Requests().empty());
    Json journal = control.Journal();
    REQUIRE(journal.size() == 1);
    CHECK(journal[0]["fault"] == "drop");
  }
  SECTION("duplicate") {
    control.AddFault(R"({"target":"callback","fault":"duplicate","count":1})");
    CreateOrder(*api, "9195550000");
    control.Advance("2s");
    CHECK(NotifiedStatuses(receiver) == std::vector<std::string>{"FAILED", "FAILED"});
  }
  SECTION("delay") {
    control.AddFault(R"({"target":"callback","fault":"delay","delay":"5s","count":1})");
    CreateOrder(*api, "9195550000");
    control.Advance("2s");
    CHECK(receiver.Requests().empty());
    control.Advance("5s");
    CHECK(NotifiedStatuses(receiver) == std::vector<std::string>{"FAILED"});
  }
  SECTION("out of order") {
    control.AddFault(R"({"target":"callback","fault":"out_of_order","count":1})");
    const std::string order_id = CreateOrder(*api, "9195550002");
    control.Post("/_sim/orders/" + order_id + "/transition", R"({"status":"ACTION_REQUIRED"})");
    CHECK(receiver.Requests().empty());  // held back
    control.Post("/_sim/orders/" + order_id + "/transition", R"({"status":"CANCELLED"})");
    REQUIRE(receiver.WaitForCount(2));
    CHECK(NotifiedStatuses(receiver) == std::vector<std::string>{"CANCELLED", "ACTION_REQUIRED"});
  }
  SECTION("wrong credentials") {
    control.AddFault(R"({"target":"callback","fault":"wrong_credentials","count":1})");
    CreateOrder(*api, "9195550000");
    control.Advance("2s");
    REQUIRE(receiver.Requests().size() == 1);
    CHECK(receiver.Requests()[0].Header("Authorization") != BasicAuthorization("cb-user", "cb-pass"));
    CHECK(control.Journal()[0]["fault"] == "wrong_credentials");
  }
}

TEST_CASE("challenge callback auth set through the control API shows two attempts in the journal") {
  SimulatorProcess sim(kManual);
  CallbackReceiver receiver;
  receiver.SetResponder([](const httplib::Request& request, httplib::Response& response) {
    if (request.has_header("Authorization")) return;
    response.status = 401;
    response.set_header("WWW-Authenticate", "Basic realm=\"receiver\"");
  });
  Control control(sim);
  auto api = sim.Client();
  Subscribe(*api, receiver.Url());
  CHECK(control.Post("/_sim/callbacks/settings", R"({"auth":"challenge"})") == Json{{"auth", "challenge"}});

  CreateOrder(*api, "9195550000");
  control.Advance("2s");
  Json journal = control.Journal();
  REQUIRE(journal.size() == 2);
  CHECK(journal[0]["responseStatus"] == 401);
  CHECK(journal[1]["attempt"] == 2);
  CHECK(journal[1]["responseStatus"] == 200);
}

TEST_CASE("two runs with the same seed produce identical ids and journals") {
  CallbackReceiver receiver;
  auto run = [&receiver] {
    SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--seed", "1234"});
    Control control(sim);
    auto api = sim.Client();
    SubscribeAndCreate(*api, "9900000", receiver.Url(), CsrBody("9195550100"));
    CreateOrder(*api, "9195550000");
    control.Advance("3s");  // FAILED falls due at 2 s, COMPLETE at 3 s: one advance
    Json journal = control.Journal();
    for (auto& entry : journal) entry.erase("wallMicros");
    return std::make_pair(control.Get("/_sim/orders"), journal);
  };
  auto first = run();
  auto second = run();
  CHECK(first.second.size() == 2);
  CHECK(first.first == second.first);
  CHECK(first.second == second.second);
}

TEST_CASE("with --control-token a missing or wrong token and Bandwidth credentials are refused") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--control-token", "t0ken"});
  for (const std::string& authorization : {std::string(), std::string("Bearer nope"), GuideAuthorization()}) {
    auto result = sim.Client(authorization)->Post("/_sim/reset", "", "application/json");
    REQUIRE(result);
    CHECK(result->status == 401);
    CHECK(result->get_header_value("WWW-Authenticate").starts_with("Bearer"));
  }
  Control control(sim, "Bearer t0ken");
  CHECK(control.Get("/_sim/health")["status"] == "ok");
  CreateOrder(*sim.Client(), "9195550100");  // the Bandwidth routes are not affected
}
