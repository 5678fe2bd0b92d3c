// scheduler: runs tasks at simulated times, on one thread, in (due time,
// submission) order. Tasks must be short and must not block on the network;
// they may schedule further tasks.
//
// With a manual clock, Advance() moves time and returns only when every task
// due by the new time has run, including tasks those tasks scheduled that are
// also due — so a test can assert right after it.
//
// Thread-safety: every method is safe from any thread. Tasks run on the
// scheduler's own thread (or on the advancing thread for Advance()), never
// two at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "csrsim/clock.hpp"

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

  void ScheduleAt(SimTime due, Task task);
  void ScheduleAfter(Duration delay, Task task) { ScheduleAt(clock_.Now() + delay, std::move(task)); }

  // Manual clock only (returns false otherwise, and for a negative `by` or one
  // that would pass LatestSimTime()): advances the clock by `by`,
  // stepping through each due time so every task sees its own due time as
  // now, and runs every task due by then before returning.
  // `settle`, when given, runs after the tasks of each due time (e.g. to wait
  // for the callbacks they submitted), before the clock moves on.
  bool Advance(Duration by, const std::function<void()>& settle = {});
  // Runs every task already due; returns how many ran.
  std::size_t RunDue();

  // True while a task is due or running.
  bool Busy() const;
  std::size_t pending() const;
  Clock& clock() const { return clock_; }

 private:
  void Loop();
  bool PopDue(Task& task);  // requires mu_ held via lock passed in RunDue

  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::multimap<std::pair<SimTime, std::uint64_t>, Task> queue_;  // guarded by mu_
  std::uint64_t next_seq_ = 0;  // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  bool running_ = false;        // guarded by mu_: a popped task has not finished
  std::mutex run_mu_;           // held while a task runs: one task at a time
  std::mutex advance_mu_;       // held for a whole Advance()
  std::thread thread_;
};

}  // namespace csrsim
