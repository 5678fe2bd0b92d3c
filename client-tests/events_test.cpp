// The event stream (GET /_sim/events) through real HTTP against the real
// binary, as a test suite or the dashboard reads it: one event per change,
// the account filter, Last-Event-ID resume, a stalled client dropped without
// holding anyone back, and streams ending cleanly on SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

constexpr auto kWait = std::chrono::seconds(10);

// A create body for `tn` with CustomerOrderId co-TN.
std::string CsrBodyWithOrderId(const std::string& tn) {
  return "<Csr><CustomerOrderId>co-" + tn + "</CustomerOrderId><WorkingOrBillingTelephoneNumber>" + tn +
         "</WorkingOrBillingTelephoneNumber></Csr>";
}

std::string CreateOrder(httplib::Client& api, const std::string& account, const std::string& tn) {
  auto created = api.Post(("/api/accounts/" + account + "/csrs").c_str(), CsrBodyWithOrderId(tn), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

// Reads one text/event-stream on its own thread and keeps every event.
class EventStream {
 public:
  struct Event {
    std::optional<std::uint64_t> id;
    Json data;
  };

  EventStream(const SimulatorProcess& sim, const std::string& target, httplib::Headers headers = {})
      : client_(sim.Client("")) {
    thread_ = std::thread([this, target, headers] {
      auto result = client_->Get(
          target.c_str(), headers,
          [this](const httplib::Response& response) {
            std::lock_guard lock(mu_);
            status_ = response.status;
            content_type_ = response.get_header_value("Content-Type");
            return true;
          },
          [this](const char* data, std::size_t length) {
            Feed(std::string_view(data, length));
            return true;
          });
      std::lock_guard lock(mu_);
      if (result && status_ == 0) status_ = result->status;
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~EventStream() {
    client_->stop();
    thread_.join();
  }

  // Waits until an event (a data line) satisfying `match` arrived; returns it.
  std::optional<Event> WaitFor(const std::function<bool(const Json&)>& match) {
    std::unique_lock lock(mu_);
    std::optional<Event> found;
    changed_.wait_for(lock, kWait, [&] {
      for (const auto& event : events_) {
        if (match(event.data)) {
          found = event;
          return true;
        }
      }
      return ended_;
    });
    return found;
  }
  std::optional<Event> WaitForType(const std::string& type) {
    return WaitFor([&type](const Json& event) { return event.value("type", "") == type; });
  }
  bool WaitForEnd() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kWait, [this] { return ended_; });
  }
  std::vector<Event> Events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  std::string ContentType() const {
    std::lock_guard lock(mu_);
    return content_type_;
  }

 private:
  void Feed(std::string_view bytes) {
    std::lock_guard lock(mu_);
    buffer_ += bytes;
    for (std::size_t end; (end = buffer_.find("\n\n")) != std::string::npos; buffer_.erase(0, end + 2)) {
      Event event;
      std::string data;
      std::string_view block(buffer_.data(), end);
      while (!block.empty()) {
        auto line = block.substr(0, block.find('\n'));
        block.remove_prefix(std::min(block.size(), line.size() + 1));
        if (line.rfind("id: ", 0) == 0) event.id = std::stoull(std::string(line.substr(4)));
        if (line.rfind("data: ", 0) == 0) data += line.substr(6);
      }
      if (data.empty()) continue;  // a comment (heartbeat) or the retry line
      event.data = Json::parse(data);
      events_.push_back(std::move(event));
    }
    changed_.notify_all();
  }

  std::unique_ptr<httplib::Client> client_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::string buffer_;         // guarded by mu_
  std::vector<Event> events_;  // guarded by mu_
  int status_ = 0;             // guarded by mu_
  std::string content_type_;   // guarded by mu_
  bool ended_ = false;         // guarded by mu_
};

auto OfOrder(const std::string& type, const std::string& order_id, const std::string& status = "") {
  return [=](const Json& event) {
    return event.value("type", "") == type && event.value("orderId", "") == order_id &&
           (status.empty() || event.value("status", "") == status);
  };
}

}  // namespace

TEST_CASE("event stream: orders, transitions with their cause, notes, subscriptions, callbacks and the clock") {
  SimulatorProcess sim(kManual);
  CallbackReceiver receiver;
  EventStream stream(sim, "/_sim/events");
  REQUIRE(stream.WaitForType("stream.open"));
  CHECK(stream.ContentType() == "text/event-stream");
  auto api = sim.Client();

  std::string order_id = SubscribeAndCreate(*api, "9900000", receiver.Url(), CsrBodyWithOrderId("9198675309"));
  REQUIRE(api->Post(("/api/accounts/9900000/csrs/" + order_id + "/notes").c_str(),
                    "<Note><UserId>demo</UserId><Description>hello</Description></Note>", "application/xml")
              ->status == 201);
  REQUIRE(AdvanceClock(sim, "5s"));

  auto subscription = stream.WaitForType("subscription.created");
  REQUIRE(subscription);
  CHECK(subscription->data["url"] == receiver.Url());
  CHECK(subscription->data["account"] == "9900000");
  auto created = stream.WaitFor(OfOrder("order.created", order_id));
  REQUIRE(created);
  CHECK(created->data["tn"] == "9198675309");
  CHECK(created->data["customerOrderId"] == "co-9198675309");
  CHECK(created->data["status"] == "RECEIVED");
  CHECK(created->data["at"] == "2026-01-01T00:00:00.000Z");
  auto note = stream.WaitFor(OfOrder("note.added", order_id));
  REQUIRE(note);
  CHECK(note->data["description"] == "hello");
  auto complete = stream.WaitFor(OfOrder("order.transition", order_id, "COMPLETE"));
  REQUIRE(complete);
  CHECK(complete->data["cause"] == "step 2");
  CHECK(complete->data["at"] == "2026-01-01T00:00:03.000Z");
  auto callback = stream.WaitFor([&](const Json& event) {
    return event.value("type", "") == "callback.attempted" && event.value("status", "") == "COMPLETE";
  });
  REQUIRE(callback);
  CHECK(callback->data["responseStatus"] == 200);
  CHECK(callback->data["url"] == receiver.Url());
  CHECK(callback->data["latencyMicros"].get<long long>() > 0);
  REQUIRE(stream.WaitForType("clock.advanced"));

  // Ids rise by one, in publish order.
  std::uint64_t previous = 0;
  for (const auto& event : stream.Events()) {
    if (!event.id) continue;
    CHECK(*event.id == previous + 1);
    CHECK(event.data["id"] == *event.id);
    previous = *event.id;
  }
}

TEST_CASE("event stream: a 26500 failure carries its error, and a refused connection shows in the callback event") {
  SimulatorProcess sim(kManual);
  int closed_port = 0;
  {
    CallbackReceiver gone;  // bound, then stopped: nothing listens on its port
    closed_port = gone.port();
  }
  EventStream stream(sim, "/_sim/events");
  REQUIRE(stream.WaitForType("stream.open"));
  auto api = sim.Client();
  std::string url = "http://127.0.0.1:" + std::to_string(closed_port) + "/callbacks";
  std::string order_id = SubscribeAndCreate(*api, "9900000", url, CsrBodyWithOrderId("9198670000"));
  REQUIRE(AdvanceClock(sim, "5s"));
  auto failed = stream.WaitFor(OfOrder("order.transition", order_id, "FAILED"));
  REQUIRE(failed);
  REQUIRE(failed->data["errors"].size() == 1);
  CHECK(failed->data["errors"][0]["code"] == 26500);
  CHECK(failed->data["errors"][0]["description"] == "CSR is not available for this TN");
  auto attempt = stream.WaitFor(OfOrder("callback.attempted", order_id, "FAILED"));
  REQUIRE(attempt);
  CHECK(attempt->data["responseStatus"].is_null());
  CHECK_FALSE(attempt->data["error"].get<std::string>().empty());
  CHECK(attempt->data["succeeded"] == false);
}

TEST_CASE("event stream: ?account= keeps one account's events and the global ones") {
  SimulatorProcess sim(kManual);
  EventStream mine(sim, "/_sim/events?account=9900000");
  REQUIRE(mine.WaitForType("stream.open"));
  auto api = sim.Client();
  std::string other = CreateOrder(*api, "9900001", "9198675309");
  std::string own = CreateOrder(*api, "9900000", "9198675309");
  REQUIRE(AdvanceClock(sim, "1s"));
  REQUIRE(mine.WaitForType("clock.advanced"));
  REQUIRE(mine.WaitFor(OfOrder("order.created", own)));
  for (const auto& event : mine.Events()) {
    CHECK(event.data.value("orderId", "") != other);
    if (event.data.contains("account")) CHECK(event.data["account"] == "9900000");
  }
  EventStream bad(sim, "/_sim/events?acount=9900000");
  CHECK(bad.WaitForEnd());
}

TEST_CASE("event stream: Last-Event-ID resumes after the last event seen, from the header or the query") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  std::uint64_t seen = 0;
  std::string missed;
  {
    EventStream first(sim, "/_sim/events");
    REQUIRE(first.WaitForType("stream.open"));
    std::string order_id = CreateOrder(*api, "9900000", "9198675309");
    auto created = first.WaitFor(OfOrder("order.created", order_id));
    REQUIRE(created);
    seen = *created->id;
  }
  missed = CreateOrder(*api, "9900000", "9198670001");  // while no one listens

  for (const auto& [target, headers] : std::vector<std::pair<std::string, httplib::Headers>>{
           {"/_sim/events", {{"Last-Event-ID", std::to_string(seen)}}},
           {"/_sim/events?lastEventId=" + std::to_string(seen), {}}}) {
    EventStream resumed(sim, target, headers);
    auto replayed = resumed.WaitFor(OfOrder("order.created", missed));
    REQUIRE(replayed);
    CHECK(*replayed->id == seen + 1);
    for (const auto& event : resumed.Events()) {
      if (event.id) CHECK(*event.id > seen);
      CHECK(event.data["type"] != "events.lost");
    }
  }
}

TEST_CASE("event stream: a stalled client is dropped while the API and the other streams keep going") {
  SimulatorProcess sim(kManual);
  EventStream healthy(sim, "/_sim/events");
  REQUIRE(healthy.WaitForType("stream.open"));

  // A client that asks for the stream and never reads, with a tiny window.
  int stalled = socket(AF_INET, SOCK_STREAM, 0);
  int small = 1024;
  setsockopt(stalled, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(sim.port()));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  REQUIRE(connect(stalled, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  const std::string request = "GET /_sim/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  REQUIRE(send(stalled, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));

  auto api = sim.Client();
  auto control = sim.Client("");
  // The server cuts a stalled stream off in one of two ways, whichever comes
  // first: the bus drops it once it is a whole ring (10,000 events) behind, or
  // a write to it times out (httplib's 5 s). Either way only the healthy
  // stream stays open.
  auto cut_off = [&control] {
    auto health = control->Get("/_sim/health");
    return health && Json::parse(health->body).value("eventStreams", -1) == 1;
  };
  std::string last;
  int created = 0;
  // Bounded in count; on a fast machine the ring overflows first, on a slow one the write timeout.
  while (created < 40000 && !(created % 500 == 0 && created > 0 && cut_off())) {
    last = CreateOrder(*api, "9900000", "9198675309");
    ++created;
  }
  INFO("orders created before the cut-off: " << created);
  CHECK(cut_off());
  CHECK(healthy.WaitFor(OfOrder("order.created", last)));
  CHECK(healthy.Events().back().data["type"] != "stream.dropped");
  close(stalled);
}

TEST_CASE("event stream: SIGTERM ends every stream cleanly") {
  SimulatorProcess sim(kManual);
  EventStream stream(sim, "/_sim/events");
  REQUIRE(stream.WaitForType("stream.open"));
  CHECK(sim.Stop() == 0);
  REQUIRE(stream.WaitForEnd());
  auto events = stream.Events();
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().data["type"] == "stream.end");
}

TEST_CASE("event stream: with --control-token it needs the token but the dashboard page does not") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--control-token", "s3cret"});
  auto anonymous = sim.Client("");
  auto refused = anonymous->Get("/_sim/events");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  auto page = anonymous->Get("/_sim/ui");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
  EventStream stream(sim, "/_sim/events", {{"Authorization", "Bearer s3cret"}});
  CHECK(stream.WaitForType("stream.open"));
}
