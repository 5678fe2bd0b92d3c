// Per-account isolation through real HTTP against the real binary: each
// account's own timeline (POST /_sim/clock/advance with "account") and own
// scenario set (PUT /_sim/accounts/{id}/scenarios), and 8 parallel workers
// sharing one simulator without interfering, 50 times over.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

// A /_sim call that reports what went wrong instead of asserting, so that
// worker threads can use it (Catch2 assertions belong to the main thread).
struct SimAnswer {
  int status = 0;
  Json body;
};

SimAnswer Call(httplib::Client& client, const std::string& method, const std::string& path,
               const std::string& body = "", const std::string& content_type = "application/json") {
  httplib::Result result = method == "GET"      ? client.Get(path.c_str())
                           : method == "PUT"    ? client.Put(path.c_str(), body, content_type.c_str())
                           : method == "DELETE" ? client.Delete(path.c_str())
                                                : client.Post(path.c_str(), body, content_type.c_str());
  if (!result) return {};
  SimAnswer answer{result->status, Json()};
  if (result->get_header_value("Content-Type") == "application/json") answer.body = Json::parse(result->body);
  return answer;
}

// The same, asserting on the main thread.
Json Sim(httplib::Client& client, const std::string& method, const std::string& path, const std::string& body = "",
         int expected = 200) {
  SimAnswer answer = Call(client, method, path, body);
  INFO(method << " " << path << " -> " << answer.status << " " << answer.body.dump());
  REQUIRE(answer.status == expected);
  return answer.body;
}

std::string CreateOrder(httplib::Client& api, const std::string& account, const std::string& tn) {
  auto created = api.Post(("/api/accounts/" + account + "/csrs").c_str(), CsrBody(tn), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

std::vector<std::string> HistoryTimes(const Json& order) {
  std::vector<std::string> times;
  for (const auto& step : order["history"])
    times.push_back(step["status"].get<std::string>() + "@" + step["at"].get<std::string>());
  return times;
}

const std::string kAllFail = R"(scenarios:
  - name: everything-fails
    steps:
      - after: 1s
        status: FAILED
)";

}  // namespace

TEST_CASE("advancing one account's clock runs only its orders, on its own time") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  const std::string mine = CreateOrder(*api, "1111", "9198675309");
  const std::string theirs = CreateOrder(*api, "2222", "9198675309");

  Json clock = Sim(*control, "POST", "/_sim/clock/advance", R"({"by":"5s","account":"1111"})");
  CHECK(clock["now"] == "2026-01-01T00:00:05.000Z");
  CHECK(clock["account"] == "1111");
  CHECK(clock["offset"] == "5s");
  Json order = Sim(*control, "GET", "/_sim/orders/" + mine);
  CHECK(HistoryTimes(order) == std::vector<std::string>{"RECEIVED@2026-01-01T00:00:00.000Z",
                                                        "PROCESSING@2026-01-01T00:00:01.000Z",
                                                        "COMPLETE@2026-01-01T00:00:03.000Z"});
  CHECK(Sim(*control, "GET", "/_sim/orders/" + theirs)["status"] == "RECEIVED");
  CHECK(Sim(*control, "GET", "/_sim/clock")["now"] == "2026-01-01T00:00:00.000Z");
  CHECK(Sim(*control, "GET", "/_sim/clock?account=2222")["now"] == "2026-01-01T00:00:00.000Z");

  // The account's own timestamps: a note, the order's LastModifiedDate, a request.
  auto note = api->Post(("/api/accounts/1111/csrs/" + mine + "/notes").c_str(),
                        "<Note><UserId>me</UserId><Description>hi</Description></Note>", "application/xml");
  REQUIRE(note);
  REQUIRE(note->status == 201);
  CHECK(Sim(*control, "GET", "/_sim/orders/" + mine)["notes"][0]["lastModified"] == "2026-01-01T00:00:05.000Z");
  Json requests = Sim(*control, "GET", "/_sim/requests?route=POST%20/csrs/*/notes")["requests"];
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["receivedAt"] == "2026-01-01T00:00:05.000Z");

  // The global clock moves every timeline.
  Sim(*control, "POST", "/_sim/clock/advance", R"({"by":"1s"})");
  CHECK(Sim(*control, "GET", "/_sim/orders/" + theirs)["status"] == "PROCESSING");
  CHECK(Sim(*control, "GET", "/_sim/clock?account=1111")["now"] == "2026-01-01T00:00:06.000Z");

  // A per-account reset puts the account back on the global time.
  Sim(*control, "POST", "/_sim/reset?account=1111");
  Json reset = Sim(*control, "GET", "/_sim/clock?account=1111");
  CHECK(reset["now"] == "2026-01-01T00:00:01.000Z");
  CHECK(reset["offset"] == "0s");
  CHECK(Sim(*control, "GET", "/_sim/clock?account=2222")["now"] == "2026-01-01T00:00:01.000Z");
  Sim(*control, "POST", "/_sim/clock/advance", R"({"by":"1s","account":""})", 400);
}

