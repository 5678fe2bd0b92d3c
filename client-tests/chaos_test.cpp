// Chaos soak: parallel clients mix every kind of call against one simulator —
// creates, PIN updates, cancels, notes, subscription CRUD, clock advances,
// per-account and full resets, forced transitions, faults and long-polls — and
// the simulator must stay sane: no 5xx but the injected ones, no hang, every
// response well-formed, and at the end every order's history a legal path of
// its scenario (scenarios/default.yaml).
//
// Bounded: a fixed number of operations per worker, seeded, on a manual clock.
// Worker threads only record what they saw; Catch2 asserts on the main thread.
// Tagged [soak]: `.ci/run` runs it under ASan/UBSan with the rest of the suite.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

namespace {

using csrsim::testing::CallbackReceiver;
using csrsim::testing::SimulatorProcess;
using csrsim::testing::SubscriptionRequest;
using csrsim::testing::XmlText;
using Json = nlohmann::json;

constexpr int kWorkers = 6;
constexpr int kOperationsPerWorker = 250;
// Faults are injected only on this account, so any other 5xx is a bug.
const std::string kFaultAccount = "7000009";

// What each bundled scenario may do, in order: the status of each step and
// whether it runs on the clock ("step") or on a PUT ("update").
struct Step {
  std::string status;
  bool on_update = false;
};
const std::map<std::string, std::vector<Step>> kScenarioPaths = {
    {"house-of-mouse", {{"PROCESSING"}, {"COMPLETE"}}},
    {"csr-not-available", {{"FAILED"}}},
    {"pin-required", {{"ACTION_REQUIRED"}, {"PROCESSING", true}, {"COMPLETE"}}},
    {"never-completes", {{"PROCESSING"}}},
    {"generated-complete", {{"PROCESSING"}, {"COMPLETE"}}},
};

// Why `order` (as GET /_sim/orders/{id} shows it) is not a legal run of its
// scenario; empty when it is.
std::string IllegalHistory(const Json& order) {
  const auto path = kScenarioPaths.find(order.value("scenario", ""));
  if (path == kScenarioPaths.end()) return "unknown scenario " + order.value("scenario", "");
  const Json& history = order["history"];
  if (history.empty() || history[0]["cause"] != "create" || history[0]["status"] != "RECEIVED") {
    return "does not start with RECEIVED on create";
  }
  std::size_t next_step = 0;
  bool ended = false;  // a forced transition or a cancel ends the scenario
  std::string previous_at = history[0]["at"];
  for (std::size_t i = 1; i < history.size(); ++i) {
    const Json& entry = history[i];
    const std::string cause = entry["cause"];
    const std::string status = entry["status"];
    const std::string at = entry["at"];
    if (at < previous_at) return "entry " + std::to_string(i) + " goes back in time";
    previous_at = at;
    if (cause == "forced") {
      ended = true;
      continue;
    }
    if (cause == "cancel") {
      if (status != "CANCELLED") return "a cancel to " + status;
      ended = true;
      continue;
    }
    if (ended) return "a scenario step (" + cause + ") after the scenario ended";
    if (next_step >= path->second.size()) return "more steps than the scenario has";
    const Step& expected = path->second[next_step++];
    if (status != expected.status) return "step " + std::to_string(next_step) + " is " + status;
    if (expected.on_update != (cause == "update")) {
      return "step " + std::to_string(next_step) + " ran on " + cause;
    }
  }
  if (order["status"] != history.back()["status"]) return "status differs from the last history entry";
  return "";
}

bool WellFormedXml(const std::string& body) {
  pugi::xml_document document;
  return document.load_string(body.c_str()).status == pugi::status_ok;
}

bool WellFormedJson(const std::string& body) { return Json::accept(body); }

// One worker's view: the orders it created and what went wrong.
struct WorkerLog {
  std::vector<std::string> orders;
  std::vector<std::string> problems;
};

class Worker {
 public:
  Worker(const SimulatorProcess& sim, const CallbackReceiver& receiver, std::string account, unsigned seed)
      : api_(sim.Client()),
        control_(sim.Client("")),
        receiver_(receiver),
        account_(std::move(account)),
        random_(seed) {}

  WorkerLog Run() {
    for (int i = 0; i < kOperationsPerWorker; ++i) Step(i);
    return std::move(log_);
  }

