// runtime: references to every running part of one simulator instance, so the
// control API can inspect and steer them. Built and owned by Simulator (app.hpp).
//
// Thread-safety: the struct itself is immutable; each part documents its own.
#pragma once

#include <functional>
#include <string>

#include "csrsim/api.hpp"
#include "csrsim/callbacks.hpp"
#include "csrsim/clock.hpp"
#include "csrsim/config.hpp"
#include "csrsim/engine.hpp"
#include "csrsim/events.hpp"
#include "csrsim/faults.hpp"
#include "csrsim/metrics.hpp"
#include "csrsim/request_journal.hpp"
#include "csrsim/scheduler.hpp"
#include "csrsim/state_sink.hpp"
#include "csrsim/store.hpp"

namespace csrsim {

struct Runtime {
  const Config& config;
  Clock& clock;
  Scheduler& scheduler;
  Store& store;
  Journal& journal;
  CallbackDispatcher& dispatcher;
  ScenarioLibrary& scenarios;
  IdGenerator& ids;
  FaultInjector& faults;
  Engine& engine;
  Authenticator& auth;
  EventBus& events;
  RequestJournal& requests;
  Metrics& metrics;
  std::string version;
  std::function<bool()> ready;  // true once scenarios are loaded and the scheduler runs
  StateSink* state;             // --state FILE, else nullptr
};

// Manual clock only (false otherwise): moves time by `by` — every account's,
// or only `account_id`'s own timeline (scheduler.hpp) — then returns once
// every step due by the new time has run and its callbacks were attempted
// (and, with --state, the new global time is in the state file).
bool AdvanceClock(Runtime& runtime, Duration by, const std::optional<std::string>& account_id = std::nullopt);

// Drops orders, notes, subscriptions, journal entries, recorded requests,
// queued callbacks, fault rules, per-account scenario sets and timeline
// offsets of one account, or of all (then also tokens and rate windows);
// with --state, the same orders and subscriptions leave the state file.
void ResetState(Runtime& runtime, const std::optional<std::string>& account_id);

}  // namespace csrsim