TEST_CASE("an account's own scenario set replaces the global one for it alone, until DELETE or reset") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  Json put = Sim(*control, "PUT", "/_sim/accounts/1111/scenarios", kAllFail);
  CHECK(put["own"] == true);
  CHECK(put["scenarios"].size() == 1);
  CHECK(put["scenarios"][0]["name"] == "everything-fails");

  const std::string failing = CreateOrder(*api, "1111", "9198675309");
  const std::string fine = CreateOrder(*api, "2222", "9198675309");
  Sim(*control, "POST", "/_sim/clock/advance", R"({"by":"5s"})");
  CHECK(Sim(*control, "GET", "/_sim/orders/" + failing)["status"] == "FAILED");
  CHECK(Sim(*control, "GET", "/_sim/orders/" + fine)["status"] == "COMPLETE");
  CHECK(Sim(*control, "GET", "/_sim/accounts/2222/scenarios")["own"] == false);

  // Validated like a file: a bad set is refused and the account keeps its own.
  Json refused = Sim(*control, "PUT", "/_sim/accounts/1111/scenarios", "scenarios:\n  - name: x\n    stepz: []\n", 400);
  CHECK(refused["error"].get<std::string>().rfind("PUT body:3:5:", 0) == 0);
  CHECK(Sim(*control, "GET", "/_sim/accounts/1111/scenarios")["scenarios"][0]["name"] == "everything-fails");
  Sim(*control, "PUT", "/_sim/accounts/1111/scenarios", "", 400);

  // JSON works too.
  Json json = Sim(*control, "PUT", "/_sim/accounts/1111/scenarios",
                  R"({"scenarios":[{"name":"slow","steps":[{"after":"1h","status":"COMPLETE","csr":"generated"}]}]})");
  CHECK(json["scenarios"][0]["name"] == "slow");

  CHECK(Sim(*control, "DELETE", "/_sim/accounts/1111/scenarios")["own"] == false);
  CHECK(Sim(*control, "GET", "/_sim/accounts/1111/scenarios")["default"] == "generated-complete");
  Sim(*control, "PUT", "/_sim/accounts/1111/scenarios", kAllFail);
  Sim(*control, "POST", "/_sim/reset?account=1111");
  CHECK(Sim(*control, "GET", "/_sim/accounts/1111/scenarios")["own"] == false);
}

