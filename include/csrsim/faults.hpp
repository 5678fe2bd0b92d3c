// faults: failures a test injects on purpose, per account or global, set and
// cleared through the control API. API faults affect Bandwidth routes
// (latency, a status, a dropped connection) for the next N calls or a fraction
// of calls; callback faults are merged into the faults of a scenario step.
//
// Thread-safety: every method is safe from any thread; a rule's remaining
// count is consumed atomically under the injector's mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "csrsim/events.hpp"
#include "csrsim/model.hpp"
#include "csrsim/mutex.hpp"

namespace csrsim {

enum class ApiFaultAction { kStatus, kLatency, kDropConnection };

struct ApiFaultRule {
  std::string id;                         // assigned by the injector
  std::optional<std::string> account_id;  // nullopt: every account
  // "METHOD /pattern" with the account part removed, e.g. "POST /csrs",
  // "GET /csrs/*", "PUT /subscriptions/*"; nullopt: every Bandwidth route.
  std::optional<std::string> route;
  ApiFaultAction action = ApiFaultAction::kStatus;
  int status = 503;                       // kStatus (429 adds X-RateLimit-Reset)
  std::chrono::milliseconds latency{0};   // kLatency, wall time
  std::optional<std::int64_t> remaining;  // next N calls; nullopt: until cleared
  double fraction = 1.0;                  // share of matching calls hit
};

struct CallbackFaultRule {
  std::string id;
  std::optional<std::string> account_id;
  CallbackFault fault;
  std::optional<std::int64_t> remaining;
  double fraction = 1.0;
};

// What an API call must suffer, merged over every matching rule.
struct ApiFaultOutcome {
  std::chrono::milliseconds latency{0};
  std::optional<int> status;
  bool drop_connection = false;
  std::vector<std::string> applied;  // ids of the rules that fired
};

class FaultInjector {
 public:
  // `random` returns uniform 64-bit numbers (seeded for reproducible runs).
  // `events` (optional) receives "fault.fired" and "faults.changed".
  explicit FaultInjector(std::function<std::uint64_t()> random, EventBus* events = nullptr);

  std::string AddApiFault(ApiFaultRule rule);
  std::string AddCallbackFault(CallbackFaultRule rule);
  // Removes one rule by id; false if unknown.
  bool Remove(const std::string& id);
  // Removes every rule of one account (or all rules).
  void Clear(const std::optional<std::string>& account_id);
  std::vector<ApiFaultRule> ApiFaults() const;
  std::vector<CallbackFaultRule> CallbackFaults() const;

  // Consumes the rules that fire for this call.
  ApiFaultOutcome OnApiCall(const std::string& account_id, const std::string& route_key);
  // Returns `base` with the faults of the callback rules that fire merged in.
  CallbackFault OnCallback(const std::string& account_id, CallbackFault base);

  // ---- durable state (--state)
  // `hook` runs after every change of the rules (an add, a removal, a clear,
  // a counted rule consumed), outside the injector's mutex, on the changing
  // thread. What it throws reaches the caller of Add*/Remove/Clear; from
  // OnApiCall/OnCallback it is logged to stderr and dropped (the call goes on).
  // Set once, before serving.
  void SetChangeHook(std::function<void()> hook) { change_hook_ = std::move(hook); }
  // Puts back rules read from the state file; new ids continue after theirs.
  void Restore(std::vector<ApiFaultRule> api_rules, std::vector<CallbackFaultRule> callback_rules);

 private:
  void Changed(bool from_a_call) const CSRSIM_EXCLUDES(mu_);  // runs change_hook_

  bool Fires(const std::optional<std::string>& rule_account, const std::string& account_id,
             std::optional<std::int64_t>& remaining, double fraction) CSRSIM_REQUIRES(mu_);

  // Keeps the flags below equal to whether each list holds a rule.
  void SyncLocked() CSRSIM_REQUIRES(mu_);
  // api_rules_ or callback_rules_, by the rule type.
  template <typename Rule>
  std::vector<Rule>& RulesLocked() CSRSIM_REQUIRES(mu_) {
    if constexpr (std::is_same_v<Rule, ApiFaultRule>) {
      return api_rules_;
    } else {
      return callback_rules_;
    }
  }
  // Gives `rule` the next id and appends it to its list; returns the id.
  template <typename Rule>
  std::string AddRule(Rule rule);

  std::function<std::uint64_t()> random_;
  EventBus* events_;
  // Read without mu_, so that every API call and notification does not take
  // the one lock of all faults while no rule is set (the usual case).
  std::atomic<bool> has_api_rules_{false};
  std::atomic<bool> has_callback_rules_{false};
  mutable Mutex mu_;
  std::vector<ApiFaultRule> api_rules_ CSRSIM_GUARDED_BY(mu_);
  std::vector<CallbackFaultRule> callback_rules_ CSRSIM_GUARDED_BY(mu_);
  std::uint64_t next_id_ CSRSIM_GUARDED_BY(mu_) = 1;
  std::function<void()> change_hook_;  // set before serving
};

}  // namespace csrsim
