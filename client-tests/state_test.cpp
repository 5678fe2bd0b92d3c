// Durable state (--state FILE, README.md "Durable state") against the real
// binary: what a run acknowledged is there after a restart, and orders carry
// on from where they stopped once the restored manual clock moves.
#include <sys/stat.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccount = "/api/accounts/9900000";

std::string CreateOrder(httplib::Client& api, const std::string& tn) {
  auto created = api.Post((kAccount + "/csrs").c_str(), CsrBody(tn), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  auto order_id = XmlText(created->body, "OrderId");
  REQUIRE(order_id);
  return *order_id;
}

std::string Get(httplib::Client& api, const std::string& path) {
  auto response = api.Get(path.c_str());
  REQUIRE(response);
  REQUIRE(response->status < 300);  // 204 for an order without notes
  return response->body;
}

// `body` with the simulator's own address (in list links) made port-independent.
std::string WithoutPort(std::string body, int port) {
  const std::string address = "127.0.0.1:" + std::to_string(port);
  for (auto at = body.find(address); at != std::string::npos; at = body.find(address, at)) {
    body.replace(at, address.size(), "SIMULATOR");
  }
  return body;
}

std::vector<std::string> StateArgs(const std::string& file) {
  return {"--clock", "manual", "--log-level", "off", "--state", file};
}

}  // namespace

TEST_CASE("orders, notes, PIN updates, subscriptions and the manual clock survive a restart") {
  const std::string file = MakeTempDir() + "/state.db";
  CallbackReceiver receiver;
  std::string guide, pin, stuck, cancelled, subscription;
  std::map<std::string, std::string> before;  // path → body
  std::string clock_before;
  {
    SimulatorProcess sim(StateArgs(file));
    auto api = sim.Client();
    auto created =
        api->Post((kAccount + "/subscriptions").c_str(), SubscriptionRequest(receiver.Url()).Xml(), "application/xml");
    REQUIRE(created);
    REQUIRE(created->status == 201);
    subscription = LocationId(created);
    guide = CreateOrder(*api, "9198675309");  // PROCESSING at 1 s, COMPLETE at 3 s
    pin = CreateOrder(*api, "9195550001");    // ACTION_REQUIRED at 2 s, COMPLETE 2 s after the PIN
    stuck = CreateOrder(*api, "9195550002");  // PROCESSING at 1 s, then nothing
    cancelled = CreateOrder(*api, "9195551234");
    REQUIRE(AdvanceClock(sim, "2s"));
    auto pin_update =
        api->Put((kAccount + "/csrs/" + pin).c_str(), "<Csr><EndUserPIN>1234</EndUserPIN></Csr>", "application/xml");
    REQUIRE(pin_update);
    REQUIRE(pin_update->status == 200);
    auto cancel = api->Put((kAccount + "/csrs/" + cancelled).c_str(), "<Csr><Status>REQUESTED_CANCEL</Status></Csr>",
                           "application/xml");
    REQUIRE(cancel);
    REQUIRE(cancel->status == 200);
    auto note =
        api->Post((kAccount + "/csrs/" + stuck + "/notes").c_str(),
                  "<Note><UserId>me</UserId><Description>still waiting</Description></Note>", "application/xml");
    REQUIRE(note);
    REQUIRE(note->status < 300);
    for (const auto& id : {guide, pin, stuck, cancelled}) {
      before[kAccount + "/csrs/" + id] = Get(*api, kAccount + "/csrs/" + id);
      before[kAccount + "/csrs/" + id + "/notes"] = Get(*api, kAccount + "/csrs/" + id + "/notes");
    }
    before[kAccount + "/subscriptions"] = Get(*api, kAccount + "/subscriptions");
    before[kAccount + "/csrs"] = WithoutPort(Get(*api, kAccount + "/csrs"), sim.port());
    clock_before = nlohmann::json::parse(Get(*sim.Client(""), "/_sim/clock")).dump();
    REQUIRE(sim.Stop() == 0);
  }
  CHECK(XmlText(before[kAccount + "/csrs/" + guide], "Status") == "PROCESSING");
  CHECK(XmlText(before[kAccount + "/csrs/" + pin], "Status") == "PROCESSING");  // resumed by the PIN
  CHECK(XmlText(before[kAccount + "/csrs/" + cancelled], "Status") == "CANCELLED");

  SimulatorProcess sim(StateArgs(file));
  auto api = sim.Client();
  for (const auto& [path, body] : before) {
    INFO(path);
    CHECK(WithoutPort(Get(*api, path), sim.port()) == body);
  }
  CHECK(nlohmann::json::parse(Get(*sim.Client(""), "/_sim/clock")).dump() == clock_before);

  // The pending steps run at their stored due times on the restored clock.
  const std::size_t delivered = receiver.Requests().size();
  REQUIRE(AdvanceClock(sim, "2s"));
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + guide), "Status") == "COMPLETE");
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + guide), "CustomerName") == "House of Mouse");
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + pin), "Status") == "COMPLETE");
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + stuck), "Status") == "PROCESSING");
  // Both COMPLETE notifications went to the restored subscription.
  CHECK(receiver.WaitForCount(delivered + 2));

  // A new note gets an id of its own, not one the first run handed out.
  auto note = api->Post((kAccount + "/csrs/" + stuck + "/notes").c_str(),
                        "<Note><UserId>me</UserId><Description>again</Description></Note>", "application/xml");
  REQUIRE(note);
  const std::string notes = Get(*api, kAccount + "/csrs/" + stuck + "/notes");
  CHECK(XmlCount(notes, "Note") == 2);
  CHECK(XmlText(notes, "Id") != XmlText(notes.substr(notes.find("</Note>")), "Id"));
}