namespace {

// One worker of the parallel test: its own account, scenario set, clock and
// receiver. Returns what went wrong (empty: nothing).
class Worker {
 public:
  Worker(const SimulatorProcess& sim, int index)
      : index_(index), account_("77000" + std::to_string(index)), api_(sim.Client()), control_(sim.Client("")) {
    // Worker i: PROCESSING at i+1 s, then 1 s later COMPLETE (even i) or FAILED (odd i).
    const std::string processing_after = std::to_string(index + 1) + "s";
    final_status_ = index % 2 == 0 ? "COMPLETE" : "FAILED";
    scenarios_ = index % 2 == 0
                     ? "scenarios:\n  - name: worker-" + std::to_string(index) +
                           "\n    steps:\n      - after: " + processing_after +
                           "\n        status: PROCESSING\n      - after: 1s\n        status: COMPLETE\n"
                           "        csr: generated\n"
                     : R"({"scenarios":[{"name":"worker-)" + std::to_string(index) + R"(","steps":[{"after":")" +
                           processing_after + R"(","status":"PROCESSING"},{"after":"1s","status":"FAILED"}]}]})";
  }

  std::vector<std::string> RunRound(int round) {
    failures_.clear();
    const std::string tn = "91955" + std::to_string(10000 + index_ * 100 + round % 100);
    Expect(Call(*control_, "POST", "/_sim/reset?account=" + account_).status == 200, "reset");
    SimAnswer put = Call(*control_, "PUT", "/_sim/accounts/" + account_ + "/scenarios", scenarios_, "application/yaml");
    Expect(put.status == 200, "PUT scenarios: " + put.body.dump());
    const std::string base = "/api/accounts/" + account_;
    auto subscribed =
        api_->Post((base + "/subscriptions").c_str(), SubscriptionRequest(receiver_.Url()).Xml(), "application/xml");
    Expect(subscribed && subscribed->status == 201, "subscribe");
    auto created = api_->Post((base + "/csrs").c_str(), CsrBody(tn), "application/xml");
    if (!Expect(created && created->status == 200, "create")) return failures_;
    const std::string order = XmlText(created->body, "OrderId").value_or("");

    Advance(std::to_string(index_ + 1) + "s");
    auto got = api_->Get((base + "/csrs/" + order).c_str());
    Expect(got && XmlText(got->body, "Status") == "PROCESSING", "PROCESSING after " + std::to_string(index_ + 1) + "s");
    Advance("1s");

    // The order, on this account's own time.
    SimAnswer state = Call(*control_, "GET", "/_sim/orders/" + order);
    const std::string t1 = "2026-01-01T00:00:0" + std::to_string(index_ + 1) + ".000Z";
    const std::string t2 = "2026-01-01T00:00:0" + std::to_string(index_ + 2) + ".000Z";
    const std::vector<std::string> history{"RECEIVED@2026-01-01T00:00:00.000Z", "PROCESSING@" + t1,
                                           final_status_ + "@" + t2};
    Expect(state.status == 200 && HistoryTimes(state.body) == history, "history " + state.body["history"].dump());
    Expect(state.body["scenario"] == "worker-" + std::to_string(index_), "scenario");

    // Exactly one callback, at the final status's time, received by this worker's receiver alone.
    SimAnswer callbacks = Call(*control_, "GET", "/_sim/callbacks?account=" + account_);
    const Json& entries = callbacks.body["entries"];
    Expect(entries.size() == 1 && entries[0]["status"] == final_status_ && entries[0]["sentAt"] == t2 &&
               entries[0]["responseStatus"] == 200,
           "callbacks " + entries.dump());
    std::size_t delivered = 0;
    for (const auto& received : receiver_.Requests()) {
      Expect(XmlText(received.body, "OrderId").has_value(), "a callback without an order");
      if (XmlText(received.body, "OrderId") == order) {
        ++delivered;
        Expect(XmlText(received.body, "Status") == final_status_, "received status");
      }
    }
    Expect(delivered == 1, "received " + std::to_string(delivered) + " callbacks for the order");
    Expect(receiver_.Requests().size() == static_cast<std::size_t>(round + 1), "receiver total");

    // Exactly this worker's requests, in order, on its own time.
    SimAnswer requests = Call(*control_, "GET", "/_sim/requests?account=" + account_);
    std::vector<std::string> seen;
    for (const auto& request : requests.body["requests"]) {
      seen.push_back(request["route"].get<std::string>() + " " + std::to_string(request["status"].get<int>()) + " " +
                     request["receivedAt"].get<std::string>());
    }
    const std::vector<std::string> expected{"POST /subscriptions 201 2026-01-01T00:00:00.000Z",
                                            "POST /csrs 200 2026-01-01T00:00:00.000Z", "GET /csrs/* 200 " + t1};
    Expect(seen == expected, "requests " + Json(seen).dump());
    return failures_;
  }

 private:
  bool Expect(bool ok, const std::string& what) {
    if (!ok) failures_.push_back(account_ + ": " + what);
    return ok;
  }
  void Advance(const std::string& by) {
    SimAnswer answer =
        Call(*control_, "POST", "/_sim/clock/advance", R"({"by":")" + by + R"(","account":")" + account_ + "\"}");
    Expect(answer.status == 200 && answer.body["account"] == account_, "advance " + by);
  }

  int index_;
  std::string account_;
  std::string final_status_;
  std::string scenarios_;
  std::unique_ptr<httplib::Client> api_;
  std::unique_ptr<httplib::Client> control_;
  CallbackReceiver receiver_;
  std::vector<std::string> failures_;
};

}  // namespace

TEST_CASE("8 parallel workers on one simulator, each with its own account, scenarios and clock, 50 rounds") {
  constexpr int kWorkers = 8;
  constexpr int kRounds = 50;
  SimulatorProcess sim(kManual);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < kWorkers; ++i) workers.push_back(std::make_unique<Worker>(sim, i));
  std::vector<std::vector<std::string>> failures(kWorkers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWorkers; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < kRounds && failures[i].empty(); ++round) {
        for (auto& failure : workers[i]->RunRound(round))
          failures[i].push_back("round " + std::to_string(round) + ": " + failure);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int i = 0; i < kWorkers; ++i) {
    INFO("worker " << i);
    CHECK(failures[i] == std::vector<std::string>{});
  }
  // Nobody moved the global clock.
  auto control = sim.Client("");
  CHECK(Sim(*control, "GET", "/_sim/clock")["now"] == "2026-01-01T00:00:00.000Z");
}