 private:
  bool faulty() const { return account_ == kFaultAccount; }
  std::string Base() const { return "/accounts/" + account_; }
  std::size_t Pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(random_); }
  std::string AnyOrder() { return log_.orders.empty() ? "no-such-order" : log_.orders[Pick(log_.orders.size())]; }

  void Problem(const std::string& what) { log_.problems.push_back(account_ + ": " + what); }

  // Checks one answer; returns it when it arrived.
  httplib::Result Check(httplib::Result result, const std::string& call, bool json, bool may_fail = false) {
    if (!result) {
      if (!faulty()) Problem(call + ": no response (" + httplib::to_string(result.error()) + ")");
      return result;
    }
    const int status = result->status;
    if (status >= 500 && !faulty() && !may_fail) Problem(call + ": " + std::to_string(status) + " " + result->body);
    const bool empty_ok = status == 204 || result->body.empty();
    if (!empty_ok && !(json ? WellFormedJson(result->body) : WellFormedXml(result->body))) {
      Problem(call + ": body not well-formed: " + result->body.substr(0, 200));
    }
    return result;
  }

  void Create() {
    static const std::vector<std::string> kTns = {"9198675309", "9195550000", "9195550001",
                                                  "9195550002", "9195550503", "9195551234"};
    const std::string tn = kTns[Pick(kTns.size())];
    const std::string body = "<Csr><CustomerOrderId>chaos</CustomerOrderId><WorkingOrBillingTelephoneNumber>" + tn +
                             "</WorkingOrBillingTelephoneNumber></Csr>";
    auto created = Check(api_->Post((Base() + "/csrs").c_str(), body, "application/xml"), "create " + tn, false,
                         tn.ends_with("0503"));
    if (!created) return;
    if (tn.ends_with("0503") && !faulty() && created->status != 503) {
      Problem("create of a ...0503 TN answered " + std::to_string(created->status));
    }
    if (created->status == 200) {
      if (auto id = XmlText(created->body, "OrderId")) {
        log_.orders.push_back(*id);
        if (tn.ends_with("0001")) pin_orders_.push_back(*id);
      }
    }
  }

  void Step(int i) {
    switch (Pick(14)) {
      case 0:
      case 1:
      case 2:
        Create();
        break;
      case 3:
        // Mostly an order of the pin-required scenario, so PIN resumes happen.
        Check(api_->Put((Base() + "/csrs/" +
                         (pin_orders_.empty() || Pick(4) == 0 ? AnyOrder() : pin_orders_[Pick(pin_orders_.size())]))
                            .c_str(),
                        "<Csr><EndUserPIN>1234</EndUserPIN></Csr>", "application/xml"),
              "PIN update", false);
        break;
      case 4:
        Check(api_->Put((Base() + "/csrs/" + AnyOrder()).c_str(), "<Csr><Status>REQUESTED_CANCEL</Status></Csr>",
                        "application/xml"),
              "cancel", false);
        break;
      case 5:
        Check(api_->Post((Base() + "/csrs/" + AnyOrder() + "/notes").c_str(),
                         "<Note><UserId>chaos</UserId><Description>note " + std::to_string(i) + "</Description></Note>",
                         "application/xml"),
              "add note", false);
        break;
      case 6:
        Check(api_->Get((Base() + "/csrs/" + AnyOrder()).c_str()), "get order", false);
        break;
      case 7:
        Subscriptions();
        break;
      case 8:
      case 9:
        Check(control_->Post("/_sim/clock/advance", R"({"by":")" + std::to_string(Pick(3) + 1) + R"(s"})",
                             "application/json"),
              "advance", true);
        break;
      case 10:
        Check(control_->Get(("/_sim/callbacks/wait?orderId=" + AnyOrder() + "&timeout=20ms").c_str()), "long-poll",
              true);
        break;
      case 11:
        Check(
            control_->Post(
                ("/_sim/orders/" + AnyOrder() + "/transition").c_str(),
                Pick(2)
                    ? R"({"status":"FAILED","errors":[{"code":26500,"description":"CSR is not available for this TN"}]})"
                    : R"({"status":"COMPLETE"})",
                "application/json"),
            "forced transition", true);
        break;
      case 12:
        if (faulty()) {
          InjectFault();
        } else {
          Check(api_->Get((Base() + "/csrs?status=COMPLETE").c_str()), "list orders", false);
        }
        break;
      default:
        Reset();
        break;
    }
  }

