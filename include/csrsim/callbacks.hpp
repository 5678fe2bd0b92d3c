// callbacks: delivery of <Notification> POSTs to subscribers, and the journal
// of every attempt. The only module that uses cpp-httplib's client.
//
// Deliveries are built eagerly by the engine (body included) and handed to the
// CallbackDispatcher, which sends them from a pool of worker threads:
//  - per order and subscription, deliveries are attempted in submission
//    order (one in flight at a time); different orders and different
//    subscribers never wait for each other beyond the pool size, so a slow or
//    dead receiver cannot stall other orders or other receivers; one receiver
//    has at most max_in_flight_per_receiver attempts in flight, so even a
//    receiver that hangs leaves the other workers to the others;
//  - Basic credentials go pre-emptively, or in the challenge flow (first POST
//    without, then with them after a 401 carrying WWW-Authenticate);
//  - each attempt has a wall-clock timeout; there is no retry unless a
//    RetryPolicy says so (retries wait on the simulated clock);
//  - CallbackFaults (drop, duplicate, delay, out of order, wrong credentials)
//    are applied here and named in the journal entry they affect;
//  - every attempt, including a dropped one, ends as one JournalEntry, and the
//    outcome hook reports the last outcome per subscription.
//
// Thread-safety: Journal and CallbackDispatcher are safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "csrsim/clock.hpp"
#include "csrsim/model.hpp"
#include "csrsim/scheduler.hpp"

namespace csrsim {

// One notification to one subscriber, ready to send.
struct Delivery {
  std::string account_id;
  std::string subscription_id;
  std::string order_id;
  OrderStatus status = OrderStatus::kReceived;  // the Notification's <Status>
  std::string event = "status";                 // "status" or "note"
  std::string url;
  std::optional<BasicCredentials> credentials;
  std::string body;                             // the Notification XML
  SimTime scheduled_at{};                       // simulated time it became due
  CallbackFault fault;
};

// The record of one delivery attempt.
struct JournalEntry {
  std::uint64_t id = 0;  // assigned by the journal: 1, 2, 3, ...
  std::string account_id;
  std::string subscription_id;
  std::string order_id;
  OrderStatus status = OrderStatus::kReceived;
  std::string event;
  std::string url;
  int attempt = 1;  // 1-based; the challenge flow's second POST and retries count up
  std::vector<std::pair<std::string, std::string>> request_headers;
  std::string body;
  int response_status = 0;  // 0 when no HTTP response arrived
  std::string error;        // transport error or "dropped by fault"; empty on a response
  std::string fault;        // fault applied to this attempt, "" when none
  SimTime scheduled_at{};   // simulated time the notification became due
  SimTime sent_at{};        // simulated time the attempt started
  SimTime finished_at{};    // simulated time it ended
  std::int64_t wall_micros = 0;  // wall-clock duration of the attempt

  bool Succeeded() const { return response_status >= 200 && response_status < 300; }
};

struct JournalFilter {
  std::optional<std::string> account_id;
  std::optional<std::string> order_id;
  std::optional<std::string> subscription_id;
  std::optional<OrderStatus> status;
  std::uint64_t after_id = 0;  // only entries with id > after_id
  bool Matches(const JournalEntry& entry) const;
};

// A bounded, in-memory, append-only log of delivery attempts. When full, the
// oldest entry is evicted and counted in dropped().
class Journal {
 public:
  explicit Journal(std::size_t capacity = 10000);

  std::uint64_t Append(JournalEntry entry);  // assigns and returns the id
  std::vector<JournalEntry> Query(const JournalFilter& filter) const;
  // Returns the first entry matching `filter` (one appended before the call
  // counts), waiting up to `timeout` of wall time; nullopt on time-out or Shutdown.
  std::optional<JournalEntry> WaitFor(const JournalFilter& filter,
                                      std::chrono::milliseconds timeout);
  // Removes all entries, or one account's.
  void Clear(const std::optional<std::string>& account_id);
  void Shutdown();  // wakes every WaitFor

  std::uint64_t dropped() const;
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable appended_;
  std::deque<JournalEntry> entries_;  // guarded by mu_
  std::uint64_t next_id_ = 1;         // guarded by mu_
  std::uint64_t dropped_ = 0;         // guarded by mu_
  bool shutdown_ = false;             // guarded by mu_
};

enum class CallbackAuthMode { kPreemptive, kChallenge };

struct RetryPolicy {
  int max_attempts = 1;                                 // 1 = no retry (Bandwidth)
  Duration initial_backoff = std::chrono::seconds(1);   // simulated time
  double multiplier = 2.0;
};

struct DispatcherOptions {
  int workers = 16;
  // Attempts in flight to one receiver (scheme://host:port) at once: a
  // receiver that hangs holds at most this many workers.
  int max_in_flight_per_receiver = 4;
  std::chrono::milliseconds attempt_timeout{5000};  // wall time, per attempt
  CallbackAuthMode auth_mode = CallbackAuthMode::kPreemptive;
  RetryPolicy retry;
};

// Reports a subscription's last outcome ("200 OK", "500 Internal Server Error",
// "connection refused", ...) after each delivery's final attempt.
using OutcomeHook = std::function<void(const std::string& account_id,
                                       const std::string& subscription_id,
                                       const std::string& outcome)>;

class CallbackDispatcher {
 public:
  CallbackDispatcher(Clock& clock, Scheduler& scheduler, Journal& journal,
                     DispatcherOptions options, OutcomeHook on_outcome);
  ~CallbackDispatcher();  // Stop()
  CallbackDispatcher(const CallbackDispatcher&) = delete;
  CallbackDispatcher& operator=(const CallbackDispatcher&) = delete;

  // Queues a delivery; never blocks on the network.
  void Submit(Delivery delivery);
  // Blocks until nothing is queued or in flight. Deliveries waiting on the
  // simulated clock (delay faults, retry backoff) and out-of-order holds are
  // not counted.
  void WaitIdle();
  // Drops queued deliveries and forgets out-of-order holds of one account (or all).
  void Reset(const std::optional<std::string>& account_id);
  void SetAuthMode(CallbackAuthMode mode);
  void SetRetryPolicy(RetryPolicy policy);
  // Finishes attempts in flight, drops the rest, joins the workers. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace csrsim
