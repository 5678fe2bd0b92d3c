// engine: the simulated Bandwidth account — CSR orders driven by scenarios,
// notes, subscriptions, and the notifications they fan out.
//
// Flow: the api (or control) module calls these operations with decoded,
// validated input; the engine changes the Store under the order's lock,
// schedules the order's next scenario step on the Scheduler, and hands one
// eagerly-built Delivery per subscriber in scope to the CallbackDispatcher.
// Errors are thrown as csrsim::Error (NotFound for unknown ids, Invalid for
// state violations such as a PUT on a terminal order).
//
// Determinism: with a seed, order ids, subscription ids, note ids and variant
// choices depend only on the seed and the sequence of calls.
//
// Thread-safety: every method is safe from any thread. A transition is checked
// and applied under its order's mutex, and its notifications are submitted
// before that mutex is released, so callbacks of one order keep their order.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "csrsim/callbacks.hpp"
#include "csrsim/clock.hpp"
#include "csrsim/events.hpp"
#include "csrsim/faults.hpp"
#include "csrsim/model.hpp"
#include "csrsim/mutex.hpp"
#include "csrsim/scenario.hpp"
#include "csrsim/scheduler.hpp"
#include "csrsim/state_sink.hpp"
#include "csrsim/wire.hpp"

namespace csrsim {

class Store;  // store.hpp (simulator/): the orders and subscriptions

// Lower-case UUIDs and numeric note ids, reproducible under a seed.
class IdGenerator {
 public:
  explicit IdGenerator(std::optional<std::uint64_t> seed);
  std::string NewUuid();
  std::int64_t NewNoteId();
  std::uint64_t NewRandom();  // for variant choices
  void Reseed(std::optional<std::uint64_t> seed);
  // The seed (nullopt: a random one) and how many numbers were drawn from it
  // since (uuids take two, variant choices and fault fractions one).
  std::optional<std::uint64_t> seed() const;
  std::uint64_t draws() const;
  // After a restore (--state): note ids continue from `next_note_id`, and a
  // seeded generator skips the `draws` its seed's stream already gave out, so
  // ids after a restart continue the sequence instead of repeating it.
  void Resume(std::uint64_t draws, std::int64_t next_note_id);

 private:
  std::uint64_t Draw() CSRSIM_REQUIRES(mu_);

  mutable Mutex mu_;
  std::mt19937_64 rng_ CSRSIM_GUARDED_BY(mu_);
  std::optional<std::uint64_t> seed_ CSRSIM_GUARDED_BY(mu_);
  std::uint64_t draws_ CSRSIM_GUARDED_BY(mu_) = 0;
  std::int64_t next_note_id_ CSRSIM_GUARDED_BY(mu_) = 0;
};

// The scenarios in force: the global set, which Replace swaps atomically,
// and per-account sets that replace it for one account's new orders.
class ScenarioLibrary {
 public:
  explicit ScenarioLibrary(std::shared_ptr<const ScenarioSet> initial);
  std::shared_ptr<const ScenarioSet> Current() const;  // the global set
  // The account's own set, else the global one.
  std::shared_ptr<const ScenarioSet> Current(const std::string& account_id) const;
  bool HasAccountSet(const std::string& account_id) const;
  void Replace(std::shared_ptr<const ScenarioSet> next);
  void ReplaceForAccount(const std::string& account_id, std::shared_ptr<const ScenarioSet> set);
  // The account (nullopt: every account) runs the global set again; false
  // when it had no set of its own.
  bool RestoreGlobal(const std::optional<std::string>& account_id);

