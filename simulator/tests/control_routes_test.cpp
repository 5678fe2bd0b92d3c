#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "csrsim/wire.hpp"
#include "in_process.hpp"
#include "receiver.hpp"
#include "temp_dir.hpp"

using namespace csrsim;
using csrsim::testing::CallbackReceiver;
using csrsim::testing::TempDir;
using Json = nlohmann::json;

namespace {

using TestSimulator = csrsim::testing::InProcessSimulator;
using csrsim::testing::kGuideAuthorization;
using csrsim::testing::ManualConfig;

constexpr const char* kAccount = csrsim::testing::kGuideAccount;
constexpr char kOtherAccount[] = "9900001";
const std::string kDefaultScenarios = std::string(CSRSIM_SOURCE_DIR) + "/scenarios/default.yaml";

std::vector<std::string> Statuses(const Json& list, const std::string& key = "status") {
  std::vector<std::string> statuses;
  for (const auto& item : list) statuses.push_back(item[key].get<std::string>());
  return statuses;
}

constexpr char kOneScenario[] = R"(scenarios:
  - name: only-one
    description: fails at once
    steps:
      - after: 1s
        status: FAILED
        errors: [{ code: 26500, description: nope }]
)";

}  // namespace

TEST_CASE("health answers ok with version, scenario count and clock once ready, 503 before") {
  TestSimulator sim;
  Json health = sim.Control("GET", "/_sim/health");
  CHECK(health["status"] == "ok");
  CHECK(health["version"] == CSRSIM_VERSION);
  CHECK(health["scenarios"] == 6);
  CHECK(health["clock"] == "manual");
  CHECK(health["now"] == "2026-01-01T00:00:00.000Z");
  CHECK(health["orders"] == 0);

  TestSimulator not_started(ManualConfig(), false);
  CHECK(not_started.Control("GET", "/_sim/health", "", 503) == Json{{"status", "starting"}});
}

TEST_CASE("reset of one account drops its orders and leaves other accounts untouched") {
  TestSimulator sim;
  sim.CreateOrder("9195550100", kAccount);
  std::string kept = sim.CreateOrder("9195550100", kOtherAccount);

  CHECK(sim.Control("POST", std::string("/_sim/reset?account=") + kAccount) == Json{{"reset", kAccount}});
  Json orders = sim.Control("GET", "/_sim/orders")["orders"];
  REQUIRE(orders.size() == 1);
  CHECK(orders[0]["id"] == kept);

  CHECK(sim.Control("POST", "/_sim/reset") == Json{{"reset", "all"}});
  CHECK(sim.Control("GET", "/_sim/orders")["orders"].empty());
}

TEST_CASE("advancing a manual clock runs the steps due, visible in the order history") {
  TestSimulator sim;
  std::string id = sim.CreateOrder("9195550100");
  CHECK(sim.Control("GET", "/_sim/orders/" + id)["status"] == "RECEIVED");

  Json clock = sim.Advance("1s");
  CHECK(clock["now"] == "2026-01-01T00:00:01.000Z");
  CHECK(clock["mode"] == "manual");
  CHECK(clock["epoch_ms"] == 1767225601000);
  CHECK(sim.Control("GET", "/_sim/orders/" + id)["status"] == "PROCESSING");

  sim.Advance("2s");
  Json order = sim.Control("GET", "/_sim/orders/" + id);
  CHECK(order["status"] == "COMPLETE");
  CHECK(order["scenario"] == "generated-complete");
  CHECK(order["fields"]["WorkingOrBillingTelephoneNumber"] == "9195550100");
  CHECK(order["csrData"]["WorkingTelephoneNumber"] == "9195550100");
  CHECK(order["remainingSteps"] == 0);
  CHECK(Statuses(order["history"]) == std::vector<std::string>{"RECEIVED", "PROCESSING", "COMPLETE"});
  CHECK(order["history"][2]["at"] == "2026-01-01T00:00:03.000Z");
  CHECK(sim.Control("GET", "/_sim/clock")["now"] == "2026-01-01T00:00:03.000Z");
}

TEST_CASE("advancing a clock that is not manual answers 409, a bad duration 400") {
  Config config = ManualConfig();
  config.clock = "real";
  TestSimulator real(config);
  CHECK(real.Control("POST", "/_sim/clock/advance", R"({"by":"5s"})", 409)["error"] ==
        "the clock is not manual; start with --clock manual");
  CHECK(real.Control("GET", "/_sim/clock")["mode"] == "real");

  TestSimulator sim;
  CHECK(sim.Control("POST", "/_sim/clock/advance", R"({"by":"five"})", 400)["error"] ==
        "'by': 'five' is not a duration (e.g. 250ms, 5s, 2m, 1h)");
  sim.Control("POST", "/_sim/clock/advance", R"({})", 400);
  sim.Control("POST", "/_sim/clock/advance", R"({"by":5})", 400);
}