  void Subscriptions() {
    auto created = Check(
        api_->Post((Base() + "/subscriptions").c_str(), SubscriptionRequest(receiver_.Url()).Xml(), "application/xml"),
        "subscribe", false);
    if (!created || created->status != 201) return;
    const std::string id = csrsim::testing::LocationId(created);
    const std::string path = Base() + "/subscriptions/" + id;
    Check(api_->Put(path.c_str(), SubscriptionRequest(receiver_.Url("/other")).Xml(), "application/xml"),
          "update subscription", false);
    Check(api_->Get(path.c_str()), "get subscription", false);
    if (Pick(2)) Check(api_->Delete(path.c_str()), "delete subscription", false);
  }

  void InjectFault() {
    static const std::vector<std::string> kRules = {
        R"({"target":"api","action":"status","status":503,"count":2})",
        R"({"target":"api","action":"latency","latencyMs":5,"count":3})",
        R"({"target":"api","action":"drop","count":1})",
        R"({"target":"callback","fault":"duplicate","count":2})",
        R"({"target":"callback","fault":"drop","count":1})",
        R"({"target":"callback","fault":"delay","delay":"2s","count":1})",
        R"({"target":"callback","fault":"out_of_order","count":1})",
    };
    Json rule = Json::parse(kRules[Pick(kRules.size())]);
    rule["account"] = account_;
    Check(control_->Post("/_sim/faults", rule.dump(), "application/json"), "add fault", true);
  }

  void Reset() {
    // Mostly this account's own; a few times a run everything (which other
    // workers see as their orders vanishing: 404s, never 5xx).
    if (Pick(3) != 0) {  // resets are rarer than the other calls: read the order instead
      Check(control_->Get(("/_sim/orders/" + AnyOrder()).c_str()), "control order view", true);
      return;
    }
    const bool everything = account_ == "7000000" && Pick(3) == 0;
    Check(control_->Post(everything ? "/_sim/reset" : ("/_sim/reset?account=" + account_).c_str(), "",
                         "application/json"),
          everything ? "full reset" : "account reset", true);
  }

  std::unique_ptr<httplib::Client> api_;
  std::unique_ptr<httplib::Client> control_;
  const CallbackReceiver& receiver_;
  std::string account_;
  std::mt19937 random_;
  WorkerLog log_;
  std::vector<std::string> pin_orders_;  // created for a ...0001 TN (pin-required)
};

}  // namespace

TEST_CASE("chaos soak: parallel clients mixing every call leave the simulator sane", "[soak]") {
  SimulatorProcess sim({"--clock", "manual", "--seed", "7"});
  CallbackReceiver receiver;

  std::vector<WorkerLog> logs(kWorkers + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w <= kWorkers; ++w) {
    const std::string account = w == kWorkers ? kFaultAccount : "700000" + std::to_string(w);
    threads.emplace_back([&, w, account] { logs[w] = Worker(sim, receiver, account, 1000u + unsigned(w)).Run(); });
  }
  for (auto& thread : threads) thread.join();

  auto control = sim.Client("");
  // Settle what is still due, with no faults left, then judge the state.
  REQUIRE(control->Delete("/_sim/faults"));
  auto advanced = control->Post("/_sim/clock/advance", R"({"by":"10s"})", "application/json");
  REQUIRE(advanced);
  CHECK(advanced->status == 200);

  std::size_t checked = 0;
  std::size_t resumed_by_pin = 0;  // orders that went through an on_update step
  for (const auto& log : logs) {
    for (const auto& problem : log.problems) FAIL_CHECK(problem);
    for (const auto& order_id : std::set<std::string>(log.orders.begin(), log.orders.end())) {
      auto order = control->Get(("/_sim/orders/" + order_id).c_str());
      REQUIRE(order);
      if (order->status == 404) continue;  // removed by a reset
      REQUIRE(order->status == 200);
      const Json view = Json::parse(order->body);
      INFO("order " << order_id << ": " << view.dump());
      CHECK(IllegalHistory(view) == "");
      ++checked;
      for (const auto& entry : view["history"]) resumed_by_pin += entry["cause"] == "update" ? 1 : 0;
    }
  }
  INFO("orders checked: " << checked << ", resumed by a PIN: " << resumed_by_pin);
  CHECK(checked > 20);
  CHECK(resumed_by_pin > 0);  // the soak reached the PUT-driven path too

  auto health = control->Get("/_sim/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(sim.Stop() == 0);
}
