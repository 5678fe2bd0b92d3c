#include "csrsim/faults.hpp"

#include <algorithm>

namespace csrsim {

FaultInjector::FaultInjector(std::function<std::uint64_t()> random, EventBus* events)
    : random_(std::move(random)), events_(events) {}

std::string FaultInjector::AddApiFault(ApiFaultRule rule) {
  std::lock_guard lock(mu_);
  rule.id = "fault-" + std::to_string(next_id_++);
  api_rules_.push_back(rule);
  EmitFaultsChanged(events_, rule.account_id);
  return rule.id;
}

std::string FaultInjector::AddCallbackFault(CallbackFaultRule rule) {
  std::lock_guard lock(mu_);
  rule.id = "fault-" + std::to_string(next_id_++);
  callback_rules_.push_back(rule);
  EmitFaultsChanged(events_, rule.account_id);
  return rule.id;
}

bool FaultInjector::Remove(const std::string& id) {
  std::lock_guard lock(mu_);
  auto before = api_rules_.size() + callback_rules_.size();
  std::erase_if(api_rules_, [&id](const auto& rule) { return rule.id == id; });
  std::erase_if(callback_rules_, [&id](const auto& rule) { return rule.id == id; });
  const bool removed = api_rules_.size() + callback_rules_.size() != before;
  if (removed) EmitFaultsChanged(events_, std::nullopt);
  return removed;
}

void FaultInjector::Clear(const std::optional<std::string>& account_id) {
  std::lock_guard lock(mu_);
  auto of_account = [&account_id](const auto& rule) { return !account_id || rule.account_id == account_id; };
  std::erase_if(api_rules_, of_account);
  std::erase_if(callback_rules_, of_account);
  EmitFaultsChanged(events_, account_id);
}

std::vector<ApiFaultRule> FaultInjector::ApiFaults() const {
  std::lock_guard lock(mu_);
  return api_rules_;
}

std::vector<CallbackFaultRule> FaultInjector::CallbackFaults() const {
  std::lock_guard lock(mu_);
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

ApiFaultOutcome FaultInjector::OnApiCall(const std::string& account_id, const std::string& route_key) {
  ApiFaultOutcome outcome;
  std::lock_guard lock(mu_);
  for (auto& rule : api_rules_) {
    if (rule.route && *rule.route != route_key) continue;
    if (!Fires(rule.account_id, account_id, rule.remaining, rule.fraction)) continue;
    outcome.applied.push_back(rule.id);
    EmitFaultFired(events_, "api", rule.id, account_id, route_key);
    switch (rule.action) {
      case ApiFaultAction::kLatency: outcome.latency += rule.latency; break;
      case ApiFaultAction::kStatus:
        if (!outcome.status) outcome.status = rule.status;
        break;
      case ApiFaultAction::kDropConnection: outcome.drop_connection = true; break;
    }
  }
  std::erase_if(api_rules_, [](const auto& rule) { return rule.remaining && *rule.remaining <= 0; });
  return outcome;
}

CallbackFault FaultInjector::OnCallback(const std::string& account_id, CallbackFault base) {
  std::lock_guard lock(mu_);
  for (auto& rule : callback_rules_) {
    if (!Fires(rule.account_id, account_id, rule.remaining, rule.fraction)) continue;
    EmitFaultFired(events_, "callback", rule.id, account_id, "notification");
    base.MergeFrom(rule.fault);
  }
  std::erase_if(callback_rules_, [](const auto& rule) { return rule.remaining && *rule.remaining <= 0; });
  return base;
}

}  // namespace csrsim
