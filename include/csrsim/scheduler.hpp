// scheduler: runs tasks at simulated times, on one thread, in (due time,
// submission) order. Tasks must be short and must not block on the network;
// they may schedule further tasks.
//
// With a manual clock, Advance() moves time and returns only when every task
// due by the new time has run, including tasks those tasks scheduled that are
// also due — so a test can assert right after it.
//
// Per-account timelines: each account's simulated time is the clock's time
// plus the account's own offset (zero until AdvanceAccount moves it). A task
// scheduled for an account is due on that account's timeline; the global
// Advance moves every timeline, AdvanceAccount only its account's and runs
// only what falls due on it. The account "" is the global timeline.
//
// Thread-safety: every method is safe from any thread. Tasks run on the
// scheduler's own thread (or on the advancing thread for Advance()), never
// two at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "csrsim/clock.hpp"
#include "csrsim/mutex.hpp"

namespace csrsim {

class Scheduler {
 public:
  using Task = std::function<void()>;

  explicit Scheduler(Clock& clock);
  ~Scheduler();  // Stop()
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void Start();
  // Stops the thread; pending tasks are dropped. Idempotent.
  void Stop();

  void ScheduleAt(SimTime due, Task task) { ScheduleAt(std::string(), due, std::move(task)); }
  void ScheduleAfter(Duration delay, Task task) { ScheduleAt(clock_.Now() + delay, std::move(task)); }
  // `due` is a time on `account`'s timeline.
  void ScheduleAt(const std::string& account, SimTime due, Task task);
  void ScheduleAfter(const std::string& account, Duration delay, Task task) {
    ScheduleAt(account, Now(account) + delay, std::move(task));
  }

  // The account's simulated time: the clock's time plus its offset.
  SimTime Now(const std::string& account) const;
  Duration Offset(const std::string& account) const;

  // Manual clock only (returns false otherwise, and for a negative `by` or one
  // that would pass LatestSimTime()): advances the clock by `by`,
  // stepping through each due time so every task sees its own due time as
  // now, and runs every task due by then before returning.
  // `settle`, when given, runs after the tasks of each due time (e.g. to wait
  // for the callbacks they submitted), before the clock moves on.
  bool Advance(Duration by, const std::function<void()>& settle = {});
  // The same on one account's timeline: moves only its offset, stepping
  // through its tasks' due times, and runs them (tasks of other accounts that
  // are already due may run too; none becomes due). Each step looks at every
  // pending task: meant for tests, not for millions of queued steps.
  bool AdvanceAccount(const std::string& account, Duration by, const std::function<void()>& settle = {});
  // Puts the account's timeline (nullopt: every account's) back on the
  // clock's time; its pending tasks keep their due times on it.
  void ResetTimeline(const std::optional<std::string>& account);
  // Sets the account's offset without running anything: a restore from
  // --state, before the account's tasks are scheduled.
  void RestoreOffset(const std::string& account, Duration offset);
  // Runs every task already due; returns how many ran.
  std::size_t RunDue();

  // True while a task is due or running.
  bool Busy() const;
  std::size_t pending() const;
  Clock& clock() const { return clock_; }

 private:
  // A task's place in the queue: its due time on the global timeline (the
  // account's due time minus the account's offset), then submission order.
  using Key = std::pair<SimTime, std::uint64_t>;
  struct Entry {
    std::string account;
    Task task;
  };

  void Loop();
  bool PopDue(Task& task) CSRSIM_REQUIRES(mu_);
  // Moves the account's offset by `delta`, and its tasks' keys with it.
  void ShiftLocked(const std::string& account, Duration delta) CSRSIM_REQUIRES(mu_);
  Duration OffsetLocked(const std::string& account) const CSRSIM_REQUIRES(mu_);

  Clock& clock_;
  mutable Mutex mu_;
  std::condition_variable changed_;
  std::map<Key, Entry> queue_ CSRSIM_GUARDED_BY(mu_);
  std::unordered_map<std::string, Duration> offsets_ CSRSIM_GUARDED_BY(mu_);  // absent: zero
  std::atomic<bool> has_offsets_{false};  // !offsets_.empty(), written under mu_, read without it
  std::uint64_t next_seq_ CSRSIM_GUARDED_BY(mu_) = 0;
  bool stopping_ CSRSIM_GUARDED_BY(mu_) = false;
  bool running_ CSRSIM_GUARDED_BY(mu_) = false;  // a popped task has not finished
  Mutex run_mu_;                                 // held while a task runs: one task at a time
  Mutex advance_mu_;                             // held for a whole Advance()
  std::thread thread_;
};

}  // namespace csrsim
