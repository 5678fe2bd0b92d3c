// admin: SimulatorAdmin, the narrow facade through which the control API
// (control.hpp) and the dashboard (dashboard.hpp) inspect and steer one
// simulator instance. It offers the operations the /_sim routes need and no
// references to the parts behind them: readiness and health, reset, the clock
// (with the one settle rule), order snapshots and forced transitions, the
// callback and request journals, callback settings, scenarios, faults, the
// event stream and the metrics. Built and owned by Simulator (app.hpp), after
// the parts it steers and destroyed before them.
//
// Locks: an order is copied under its own mutex (OrderSlot::mu, simulator/store.hpp) into
// an OrderView value and the lock is released before the copy is returned, so
// no caller ever locks an order. Every other call takes only the leaf lock of
// the part it reads (docs/architecture.md, "Locks and their order").
//
// Thread-safety: every method is safe from many threads.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "csrsim/callbacks.hpp"
#include "csrsim/config.hpp"
#include "csrsim/faults.hpp"
#include "csrsim/journal.hpp"
#include "csrsim/model.hpp"
#include "csrsim/request_journal.hpp"
#include "csrsim/scenario.hpp"

namespace csrsim {

class Store;  // store.hpp (simulator/): the orders and subscriptions

class Authenticator;
class Clock;
class Engine;
class EventBus;
class EventSubscription;
class Metrics;
class Scheduler;
class ScenarioLibrary;
class StateSink;

// One order as the control API shows it, copied under the order's mutex.
struct OrderView {
  std::uint64_t sequence = 0;  // creation order across accounts (the order list's cursor)
  Order order;                 // without its notes (OrderWithoutNotes)
  NoteList notes;              // a snapshot, a pointer per note
  ScenarioProgress progress;   // keeps its variant alive
};

// One page of the order list, in creation order.
struct OrderViewPage {
  std::vector<OrderView> orders;
  std::optional<std::uint64_t> next;  // more match: the cursor of the following page
};

// What GET /_sim/health reports besides readiness.
struct HealthView {
  std::string version;
  std::size_t scenarios = 0;  // in the global set
  std::string clock;          // Clock::Describe()
  SimTime now;
  std::size_t orders = 0;
  std::size_t accounts = 0;
  std::size_t event_streams = 0;
  std::uint64_t dropped_event_streams = 0;
};

// The clock, or one account's timeline.
struct ClockView {
  SimTime now;        // on the account's timeline when given
  std::string mode;   // Clock::Describe()
  Duration offset{};  // the account's offset (zero for the global clock)
};

class SimulatorAdmin {
 public:
  // The running parts it steers; each outlives the facade.
  struct Parts {
    const Config& config;
    Clock& clock;
    Scheduler& scheduler;
    Store& store;
    Journal& journal;
    CallbackDispatcher& dispatcher;
    ScenarioLibrary& scenarios;
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
  explicit SimulatorAdmin(Parts parts);

  // The flags it runs with (control token, scenario paths and roots).
  const Config& config() const { return parts_.config; }

  // ---- health
  bool Ready() const { return parts_.ready(); }
  HealthView Health() const;

  // ---- state
  // Drops orders, notes, subscriptions, journal entries, recorded requests,
  // queued callbacks, fault rules, per-account scenario sets and timeline
  // offsets of one account, or of all (then also tokens and rate windows);
  // with --state, the same orders and subscriptions leave the state file.
  void Reset(const std::optional<std::string>& account_id);

  // ---- the clock
  ClockView Clock(const std::optional<std::string>& account_id) const;
  bool ManualClock() const;
  // Manual clock only (false otherwise, or past LatestSimTime()): moves time by
  // `by` — every account's, or only `account_id`'s own timeline
  // (scheduler.hpp) — settling after each due time (Settle), so it returns once
  // every step due by the new time has run and its callbacks were attempted
  // (and, with --state, the new time is in the state file).
  bool AdvanceClock(Duration by, const std::optional<std::string>& account_id);

  // ---- orders
  // At most `limit` orders created after the one with sequence `after` (0:
  // from the first), of one account or all, with `status` when given.
  OrderViewPage Orders(const std::optional<std::string>& account_id, std::optional<OrderStatus> status,
                       std::uint64_t after, std::size_t limit) const;
  std::optional<OrderView> FindOrder(const std::string& order_id) const;  // any account
  // Forces the order into `status` (engine.hpp) and settles like an advance:
  // returns the order as it is then, once the transition's callbacks were
  // attempted. nullopt when no account has the order.
  std::optional<OrderView> ForceTransition(const std::string& order_id, OrderStatus status,
                                           std::optional<std::string> message, std::vector<ErrorDetail> errors);
  std::array<std::uint64_t, kOrderStatusNames.size()> OrderCountsByStatus() const;

  // ---- callbacks
  std::vector<JournalEntry> Callbacks(const JournalFilter& filter) const;
  std::uint64_t CallbacksDropped() const;
  // The first matching entry within `timeout` (wall time), else nullopt.
  std::optional<JournalEntry> WaitForCallback(const JournalFilter& filter, std::chrono::milliseconds timeout);
  // Written to the --state file first, then applied.
  void SetCallbackSettings(const std::optional<CallbackAuthMode>& mode, const std::optional<RetryPolicy>& retry);

  // ---- scenarios
  // The set in force: the global one, or the account's (its own or the global).
  std::shared_ptr<const ScenarioSet> Scenarios(const std::optional<std::string>& account_id = std::nullopt) const;
  bool HasAccountScenarios(const std::string& account_id) const;
  void ReplaceScenarios(std::shared_ptr<const ScenarioSet> loaded);  // the global set; publishes an event
  // The account's own set, from `source` (the file's text, kept by --state).
  void SetAccountScenarios(const std::string& account_id, std::shared_ptr<const ScenarioSet> loaded,
                           const std::string& source);
  void RestoreAccountScenarios(const std::string& account_id);  // back on the global set

  // ---- faults (faults.hpp)
  std::string AddApiFault(ApiFaultRule rule);
  std::string AddCallbackFault(CallbackFaultRule rule);
  bool RemoveFault(const std::string& id);
  void ClearFaults(const std::optional<std::string>& account_id);
  std::vector<ApiFaultRule> ApiFaults() const;
  std::vector<CallbackFaultRule> CallbackFaults() const;

  // ---- the request journal (request_journal.hpp)
  RequestJournal::Page Requests(const RequestFilter& filter, std::size_t limit) const;
  std::size_t CountRequests(const RequestFilter& filter) const;
  std::vector<RequestRecord> WaitForRequests(const RequestFilter& filter, std::size_t count,
                                             std::chrono::milliseconds timeout);
  std::uint64_t RequestsDropped() const;
  std::size_t RequestCapacity() const;

  // ---- events and metrics
  // nullptr once the simulator is stopping (events.hpp, EventBus::Subscribe).
  std::unique_ptr<EventSubscription> SubscribeEvents(std::optional<std::string> account_id,
                                                     std::optional<std::uint64_t> last_id);
  std::uint64_t LastEventId() const;
  std::string RenderMetricCounters() const;  // metrics.hpp, Metrics::Render

 private:
  // The one settle rule: wait until the callbacks of `account_id` (nullopt:
  // all) were attempted; with the manual clock, also run what they scheduled
  // for the same instant (zero delays, retries) and wait again, until nothing
  // is due. Other clocks run due tasks on the scheduler's own thread.
  void Settle(const std::optional<std::string>& account_id);

  Parts parts_;
};

}  // namespace csrsim