TEST_CASE("an order waiting for a PUT says so") {
  TestSimulator sim;
  std::string id = sim.CreateOrder("9195550001");  // pin-required
  sim.Advance("2s");
  Json order = sim.Control("GET", "/_sim/orders/" + id);
  CHECK(order["status"] == "ACTION_REQUIRED");
  CHECK(order["waitingForUpdate"] == true);
  CHECK(order["account"] == kAccount);
  CHECK(sim.Control("GET", "/_sim/orders?status=ACTION_REQUIRED")["orders"].size() == 1);
  CHECK(sim.Control("GET", "/_sim/orders?status=COMPLETE")["orders"].empty());
}

TEST_CASE("a forced FAILED transition sets status, message and errors and stops the scenario") {
  TestSimulator sim;
  std::string id = sim.CreateOrder("9195550100");
  Json order = sim.Control("POST", "/_sim/orders/" + id + "/transition",
                           R"({"status":"FAILED","message":"carrier down",)"
                           R"("errors":[{"code":26500,"description":"CSR is not available for this TN"}]})");
  CHECK(order["status"] == "FAILED");
  CHECK(order["message"] == "carrier down");
  CHECK(order["errors"] == Json::parse(R"([{"code":26500,"description":"CSR is not available for this TN"}])"));
  CHECK(order["history"].back()["cause"] == "forced");

  sim.Advance("10s");
  CHECK(sim.Control("GET", "/_sim/orders/" + id)["status"] == "FAILED");
}

TEST_CASE("a forced transition refuses unknown statuses, orders and keys") {
  TestSimulator sim;
  std::string id = sim.CreateOrder("9195550100");
  CHECK(sim.Control("POST", "/_sim/orders/" + id + "/transition", R"({"status":"DONE"})", 400)["error"]
            .get<std::string>()
            .starts_with("'DONE' is not an order status"));
  sim.Control("POST", "/_sim/orders/no-such-order/transition", R"({"status":"FAILED"})", 404);
  sim.Control("GET", "/_sim/orders/no-such-order", "", 404);
  CHECK(sim.Control("POST", "/_sim/orders/" + id + "/transition", R"({"status":"FAILED","mesage":"x"})", 400)["error"]
            .get<std::string>()
            .starts_with("unknown key 'mesage'"));
  sim.Control("POST", "/_sim/orders/" + id + "/transition", R"({"status":"FAILED","errors":[{"description":"x"}]})",
              400);
}

TEST_CASE("the journal lists every delivery right after the advance, with filters") {
  CallbackReceiver receiver;
  TestSimulator sim;
  sim.Subscribe(receiver.Url());
  std::string first = sim.CreateOrder("9195550100");
  std::string second = sim.CreateOrder("9195550000");  // csr-not-available: FAILED at 2s
  sim.Advance("3s");

  Json all = sim.Control("GET", "/_sim/callbacks");
  CHECK(all["dropped"] == 0);
  REQUIRE(all["entries"].size() == 2);
  // Deliveries of different orders due within one advance go out concurrently.
  Json complete = *std::find_if(all["entries"].begin(), all["entries"].end(),
                                [](const Json& entry) { return entry["status"] == "COMPLETE"; });
  CHECK(complete["orderId"] == first);
  CHECK(complete["status"] == "COMPLETE");
  CHECK(complete["responseStatus"] == 200);
  CHECK(complete["succeeded"] == true);
  CHECK(complete["url"] == receiver.Url());
  CHECK(complete["requestHeaders"]["Authorization"] == "Basic Y2I6c2VjcmV0");  // cb:secret
  CHECK(complete["body"].get<std::string>().find("<Status>COMPLETE</Status>") != std::string::npos);
  CHECK(complete["scheduledAt"] == "2026-01-01T00:00:03.000Z");

  CHECK(Statuses(sim.Control("GET", "/_sim/callbacks?orderId=" + second)["entries"]) ==
        std::vector<std::string>{"FAILED"});
  CHECK(Statuses(sim.Control("GET", "/_sim/callbacks?status=COMPLETE")["entries"], "orderId") ==
        std::vector<std::string>{first});
  std::string subscription = complete["subscriptionId"];
  CHECK(sim.Control("GET", "/_sim/callbacks?subscriptionId=" + subscription)["entries"].size() == 2);
  CHECK(sim.Control("GET", "/_sim/callbacks?subscriptionId=other")["entries"].empty());
  CHECK(sim.Control("GET", std::string("/_sim/callbacks?account=") + kOtherAccount)["entries"].empty());
  std::uint64_t first_entry = all["entries"][0]["id"];
  CHECK(sim.Control("GET", "/_sim/callbacks?after=" + std::to_string(first_entry))["entries"].size() == 1);
  sim.Control("GET", "/_sim/callbacks?status=DONE", "", 400);
  sim.Control("GET", "/_sim/callbacks?after=x", "", 400);
  sim.Control("GET", "/_sim/callbacks?orderID=x", "", 400);
}

