// callbacks: delivery of <Notification> POSTs to subscribers.
//
// Deliveries are built eagerly by the engine (body included) and handed to the
// CallbackDispatcher, which sends them from a pool of worker threads:
//  - per order and subscription, deliveries are attempted in submission
//    order (one in flight at a time); the lanes (callback_lanes.hpp) hand
//    turns out round-robin over accounts and hosts, with at most
//    max_in_flight_per_receiver attempts per account and receiver,
//    max_in_flight_per_host per account and host (every port of a host
//    counts as one) and max_in_flight_per_account per account, so receivers
//    that hang cost their own account's deliveries, not others';
//  - Basic credentials go pre-emptively, or in the challenge flow (first POST
//    without, then with them after a 401 carrying WWW-Authenticate);
//  - each attempt has a wall-clock timeout; there is no retry unless a
//    RetryPolicy says so (retries wait on the simulated clock);
//  - CallbackFaults (the kinds of model.hpp's table) are applied here and
//    named in the journal entry they affect;
//  - every attempt, including a dropped one, ends as one JournalEntry (the
//    one place an attempt's outcome is recorded), and the outcome hook reports
//    the last outcome per subscription after a delivery's final attempt.
// The POSTs go through a CallbackTransport (callback_transport.hpp): the
// httplib one by default, a fake one in tests.
//
// Thread-safety: CallbackDispatcher is safe to call from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "csrsim/callback_lanes.hpp"
#include "csrsim/callback_transport.hpp"
#include "csrsim/clock.hpp"
#include "csrsim/journal.hpp"
#include "csrsim/model.hpp"
#include "csrsim/scheduler.hpp"

namespace csrsim {

enum class CallbackAuthMode { kPreemptive, kChallenge };

struct RetryPolicy {
  int max_attempts = 1;                                // 1 = no retry (Bandwidth)
  Duration initial_backoff = std::chrono::seconds(1);  // simulated time
  double multiplier = 2.0;
};

struct DispatcherOptions {
  int workers = 32;
  // Attempts in flight for one account to one receiver (scheme://host:port);
  // 0: half the per-host limit.
  int max_in_flight_per_receiver = 0;
  // Attempts in flight for one account to one host (all its ports); 0: a
  // quarter of the workers. A host whose receivers hang holds at most this many.
  int max_in_flight_per_host = 0;
  // Attempts in flight for one account; 0: half of the workers.
  int max_in_flight_per_account = 0;
  std::chrono::milliseconds attempt_timeout{5000};  // wall time, per attempt
  CallbackAuthMode auth_mode = CallbackAuthMode::kPreemptive;
  RetryPolicy retry;
  // nullptr: MakeHttpTransport(attempt_timeout).
  std::shared_ptr<CallbackTransport> transport;
};

// Reports a subscription's last outcome ("200 OK", "500 Internal Server Error",
// "connection refused", ...) after each delivery's final attempt.
using OutcomeHook =
    std::function<void(const std::string& account_id, const std::string& subscription_id, const std::string& outcome)>;

// Where the dispatcher keeps deliveries and their attempts durable
// (--state FILE, state_store.hpp), for at-least-once delivery across a
// crash: a delivery is written when it is submitted (the engine's are written
// with the change that queued them, StateSink::SaveOrder, and come in through
// SubmitKept) and removed in the same
// transaction that writes the journal entries of its final attempt, so a
// delivery whose outcome was not journaled is still there at the next start
// and is sent again (CallbackDispatcher::Resubmit). Called outside the
// dispatcher's mutex; a failure is logged by the dispatcher and delivery goes
// on in memory.
class DeliveryLog {
 public:
  virtual ~DeliveryLog() = default;
  // A submitted delivery; returns its key (> 0).
  virtual std::int64_t DeliverySubmitted(const Delivery& delivery) = 0;
  // The delivery kept under `key` changed before its first attempt (a fault
  // rule added a fault, CallbackDispatcher::SubmitKept): written again.
  virtual void DeliveryChanged(std::int64_t key, const Delivery& delivery) = 0;
  // A turn of the delivery `key` (0: one not kept, e.g. a duplicate) ended
  // with these journal entries (ids assigned). `retry_at` nullopt: no retry
  // follows, the delivery is removed; else it stays with its next attempt
  // number, the failed rounds so far and when its retry is due (simulated
  // time on the account's timeline).
  virtual void DeliveryTurnEnded(std::int64_t key, const std::vector<JournalEntry>& entries, int next_attempt,
                                 int tries, std::optional<SimTime> retry_at) = 0;
};

// What Stop() dropped.
struct DispatcherDrops {
  std::size_t queued = 0;    // waiting for a worker, or held back (out of order)
  std::size_t on_clock = 0;  // waiting on the simulated clock (delay fault, retry backoff)
};

class CallbackDispatcher {
 public:
  CallbackDispatcher(Scheduler& scheduler, Journal& journal, DispatcherOptions options, OutcomeHook on_outcome);
  ~CallbackDispatcher();  // Stop()
  CallbackDispatcher(const CallbackDispatcher&) = delete;
  CallbackDispatcher& operator=(const CallbackDispatcher&) = delete;

  // Queues a delivery; never blocks on the network. With a DeliveryLog the
  // delivery is written to it first.
  void Submit(Delivery delivery);
  // Queues a delivery the DeliveryLog already keeps under `key` — written in
  // the transaction of the change that queued it (StateSink::SaveOrder).
  // `changed`: it differs from what was written (a fault rule added a fault),
  // so it is written again first (DeliveryChanged).
  void SubmitKept(Delivery delivery, std::int64_t key, bool changed);
  // Blocks until nothing is queued or in flight (of one account, or of all).
  // Deliveries waiting on the simulated clock (delay faults, retry backoff)
  // and out-of-order holds are not counted.
  void WaitIdle(const std::optional<std::string>& account_id = std::nullopt);
  // Whether WaitIdle would return at once now.
  bool Idle(const std::optional<std::string>& account_id = std::nullopt) const;
  // WaitIdle of all accounts for at most `timeout` (wall time); true when idle.
  bool WaitIdleFor(std::chrono::milliseconds timeout);
  // Drops queued deliveries and forgets out-of-order holds of one account (or all).
  void Reset(const std::optional<std::string>& account_id);
  void SetAuthMode(CallbackAuthMode mode);
  // Set once, before serving (and before Resubmit); nullptr: nothing kept.
  void SetDeliveryLog(DeliveryLog* log);
  // Sends again a delivery read back from the DeliveryLog after a restart:
  // as submitted, with its key, attempt number and failed rounds. One whose
  // retry was waiting (`retry_at`) waits again until then, holding back the
  // later deliveries of its order and subscription as it did.
  void Resubmit(Delivery delivery, std::int64_t key, int next_attempt, int tries,
                std::optional<SimTime> retry_at = std::nullopt);
  void SetRetryPolicy(RetryPolicy policy);
  // Finishes attempts in flight, drops the rest, joins the workers. Idempotent:
  // a second call reports nothing dropped.
  DispatcherDrops Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace csrsim