TEST_CASE("POST /_sim/reset empties the state file too") {
  const std::string file = MakeTempDir() + "/state.db";
  std::string order;
  {
    SimulatorProcess sim(StateArgs(file));
    auto api = sim.Client();
    order = CreateOrder(*api, "9198675309");
    auto reset = sim.Client("")->Post("/_sim/reset", "", "application/json");
    REQUIRE(reset);
    REQUIRE(reset->status < 300);
    CreateOrder(*api, "9195551234");
    REQUIRE(sim.Stop() == 0);
  }
  SimulatorProcess sim(StateArgs(file));
  auto api = sim.Client();
  auto gone = api->Get((kAccount + "/csrs/" + order).c_str());
  REQUIRE(gone);
  CHECK(gone->status == 404);
  CHECK(XmlText(Get(*api, kAccount + "/csrs"), "TotalCount") == "1");
}

// ---- bad state files: one line naming the file, exit 2

TEST_CASE("a --state file that is not a database gives one line and exit 2") {
  const std::string file = WriteFile(MakeTempDir(), "state.db", "these are my notes, not a database\n");
  auto result = RunBinary({"--port", "0", "--state", file});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "csr-simulator: --state: '" + file + "' is not a csr-simulator state file (not a SQLite database)\n");
}

TEST_CASE("a --state file in use by a running simulator is refused with exit 2") {
  const std::string file = MakeTempDir() + "/state.db";
  SimulatorProcess first(StateArgs(file));
  auto second = RunBinary({"--port", "0", "--log-level", "off", "--state", file});
  CHECK(second.exit_code == 2);
  CHECK(second.err ==
        "csr-simulator: --state: '" + file + "' is in use by another csr-simulator (the file is locked)\n");
  // The first one still owns it and keeps serving.
  CHECK(first.Client()->Post((kAccount + "/csrs").c_str(), CsrBody("9198675309"), "application/xml")->status == 200);
  auto dump = RunBinary({"state", "dump", file});
  CHECK(dump.exit_code == 2);
  CHECK(dump.err.find("in use by another csr-simulator") != std::string::npos);
}

TEST_CASE("a --state file in a directory that cannot be written gives one line and exit 2") {
  // root writes through permission bits, so as root a read-only file system stands in.
  std::string file = "/proc/csrsim-state.db";
  std::string dir;
  if (::geteuid() != 0) {
    dir = MakeTempDir() + "/read-only";
    REQUIRE(::mkdir(dir.c_str(), 0555) == 0);
    file = dir + "/state.db";
  }
  auto result = RunBinary({"--port", "0", "--state", file});
  CHECK(result.exit_code == 2);
  CHECK(result.err.rfind("csr-simulator: --state: ", 0) == 0);
  CHECK(result.err.find("'" + file + "'") != std::string::npos);
  CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  if (!dir.empty()) ::chmod(dir.c_str(), 0755);  // so the temp dir can be removed
}

TEST_CASE("a --state file whose directory does not exist gives one line and exit 2") {
  const std::string file = MakeTempDir() + "/missing/state.db";
  auto result = RunBinary({"--port", "0", "--state", file});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "csr-simulator: --state: directory of '" + file + "' does not exist\n");
}

// ---- state dump