TEST_CASE("waiting for a callback returns one that already happened, and times out with 408") {
  CallbackReceiver receiver;
  TestSimulator sim;
  sim.Subscribe(receiver.Url());
  std::string id = sim.CreateOrder("9195550100");
  sim.Advance("3s");

  Json entry = sim.Control("GET", "/_sim/callbacks/wait?orderId=" + id + "&status=COMPLETE");
  CHECK(entry["orderId"] == id);
  CHECK(entry["status"] == "COMPLETE");

  CHECK(sim.Control("GET", "/_sim/callbacks/wait?orderId=" + id + "&status=FAILED&timeout=10ms", "", 408) ==
        Json{{"error", "no matching callback within 10ms"}});
  sim.Control("GET", "/_sim/callbacks/wait?timeout=61s", "", 400);
  sim.Control("GET", "/_sim/callbacks/wait?timeout=soon", "", 400);
}

TEST_CASE("scenarios are listed with their match and a broken reload keeps them") {
  TempDir dir;
  Config config = ManualConfig();
  config.scenario_paths = {dir.Write("mine.yaml", kOneScenario)};
  // A reload may name files in these directories (and the --scenarios file itself).
  config.scenarios_roots = {std::filesystem::path(config.scenario_paths[0]).parent_path().string(),
                            std::string(CSRSIM_SOURCE_DIR) + "/scenarios"};
  TestSimulator sim(config);

  Json listed = sim.Control("GET", "/_sim/scenarios");
  CHECK(listed["default"] == nullptr);
  REQUIRE(listed["scenarios"].size() == 1);
  CHECK(listed["scenarios"][0]["name"] == "only-one");
  CHECK(listed["scenarios"][0]["match"] == nullptr);
  CHECK(listed["scenarios"][0]["variants"] == 1);

  std::string broken = dir.Write("broken.yaml", "scenarios:\n  - name: bad\n    steps:\n      - after: soon\n");
  Json error = sim.Control("POST", "/_sim/scenarios/reload", R"({"paths":[")" + broken + R"("]})", 400);
  CHECK(error["error"].get<std::string>().starts_with(broken + ":4:"));
  CHECK(sim.Control("GET", "/_sim/scenarios") == listed);

  Json reloaded = sim.Control("POST", "/_sim/scenarios/reload", R"({"paths":[")" + kDefaultScenarios + R"("]})");
  CHECK(reloaded["default"] == "generated-complete");
  CHECK(reloaded["scenarios"][0]["match"] == Json{{"tn", "9198675309"}});
  CHECK(reloaded["scenarios"][1]["match"] == Json{{"tn_suffix", "0000"}});

  dir.Write("mine.yaml", "scenarios: [");  // the configured file is now broken too
  CHECK(sim.Control("POST", "/_sim/scenarios/reload", "", 400)["error"].get<std::string>().starts_with(
      config.scenario_paths[0] + ":"));
  CHECK(sim.Control("GET", "/_sim/scenarios") == reloaded);
}

TEST_CASE("a reload without scenario files answers 409, an empty path list 400") {
  Config config = ManualConfig();
  config.scenario_paths.clear();  // as when the bundled scenarios run
  TestSimulator sim(config);
  CHECK(sim.Control("POST", "/_sim/scenarios/reload", "", 409)["error"].get<std::string>().starts_with(
      "nothing to reload"));
  CHECK(sim.Control("POST", "/_sim/scenarios/reload", R"({"paths":[]})", 400)["error"] ==
        "'paths' must be a non-empty list of file or directory paths");
}

