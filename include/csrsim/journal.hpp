// journal: the record of every callback delivery attempt — a bounded,
// in-memory, append-only log that the control API queries and long-polls.
// The dispatcher appends one entry per attempt (including a dropped one); the
// journal knows nothing about HTTP.
//
// Thread-safety: Journal is safe to call from any thread; JournalFilter and
// JournalEntry are plain values.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "csrsim/model.hpp"
#include "csrsim/mutex.hpp"

namespace csrsim {

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
  int response_status = 0;       // 0 when no HTTP response arrived
  std::string error;             // transport error or "dropped by fault"; empty on a response
  std::string fault;             // fault applied to this attempt, "" when none
  SimTime scheduled_at{};        // simulated time the notification became due
  SimTime sent_at{};             // simulated time the attempt started
  SimTime finished_at{};         // simulated time it ended
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
  // `on_append` sees every entry as it is appended (the event stream's hook);
  // it must be cheap and must not call back into the journal.
  explicit Journal(std::size_t capacity = 10000, std::function<void(const JournalEntry&)> on_append = {});

  std::uint64_t Append(JournalEntry entry);  // assigns and returns the id
  std::vector<JournalEntry> Query(const JournalFilter& filter) const;
  // Returns the first entry matching `filter` (one appended before the call
  // counts), waiting up to `timeout` of wall time; nullopt on time-out or Shutdown.
  std::optional<JournalEntry> WaitFor(const JournalFilter& filter, std::chrono::milliseconds timeout);
  // Removes all entries, or one account's.
  void Clear(const std::optional<std::string>& account_id);
  // Puts back entries read from a --state file (ids kept, in id order), before
  // serving; later ids continue after theirs. on_append does not see them.
  void Restore(std::vector<JournalEntry> entries);
  void Shutdown();  // wakes every WaitFor

  std::uint64_t dropped() const;
  std::uint64_t last_id() const;  // of the newest entry ever appended or restored; 0: none
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  const std::function<void(const JournalEntry&)> on_append_;
  mutable Mutex mu_;
  std::condition_variable appended_;
  std::deque<JournalEntry> entries_ CSRSIM_GUARDED_BY(mu_);
  std::uint64_t next_id_ CSRSIM_GUARDED_BY(mu_) = 1;
  std::uint64_t dropped_ CSRSIM_GUARDED_BY(mu_) = 0;
  bool shutdown_ CSRSIM_GUARDED_BY(mu_) = false;
};

}  // namespace csrsim
