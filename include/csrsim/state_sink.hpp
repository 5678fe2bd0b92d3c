// state_sink: where the engine writes each change of durable state, so that a
// `--state FILE` run can survive restarts (simulator/state_store.cpp
// implements it with SQLite). Without --state there is no sink and the
// engine skips every call: the in-memory default pays one null check.
//
// Contract: each method returns only once the change is committed, so the
// caller may then acknowledge it (a 2xx). A failure throws; the caller's
// request fails and nothing is acknowledged.
//
// Thread-safety: every method is safe from any thread. The engine calls
// SaveOrder under the order's mutex and SaveSubscriptions under the store's
// index lock, so changes of one order (or one account's subscriptions) reach
// the sink in the order they happened; a sink takes only its own lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "csrsim/callbacks.hpp"
#include "csrsim/faults.hpp"
#include "csrsim/model.hpp"
#include "csrsim/scenario.hpp"

namespace csrsim {

class StateSink {
 public:
  virtual ~StateSink() = default;
  // The order as it now is, with where it stands in its scenario. Notes are
  // only ever added or edited: a sink may write just the notes added since
  // its last write of the order, plus `edited_note` (an index) when one changed.
  // `callbacks` are the notifications the change queues: they are written in
  // the same transaction as the order, so a crash keeps the change with its
  // callbacks or neither. Returns their keys in the DeliveryLog
  // (callbacks.hpp), in order, for CallbackDispatcher::SubmitKept.
  virtual std::vector<std::int64_t> SaveOrder(const Order& order, const ScenarioProgress& progress,
                                              std::optional<std::size_t> edited_note = std::nullopt,
                                              const std::vector<Delivery>& callbacks = {}) = 0;
  // All of one account's subscriptions, in creation order.
  virtual void SaveSubscriptions(const std::string& account_id, const std::vector<Subscription>& subscriptions) = 0;
  // The manual clock's time after an advance.
  virtual void SaveClock(SimTime now) = 0;
  // Drops one account's orders, subscriptions, scenario set and timeline
  // offset, or everything.
  virtual void Reset(const std::optional<std::string>& account_id) = 0;
  // The fault rules as they now are, replacing the stored ones (called after
  // every change, so the sink reads them itself, in order).
  virtual void SaveFaults(const FaultInjector& faults) = 0;
  // Callback settings set through the control API (what was given).
  virtual void SaveCallbackSettings(std::optional<CallbackAuthMode> auth, std::optional<RetryPolicy> retry) = 0;
  // An account's own scenario set as the text it was given; nullopt: dropped.
  virtual void SaveAccountScenarios(const std::string& account_id, const std::optional<std::string>& text) = 0;
  // An account's timeline offset (scheduler.hpp) after it moved.
  virtual void SaveOffset(const std::string& account_id, Duration offset) = 0;
};

}  // namespace csrsim
