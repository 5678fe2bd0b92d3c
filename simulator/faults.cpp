#include "csrsim/faults.hpp"

#include <algorithm>
#include <exception>

#include "csrsim/log.hpp"

namespace csrsim {

FaultInjector::FaultInjector(std::function<std::uint64_t()> random, EventBus* events)
    : random_(std::move(random)), events_(events) {}

void FaultInjector::Changed(bool from_a_call) const {
  if (!change_hook_) return;
  if (!from_a_call) return change_hook_();
  try {
    change_hook_();
  } catch (const std::exception& error) {
    ProcessLog().Error("state_write_failed", {{"change", "fault rule use count"}, {"error", error.what()}});
  }
}

template <typename Rule>
std::string FaultInjector::AddRule(Rule rule) {
  {
    MutexLock lock(mu_);
    rule.id = "fault-" + std::to_string(next_id_++);
    RulesLocked<Rule>().push_back(rule);
    SyncLocked();
    EmitFaultsChanged(events_, rule.account_id);
  }
  Changed(false);
  return rule.id;
}

std::string FaultInjector::AddApiFault(ApiFaultRule rule) { return AddRule(std::move(rule)); }

std::string FaultInjector::AddCallbackFault(CallbackFaultRule rule) { return AddRule(std::move(rule)); }

void FaultInjector::Restore(std::vector<ApiFaultRule> api_rules, std::vector<CallbackFaultRule> callback_rules) {
  MutexLock lock(mu_);
  api_rules_ = std::move(api_rules);
  callback_rules_ = std::move(callback_rules);
  SyncLocked();
  auto after = [this](const std::string& id) CSRSIM_REQUIRES(mu_) {
    if (id.rfind("fault-", 0) != 0) return;
    try {
      next_id_ = std::max<std::uint64_t>(next_id_, std::stoull(id.substr(6)) + 1);
    } catch (const std::exception&) {
    }
  };
  for (const auto& rule : api_rules_) after(rule.id);
  for (const auto& rule : callback_rules_) after(rule.id);
}

bool FaultInjector::Remove(const std::string& id) {
  bool removed = false;
  {
    MutexLock lock(mu_);
    auto before = api_rules_.size() + callback_rules_.size();
    std::erase_if(api_rules_, [&id](const auto& rule) { return rule.id == id; });
    std::erase_if(callback_rules_, [&id](const auto& rule) { return rule.id == id; });
    removed = api_rules_.size() + callback_rules_.size() != before;
    SyncLocked();
    if (removed) EmitFaultsChanged(events_, std::nullopt);
  }
  if (removed) Changed(false);
  return removed;
}

void FaultInjector::Clear(const std::optional<std::string>& account_id) {
  {
    MutexLock lock(mu_);
    auto of_account = [&account_id](const auto& rule) { return !account_id || rule.account_id == account_id; };
    std::erase_if(api_rules_, of_account);
    std::erase_if(callback_rules_, of_account);
    SyncLocked();
    EmitFaultsChanged(events_, account_id);
  }
  Changed(false);
}

std::vector<ApiFaultRule> FaultInjector::ApiFaults() const {
  MutexLock lock(mu_);
  return api_rules_;
}

std::vector<CallbackFaultRule> FaultInjector::CallbackFaults() const {
  MutexLock lock(mu_);
  return callback_rules_;
}

bool FaultInjector::Fires(const std::optional<std::string>& rule_account, const std::string& account_id,
                          std::optional<std::int64_t>& remaining, double fraction) {
  if (rule_account && *rule_account != account_id) return false;
  if (remaining && *remaining <= 0) return false;
  if (fraction < 1.0) {
    double draw = static_cast<double>(random_() >> 11) * 0x1.0p-53;  // uniform in [0, 1)
    if (draw >= fraction) return false;
  }
  if (remaining) --*remaining;
  return true;
}

void FaultInjector::SyncLocked() {
  has_api_rules_.store(!api_rules_.empty(), std::memory_order_release);
  has_callback_rules_.store(!callback_rules_.empty(), std::memory_order_release);
}

namespace {

// A rule that fired, for the log line written once the rules' lock is released.
struct FiredRule {
  std::string id;
  std::string did;
};

std::string DescribeAction(const ApiFaultRule& rule) {
  switch (rule.action) {
    case ApiFaultAction::kLatency:
      return "latency " + std::to_string(rule.latency.count()) + "ms";
    case ApiFaultAction::kStatus:
      return "status " + std::to_string(rule.status);
    case ApiFaultAction::kDropConnection:
      return "drop_connection";
  }
  return "";
}

std::string DescribeFault(const CallbackFault& fault) {
  std::string names;
  for (const CallbackFaultKind kind : fault.Kinds()) {
    if (!names.empty()) names += ",";
    names += ToString(kind);
  }
  return names;
}

void LogFired(const std::vector<FiredRule>& fired, std::string_view target, const std::string& account_id,
              std::string_view route) {
  for (const FiredRule& rule : fired) {
    ProcessLog().Info(
        "fault_fired",
        {{"rule", rule.id}, {"target", target}, {"account", account_id}, {"route", route}, {"did", rule.did}});
  }
}

}  // namespace

ApiFaultOutcome FaultInjector::OnApiCall(const std::string& account_id, const std::string& route_key) {
  ApiFaultOutcome outcome;
  if (!has_api_rules_.load(std::memory_order_acquire)) return outcome;
  const bool log = ProcessLog().Enabled(LogLevel::kInfo);
  std::vector<FiredRule> fired;
  bool consumed = false;
  {
    MutexLock lock(mu_);
    for (auto& rule : api_rules_) {
      if (rule.route && *rule.route != route_key) continue;
      if (!Fires(rule.account_id, account_id, rule.remaining, rule.fraction)) continue;
      consumed = consumed || rule.remaining.has_value();
      outcome.applied.push_back(rule.id);
      EmitFaultFired(events_, "api", rule.id, account_id, route_key);
      if (log) fired.push_back({rule.id, DescribeAction(rule)});
      switch (rule.action) {
        case ApiFaultAction::kLatency:
          outcome.latency += rule.latency;
          break;
        case ApiFaultAction::kStatus:
          if (!outcome.status) outcome.status = rule.status;
          break;
        case ApiFaultAction::kDropConnection:
          outcome.drop_connection = true;
          break;
      }
    }
    std::erase_if(api_rules_, [](const auto& rule) { return rule.remaining && *rule.remaining <= 0; });
    SyncLocked();
  }
  LogFired(fired, "api", account_id, route_key);
  if (consumed) Changed(true);
  return outcome;
}

CallbackFault FaultInjector::OnCallback(const std::string& account_id, CallbackFault base) {
  if (!has_callback_rules_.load(std::memory_order_acquire)) return base;
  const bool log = ProcessLog().Enabled(LogLevel::kInfo);
  std::vector<FiredRule> fired;
  bool consumed = false;
  {
    MutexLock lock(mu_);
    for (auto& rule : callback_rules_) {
      if (!Fires(rule.account_id, account_id, rule.remaining, rule.fraction)) continue;
      consumed = consumed || rule.remaining.has_value();
      EmitFaultFired(events_, "callback", rule.id, account_id, "notification");
      base.MergeFrom(rule.fault);
      if (log) fired.push_back({rule.id, DescribeFault(rule.fault)});
    }
    std::erase_if(callback_rules_, [](const auto& rule) { return rule.remaining && *rule.remaining <= 0; });
    SyncLocked();
  }
  LogFired(fired, "callback", account_id, "notification");
  if (consumed) Changed(true);
  return base;
}

}  // namespace csrsim