TEST_CASE("an API status fault answers the next call with its status, then is used up") {
  TestSimulator sim;
  Json fault = sim.Control("POST", "/_sim/faults",
                           R"({"target":"api","account":"9900000","route":"POST /csrs","action":"status",)"
                           R"("status":503,"count":1})",
                           201);
  CHECK(fault["id"] == "fault-1");
  CHECK(sim.Control("GET", "/_sim/faults")["faults"][0]["remaining"] == 1);

  const std::string create = csrsim::testing::CreateBody("9195550100");
  CHECK(sim.Call("POST", "/accounts/9900000/csrs", create, kGuideAuthorization).status == 503);
  CHECK(sim.Call("POST", "/accounts/9900000/csrs", create, kGuideAuthorization).status == 200);
  CHECK(sim.Control("GET", "/_sim/faults")["faults"].empty());
}

TEST_CASE("a 429 fault carries X-RateLimit-Reset and other routes are untouched") {
  TestSimulator sim;
  sim.Control("POST", "/_sim/faults", R"({"target":"api","route":"GET /csrs/*","action":"status","status":429})", 201);
  std::string id = sim.CreateOrder("9195550100");
  HttpResponse limited = sim.Call("GET", "/accounts/9900000/csrs/" + id, "", kGuideAuthorization);
  CHECK(limited.status == 429);
  bool has_reset = std::any_of(limited.headers.begin(), limited.headers.end(),
                               [](const auto& header) { return header.first == "X-RateLimit-Reset"; });
  CHECK(has_reset);
  CHECK(sim.Call("GET", "/accounts/9900000/csrs/" + id, "", kGuideAuthorization).status == 429);  // no count
}

TEST_CASE("API drop and latency faults are applied and listed") {
  TestSimulator sim;
  sim.Control("POST", "/_sim/faults", R"({"target":"api","action":"drop","count":1})", 201);
  Json latency =
      sim.Control("POST", "/_sim/faults", R"({"target":"api","action":"latency","latencyMs":1,"fraction":0.5})", 201);
  CHECK(latency["latencyMs"] == 1);
  CHECK(latency["fraction"] == 0.5);
  CHECK(latency["account"] == nullptr);

  const std::string create = csrsim::testing::CreateBody("9195550100");
  CHECK(sim.Call("POST", "/accounts/9900000/csrs", create, kGuideAuthorization).drop_connection);
  Json listed = sim.Control("GET", "/_sim/faults")["faults"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["action"] == "latency");
}

TEST_CASE("faults are deleted one by one, per account or all") {
  TestSimulator sim;
  sim.Control("POST", "/_sim/faults", R"({"target":"api","action":"status","account":"9900000"})", 201);
  sim.Control("POST", "/_sim/faults", R"({"target":"callback","fault":"drop","account":"9900001"})", 201);
  sim.Control("POST", "/_sim/faults", R"({"target":"callback","fault":"delay","delay":"5s"})", 201);
  CHECK(sim.Control("GET", "/_sim/faults")["faults"].size() == 3);

  CHECK(sim.Control("DELETE", "/_sim/faults/fault-1") == Json{{"deleted", "fault-1"}});
  sim.Control("DELETE", "/_sim/faults/fault-1", "", 404);
  sim.Control("DELETE", "/_sim/faults?account=9900001");
  Json left = sim.Control("GET", "/_sim/faults")["faults"];
  REQUIRE(left.size() == 1);
  CHECK(left[0]["fault"] == "delay");
  CHECK(left[0]["delay"] == "5s");
  sim.Control("DELETE", "/_sim/faults");
  CHECK(sim.Control("GET", "/_sim/faults")["faults"].empty());
}

TEST_CASE("fault requests with unknown or wrong fields are refused with 400") {
  TestSimulator sim;
  auto error_of = [&sim](const std::string& body) {
    return sim.Control("POST", "/_sim/faults", body, 400)["error"].get<std::string>();
  };
  CHECK(error_of(R"({"target":"api","action":"status","colour":"red"})").starts_with("unknown key 'colour'"));
  CHECK(error_of(R"({"target":"api","action":"status","route":"POST /accounts/1/csrs"})")
            .starts_with("unknown 'route' 'POST /accounts/1/csrs'"));
  CHECK(error_of(R"({"target":"api","action":"explode"})").starts_with("unknown 'action'"));
  CHECK(error_of(R"({"target":"api","action":"latency"})") == "action 'latency' needs 'latencyMs'");
  CHECK(error_of(R"({"target":"api","action":"drop","status":500})") == "'status' applies only to action 'status'");
  CHECK(error_of(R"({"target":"api","action":"status","status":200})") ==
        "'status' must be an integer from 400 to 599");
  CHECK(error_of(R"({"target":"api","action":"status","count":0})") == "'count' must be an integer from 1 to 1000000");
  CHECK(error_of(R"({"target":"api","action":"status","fraction":0})") == "'fraction' must be a number in (0, 1]");
  CHECK(error_of(R"({"target":"callback","fault":"delay"})") == "fault 'delay' needs 'delay', e.g. \"5s\"");
  CHECK(error_of(R"({"target":"callback","fault":"drop","delay":"5s"})") == "'delay' applies only to fault 'delay'");
  CHECK(error_of(R"({"target":"callback","fault":"lose"})").starts_with("unknown 'fault' 'lose'"));
  CHECK(error_of(R"({"target":"database"})").starts_with("unknown 'target'"));
  CHECK(error_of(R"({"action":"drop"})") == "'target' is required");
}

TEST_CASE("callback faults show in the journal: drop, duplicate, delay, wrong credentials") {
  CallbackReceiver receiver;
  TestSimulator sim;
  sim.Subscribe(receiver.Url());

  SECTION("drop") {
    sim.Control("POST", "/_sim/faults", R"({"target":"callback","fault":"drop","count":1})", 201);
    std::string id = sim.CreateOrder("9195550000");
    sim.Advance("2s");
    Json entries = sim.Control("GET", "/_sim/callbacks?orderId=" + id)["entries"];
    REQUIRE(entries.size() == 1);
    CHECK(entries[0]["fault"] == "drop");
    CHECK(entries[0]["error"] == "dropped by fault");
    CHECK(entries[0]["succeeded"] == false);
  }
  SECTION("duplicate") {
    sim.Control("POST", "/_sim/faults", R"({"target":"callback","fault":"duplicate"})", 201);
    std::string id = sim.CreateOrder("9195550000");
    sim.Advance("2s");
    CHECK(sim.Control("GET", "/_sim/callbacks?orderId=" + id)["entries"].size() == 2);
  }
  SECTION("delay") {
    sim.Control("POST", "/_sim/faults", R"({"target":"callback","fault":"delay","delay":"5s"})", 201);
    std::string id = sim.CreateOrder("9195550000");
    sim.Advance("2s");
    CHECK(sim.Control("GET", "/_sim/callbacks?orderId=" + id)["entries"].empty());
    sim.Advance("5s");
    Json entries = sim.Control("GET", "/_sim/callbacks?orderId=" + id)["entries"];
    REQUIRE(entries.size() == 1);
    CHECK(entries[0]["sentAt"] == "2026-01-01T00:00:07.000Z");
  }
  SECTION("wrong credentials") {
    sim.Control("POST", "/_sim/faults", R"({"target":"callback","fault":"wrong_credentials"})", 201);
    std::string id = sim.CreateOrder("9195550000");
    sim.Advance("2s");
    Json entries = sim.Control("GET", "/_sim/callbacks?orderId=" + id)["entries"];
    REQUIRE(entries.size() == 1);
    CHECK(entries[0]["fault"] == "wrong_credentials");
    CHECK(entries[0]["requestHeaders"]["Authorization"] != "Basic Y2I6c2VjcmV0");
  }
}

TEST_CASE("callback settings turn on retries that follow the simulated clock") {
  CallbackReceiver receiver;
  receiver.SetStatus(500);
  TestSimulator sim;
  sim.Subscribe(receiver.Url());
  Json applied = sim.Control("POST", "/_sim/callbacks/settings", R"({"attempts":2,"backoff":"10s"})");
  CHECK(applied == Json::parse(R"({"attempts":2,"backoff":"10s","multiplier":2.0})"));
  std::string id = sim.CreateOrder("9195550000");
  sim.Advance("2s");
  CHECK(sim.Control("GET", "/_sim/callbacks?orderId=" + id)["entries"].size() == 1);
  sim.Advance("10s");
  Json entries = sim.Control("GET", "/_sim/callbacks?orderId=" + id)["entries"];
  REQUIRE(entries.size() == 2);
  CHECK(entries[1]["attempt"] == 2);
  CHECK(entries[1]["responseStatus"] == 500);

  sim.Control("POST", "/_sim/callbacks/settings", R"({"auth":"sometimes"})", 400);
  sim.Control("POST", "/_sim/callbacks/settings", R"({"backoff":"1s"})", 400);
  CHECK(sim.Control("POST", "/_sim/callbacks/settings", R"({"auth":"challenge"})") == Json{{"auth", "challenge"}});
}

// One settle rule (admin.hpp): a forced transition settles like an advance, so
// retries due at the same instant (no back-off) are attempted before the call
// returns instead of being left to the scheduler's own thread.
TEST_CASE("a forced transition returns after its callbacks and their same-instant retries were attempted") {
  CallbackReceiver receiver;
  receiver.SetStatus(500);
  TestSimulator sim;
  sim.Subscribe(receiver.Url());
  sim.Control("POST", "/_sim/callbacks/settings", R"({"attempts":3,"backoff":"0s","multiplier":1})");
  std::string id = sim.CreateOrder("9195550000");
  sim.Control("POST", "/_sim/orders/" + id + "/transition", R"({"status":"COMPLETE"})");
  Json entries = sim.Control("GET", "/_sim/callbacks?orderId=" + id)["entries"];
  REQUIRE(entries.size() == 3);
  CHECK(Statuses(entries) == std::vector<std::string>{"COMPLETE", "COMPLETE", "COMPLETE"});
  CHECK(entries[2]["attempt"] == 3);
  CHECK(entries[2]["responseStatus"] == 500);
}

TEST_CASE("with a control token, /_sim needs that Bearer token and nothing else opens it") {
  Config config = ManualConfig();
  config.control_token = "s3cret";
  TestSimulator sim(config);

  HttpResponse missing = sim.Call("GET", "/_sim/health");
  CHECK(missing.status == 401);
  CHECK(missing.content_type == "application/json");
  REQUIRE(missing.headers.size() == 1);
  CHECK(missing.headers[0].first == "WWW-Authenticate");
  CHECK(missing.headers[0].second.starts_with("Bearer"));
  CHECK(sim.Call("POST", "/_sim/reset", "", kGuideAuthorization).status == 401);
  CHECK(sim.Call("POST", "/_sim/reset", "", "Bearer wrong").status == 401);
  CHECK(sim.Call("GET", "/_sim/nowhere", "", "Bearer wrong").status == 401);  // no route probing
  CHECK(sim.Call("GET", "/_sim/health", "", "Bearer s3cret").status == 200);
  CHECK(sim.Call("GET", "/_sim/health", "", "bearer s3cret").status == 200);
  // The Bandwidth routes keep their own credentials.
  sim.CreateOrder("9195550100");
}

TEST_CASE("malformed JSON, unknown paths and wrong methods answer JSON errors") {
  TestSimulator sim;
  CHECK(sim.Control("POST", "/_sim/clock/advance", "{by: 5s}", 400)["error"].get<std::string>().starts_with(
      "malformed JSON body: parse error at line 1, column 2"));
  CHECK(sim.Control("POST", "/_sim/clock/advance", "[]", 400)["error"] == "the body must be a JSON object");
  CHECK(sim.Control("GET", "/_sim/nowhere", "", 404)["error"] ==
        "no control API call /_sim/nowhere; see docs/control-api.md");
  CHECK(sim.Control("DELETE", "/_sim/clock", "", 405)["error"] == "method DELETE is not allowed on /_sim/clock");
  CHECK(sim.Control("POST", "/_sim/reset?acount=1", "", 400)["error"] ==
        "unknown query parameter 'acount'; expected account");
  CHECK(sim.Call("GET", "/_simulator").status == 404);  // not a control path: not JSON
  CHECK(sim.Call("GET", "/_simulator").content_type.empty());
}

TEST_CASE("two simulators with the same seed give the same ids and journals") {
  CallbackReceiver receiver;
  auto run = [&receiver] {
    Config config = ManualConfig();
    config.seed = 42;
    TestSimulator sim(config);
    sim.Subscribe(receiver.Url());
    sim.CreateOrder("9195550100");
    sim.CreateOrder("9195550000");
    // One advance per due time: deliveries of different orders due within one
    // advance are attempted concurrently, so only their per-order order is fixed.
    sim.Advance("2s");
    sim.Advance("1s");
    Json entries = sim.Control("GET", "/_sim/callbacks")["entries"];
    for (auto& entry : entries) entry.erase("wallMicros");
    return std::make_pair(sim.Control("GET", "/_sim/orders"), entries);
  };
  auto first = run();
  auto second = run();
  CHECK(first.first == second.first);
  CHECK(first.second == second.second);
  CHECK(first.second.size() == 2);
}