 private:
  mutable Mutex mu_;
  std::shared_ptr<const ScenarioSet> current_ CSRSIM_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::shared_ptr<const ScenarioSet>> accounts_ CSRSIM_GUARDED_BY(mu_);
};

struct OrderQuery {
  std::optional<SimTime> modified_from;
  std::optional<SimTime> modified_to;
  std::optional<OrderStatus> status;
  std::size_t page = 1;  // 1-based
  std::size_t size = 300;
};

struct OrderPage {
  std::size_t total_count = 0;
  std::vector<Order> orders;
  bool has_next = false;
};

// Caps on what the engine holds, so memory is bounded (README, Limits). A
// call past a cap throws Error::LimitReached and creates nothing; orders
// restored from --state are not refused (they were accepted before).
struct EngineLimits {
  std::size_t max_orders = 1'000'000;                // all accounts together (--max-orders)
  std::size_t max_notes_per_order = 1000;            // --max-notes-per-order
  std::size_t max_subscriptions_per_account = 1000;  // --max-subscriptions-per-account
};

class Engine {
 public:
  // `events` (optional) receives order, transition, note and subscription events.
  Engine(Store& store, Clock& clock, Scheduler& scheduler, CallbackDispatcher& dispatcher, ScenarioLibrary& scenarios,
         IdGenerator& ids, FaultInjector& faults, EventBus* events = nullptr);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- orders
  // Orders these return carry no notes (`notes` is empty; GetNotes has them):
  // no read copies an order's notes under its mutex (store.hpp, OrderWithoutNotes).
  Order CreateOrder(const std::string& account_id, const std::string& user, CsrFields fields);
  Order GetOrder(const std::string& account_id, const std::string& order_id) const;
  // Throws the 404 GetOrder would, without copying the order (and its notes).
  void RequireOrder(const std::string& account_id, const std::string& order_id) const;
  // Merges fields, or cancels on REQUESTED_CANCEL; resumes a waiting on_update step.
  Order UpdateOrder(const std::string& account_id, const std::string& user, const std::string& order_id,
                    const wire::CsrRequest& request);
  OrderPage ListOrders(const std::string& account_id, const OrderQuery& query) const;
  // Control API: applies a status now, cancelling the scenario's pending steps
  // when the status is terminal.
  Order ForceTransition(const std::string& order_id, OrderStatus status, std::optional<std::string> message,
                        std::vector<ErrorDetail> errors);

  // ---- notes
  // A snapshot: later adds and edits do not change it.
  NoteList GetNotes(const std::string& account_id, const std::string& order_id) const;
  Note AddNote(const std::string& account_id, const std::string& order_id, std::string user_id,
               std::string description);
  void UpdateNote(const std::string& account_id, const std::string& order_id, std::int64_t note_id,
                  std::optional<std::string> user_id, std::optional<std::string> description);

  // ---- subscriptions
  Subscription CreateSubscription(const std::string& account_id, SubscriptionSpec spec);
  Subscription GetSubscription(const std::string& account_id, const std::string& id) const;
  std::vector<Subscription> ListSubscriptions(const std::string& account_id,
                                              const std::optional<std::string>& order_type,
                                              const std::optional<std::string>& order_id) const;
  void ReplaceSubscription(const std::string& account_id, const std::string& id, SubscriptionSpec spec);
  void DeleteSubscription(const std::string& account_id, const std::string& id);

  // Records a delivery's outcome in its subscription's Status.
  void RecordCallbackOutcome(const std::string& account_id, const std::string& subscription_id,
                             const std::string& outcome);

  Clock& clock() const;
  // The account's simulated time (scheduler.hpp, per-account timelines): every
  // timestamp of its orders, notes, subscriptions and callbacks.
  SimTime Now(const std::string& account_id) const;

  // ---- durable state (--state)
  // Every later change is written to `sink` before the call returns. Set
  // once, before the simulator serves; nullptr (the default) writes nothing.
  void SetStateSink(StateSink* sink);
  // Set once, before the simulator serves (default: EngineLimits{}).
  void SetLimits(const EngineLimits& limits);
  // Puts back an order read from the state file and schedules its pending
  // step at its stored due time (a step already due runs at once).
  void RestoreOrder(Order order, ScenarioProgress progress);

 private:
  // engine.cpp: the engine's parts and the steps that run under an order's
  // mutex (OrderSlot, simulator/store.hpp), out of this header so that the
  // store's internals stay inside simulator/.
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace csrsim