TEST_CASE("state dump prints the file's orders, steps and subscriptions as JSON") {
  const std::string file = MakeTempDir() + "/state.db";
  CallbackReceiver receiver;
  std::string guide, pin;
  {
    SimulatorProcess sim(StateArgs(file));
    auto api = sim.Client();
    REQUIRE(
        api->Post((kAccount + "/subscriptions").c_str(), SubscriptionRequest(receiver.Url()).Xml(), "application/xml")
            ->status == 201);
    guide = CreateOrder(*api, "9198675309");
    pin = CreateOrder(*api, "9195550001");
    REQUIRE(AdvanceClock(sim, "2s"));
    REQUIRE(sim.Stop() == 0);
  }
  auto dump = RunBinary({"state", "dump", file});
  REQUIRE(dump.exit_code == 0);
  const auto state = nlohmann::json::parse(dump.out);
  CHECK(state["schema_version"] == 6);
  CHECK(state["clock"] == 1767225602000000);  // 2026-01-01T00:00:02Z in microseconds
  REQUIRE(state["orders"].size() == 2);
  CHECK(state["orders"][0]["id"] == guide);
  CHECK(state["orders"][0]["status"] == "PROCESSING");
  CHECK(state["orders"][0]["scenario"] == "house-of-mouse");
  CHECK(state["orders"][0]["due"] == 1767225603000000);  // COMPLETE at 3 s
  CHECK(state["orders"][1]["id"] == pin);
  CHECK(state["orders"][1]["status"] == "ACTION_REQUIRED");
  CHECK(state["orders"][1]["waiting_for_update"] == true);
  const auto steps = state["step_lists"][std::to_string(state["orders"][0]["step_list"].get<int>())]["steps"];
  REQUIRE(steps.size() == 2);
  CHECK(steps[1]["status"] == "COMPLETE");
  CHECK(steps[1]["csr"]["customer_name"] == "House of Mouse");
  REQUIRE(state["subscriptions"].size() == 1);
  CHECK(state["subscriptions"][0]["callback"]["url"] == receiver.Url());

  auto missing = RunBinary({"state", "dump", file + ".missing"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err == "csr-simulator: state dump: cannot read '" + file + ".missing'\n");
}

// ---- restarts that change the clock or the scenarios

TEST_CASE("with a real clock, steps that fell due while the simulator was down run at start-up") {
  const std::string file = MakeTempDir() + "/state.db";
  CallbackReceiver receiver;
  std::string order;
  {
    // The manual clock stands at 2026-01-01, long before the real clock of the restart.
    SimulatorProcess sim(StateArgs(file));
    auto api = sim.Client();
    REQUIRE(api->Post((kAccount + "/subscriptions").c_str(),
                      SubscriptionRequest(receiver.Url()).WithExpiry(3153600000).Xml(), "application/xml")
                ->status == 201);
    order = CreateOrder(*api, "9198675309");  // PROCESSING at 1 s, COMPLETE at 3 s
    REQUIRE(sim.Stop() == 0);
  }
  SimulatorProcess sim({"--log-level", "off", "--state", file});
  auto delivered =
      sim.Client("")->Get(("/_sim/callbacks/wait?orderId=" + order + "&status=COMPLETE&timeout=30s").c_str());
  REQUIRE(delivered);
  CHECK(delivered->status == 200);
  const auto fetched = Get(*sim.Client(), kAccount + "/csrs/" + order);
  CHECK(XmlText(fetched, "Status") == "COMPLETE");
  CHECK(XmlText(fetched, "CustomerName") == "House of Mouse");
}

TEST_CASE("an order keeps the steps it was given when the scenario files change between runs") {
  const std::string dir = MakeTempDir();
  const std::string file = dir + "/state.db";
  const std::string slow = WriteFile(dir, "slow.yaml", R"(
scenarios:
  - name: slow-carrier
    steps:
      - after: 10s
        status: PROCESSING
      - after: 10s
        status: COMPLETE
        csr: { CustomerName: Slow Carrier Co }
)");
  const std::string fast = WriteFile(dir, "fast.yaml", R"(
scenarios:
  - name: fast-failure
    steps:
      - after: 1s
        status: FAILED
)");
  auto args = [&](const std::string& scenarios) {
    auto list = StateArgs(file);
    list.insert(list.end(), {"--scenarios", scenarios});
    return list;
  };
  std::string order;
  {
    SimulatorProcess sim(args(slow));
    order = CreateOrder(*sim.Client(), "9195551234");
    REQUIRE(AdvanceClock(sim, "10s"));
    REQUIRE(sim.Stop() == 0);
  }
  SimulatorProcess sim(args(fast));  // slow-carrier is gone
  auto api = sim.Client();
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + order), "Status") == "PROCESSING");
  REQUIRE(AdvanceClock(sim, "10s"));
  const auto fetched = Get(*api, kAccount + "/csrs/" + order);
  CHECK(XmlText(fetched, "Status") == "COMPLETE");
  CHECK(XmlText(fetched, "CustomerName") == "Slow Carrier Co");
  // New orders follow the scenarios of this run.
  const std::string fresh = CreateOrder(*api, "9195551234");
  REQUIRE(AdvanceClock(sim, "1s"));
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + fresh), "Status") == "FAILED");
}
