// Durable state (--state FILE, README.md "Durable state") beyond orders and
// subscriptions, against the real binary restarted on the same file: fault
// rules (with what is left of their counts), callback settings, per-account
// timeline offsets and scenario sets, and the id sequence under --seed.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

const std::string kAccount = "/api/accounts/9900000";

std::vector<std::string> StateArgs(const std::string& file, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--clock", "manual", "--log-level", "off", "--state", file};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

Json Control(const SimulatorProcess& sim, const std::string& method, const std::string& path,
             const std::string& body = "") {
  auto client = sim.Client("");
  httplib::Result response = method == "GET"      ? client->Get(path.c_str())
                             : method == "PUT"    ? client->Put(path.c_str(), body, "application/json")
                             : method == "DELETE" ? client->Delete(path.c_str())
                                                  : client->Post(path.c_str(), body, "application/json");
  REQUIRE(response);
  INFO(method << " " << path << " -> " << response->status << " " << response->body);
  REQUIRE(response->status / 100 == 2);
  return Json::parse(response->body);
}

int CreateStatus(const SimulatorProcess& sim, const std::string& tn = "9198675309") {
  auto created = sim.Client()->Post((kAccount + "/csrs").c_str(), CsrBody(tn), "application/xml");
  REQUIRE(created);
  return created->status;
}

std::string CreateOrder(const SimulatorProcess& sim, const std::string& tn = "9198675309") {
  auto created = sim.Client()->Post((kAccount + "/csrs").c_str(), CsrBody(tn), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

}  // namespace

TEST_CASE("fault rules survive a restart with what is left of their counts, and ids are not reused") {
  const std::string file = MakeTempDir() + "/state.db";
  std::string counted, forever;
  {
    SimulatorProcess sim(StateArgs(file));
    counted = Control(sim, "POST", "/_sim/faults",
                      R"({"target":"api","route":"POST /csrs","action":"status","status":503,"count":3})")["id"];
    forever = Control(sim, "POST", "/_sim/faults", R"({"target":"callback","account":"9900000","fault":"drop"})")["id"];
    CHECK(CreateStatus(sim) == 503);  // one of three used
    REQUIRE(sim.Stop(9) == 128 + 9);  // a crash: nothing is written on the way out
  }
  SimulatorProcess sim(StateArgs(file));
  const Json faults = Control(sim, "GET", "/_sim/faults")["faults"];
  REQUIRE(faults.size() == 2);
  CHECK(faults[0]["id"] == counted);
  CHECK(faults[0]["remaining"] == 2);
  CHECK(faults[0]["status"] == 503);
  CHECK(faults[1]["id"] == forever);
  CHECK(faults[1]["fault"] == "drop");
  CHECK(faults[1]["account"] == "9900000");
  CHECK(CreateStatus(sim) == 503);
  CHECK(CreateStatus(sim) == 503);
  CHECK(CreateStatus(sim) == 200);  // used up, and gone
  CHECK(Control(sim, "GET", "/_sim/faults")["faults"].size() == 1);
  const std::string added =
      Control(sim, "POST", "/_sim/faults", R"({"target":"api","action":"latency","latencyMs":1})")["id"];
  CHECK(added != counted);
  CHECK(added != forever);
  // Removing and clearing are kept too.
  Control(sim, "DELETE", "/_sim/faults");
  REQUIRE(sim.Stop() == 0);
  SimulatorProcess again(StateArgs(file));
  CHECK(Control(again, "GET", "/_sim/faults")["faults"].empty());
}

TEST_CASE("callback settings survive a restart") {
  const std::string file = MakeTempDir() + "/state.db";
  CallbackReceiver receiver;
  receiver.SetStatus(500);
  {
    SimulatorProcess sim(StateArgs(file));
    Control(sim, "POST", "/_sim/callbacks/settings", R"({"auth":"challenge","attempts":2,"backoff":"1s"})");
    auto subscribed = sim.Client()->Post((kAccount + "/subscriptions").c_str(),
                                         SubscriptionRequest(receiver.Url()).Xml(), "application/xml");
    REQUIRE(subscribed);
    REQUIRE(subscribed->status == 201);
    REQUIRE(sim.Stop(9) == 128 + 9);
  }
  SimulatorProcess sim(StateArgs(file));
  const std::string order = CreateOrder(sim);  // COMPLETE (with a callback) at 3 s
  REQUIRE(AdvanceClock(sim, "3s"));
  REQUIRE(AdvanceClock(sim, "1s"));  // the retry, 1 s later
  const Json entries = Control(sim, "GET", "/_sim/callbacks?orderId=" + order)["entries"];
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["attempt"] == 1);
  CHECK(entries[1]["attempt"] == 2);
  // Challenge mode: the first POST of a delivery goes without credentials.
  REQUIRE(receiver.WaitForCount(2));
  CHECK_FALSE(receiver.Requests()[0].Header("Authorization"));
}

TEST_CASE("per-account timeline offsets and scenario sets survive a restart; reset drops them from the file") {
  const std::string file = MakeTempDir() + "/state.db";
  const std::string own_set = "scenarios:\n  - name: mine\n    steps:\n      - after: 5s\n        status: FAILED\n";
  std::string clock_before;
  {
    SimulatorProcess sim(StateArgs(file));
    Control(sim, "POST", "/_sim/clock/advance", R"({"by":"1h","account":"9900001"})");
    clock_before = Control(sim, "GET", "/_sim/clock?account=9900001").dump();
    auto put = sim.Client("")->Put("/_sim/accounts/9900002/scenarios", own_set, "application/yaml");
    REQUIRE(put);
    REQUIRE(put->status == 200);
    REQUIRE(sim.Stop(9) == 128 + 9);
  }
  {
    SimulatorProcess sim(StateArgs(file));
    const Json clock = Control(sim, "GET", "/_sim/clock?account=9900001");
    CHECK(clock.dump() == clock_before);
    CHECK(clock["offset"] == "3600s");
    const Json scenarios = Control(sim, "GET", "/_sim/accounts/9900002/scenarios");
    CHECK(scenarios["own"] == true);
    REQUIRE(scenarios["scenarios"].size() == 1);
    CHECK(scenarios["scenarios"][0]["name"] == "mine");
    // The account's new orders run its own set: FAILED after 5 s.
    auto created = sim.Client()->Post("/api/accounts/9900002/csrs", CsrBody("9198675309"), "application/xml");
    REQUIRE(created);
    REQUIRE(created->status == 200);
    CHECK(XmlText(created->body, "Status") == "RECEIVED");
    REQUIRE(AdvanceClock(sim, "5s"));
    auto order =
        sim.Client()->Get(("/api/accounts/9900002/csrs/" + XmlText(created->body, "OrderId").value_or("")).c_str());
    REQUIRE(order);
    CHECK(XmlText(order->body, "Status") == "FAILED");
    Control(sim, "POST", "/_sim/reset", R"({"account":"9900001"})");
    Control(sim, "DELETE", "/_sim/accounts/9900002/scenarios");
    REQUIRE(sim.Stop() == 0);
  }
  SimulatorProcess sim(StateArgs(file));
  CHECK(Control(sim, "GET", "/_sim/clock?account=9900001")["offset"] == "0s");
  CHECK(Control(sim, "GET", "/_sim/accounts/9900002/scenarios")["own"] == false);
}

TEST_CASE("under --seed, ids after a restart continue the uninterrupted run's sequence") {
  const std::vector<std::string> seed = {"--seed", "42"};
  std::vector<std::string> uninterrupted;
  {
    SimulatorProcess sim(StateArgs(MakeTempDir() + "/state.db", seed));
    for (int i = 0; i < 4; ++i) uninterrupted.push_back(CreateOrder(sim));
  }
  const std::string file = MakeTempDir() + "/state.db";
  std::vector<std::string> restarted;
  {
    SimulatorProcess sim(StateArgs(file, seed));
    restarted.push_back(CreateOrder(sim));
    restarted.push_back(CreateOrder(sim));
    REQUIRE(sim.Stop(9) == 128 + 9);
  }
  {
    SimulatorProcess sim(StateArgs(file, seed));
    restarted.push_back(CreateOrder(sim));
    REQUIRE(sim.Stop() == 0);
  }
  SimulatorProcess sim(StateArgs(file, seed));
  restarted.push_back(CreateOrder(sim));
  CHECK(restarted == uninterrupted);
  CHECK(XmlText(sim.Client()->Get((kAccount + "/csrs").c_str())->body, "TotalCount") == "4");
}
