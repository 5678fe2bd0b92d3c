#include "csrsim/scheduler.hpp"

#include <algorithm>

namespace csrsim {

Scheduler::Scheduler(Clock& clock) : clock_(clock) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  MutexLock lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Scheduler::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Scheduler::ScheduleAt(const std::string& account, SimTime due, Task task) {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
    queue_.emplace(Key{due - OffsetLocked(account), next_seq_++}, Entry{account, std::move(task)});
  }
  changed_.notify_all();
}

Duration Scheduler::OffsetLocked(const std::string& account) const {
  if (offsets_.empty() || account.empty()) return Duration::zero();
  auto it = offsets_.find(account);
  return it == offsets_.end() ? Duration::zero() : it->second;
}

Duration Scheduler::Offset(const std::string& account) const {
  // Every request reads its account's offset; without any, it takes no lock.
  if (!has_offsets_.load(std::memory_order_acquire)) return Duration::zero();
  MutexLock lock(mu_);
  return OffsetLocked(account);
}

void Scheduler::RestoreOffset(const std::string& account, Duration offset) {
  MutexLock lock(mu_);
  if (!account.empty()) ShiftLocked(account, offset - OffsetLocked(account));
}

SimTime Scheduler::Now(const std::string& account) const { return clock_.Now() + Offset(account); }

void Scheduler::ShiftLocked(const std::string& account, Duration delta) {
  if (delta == Duration::zero()) return;
  const Duration offset = OffsetLocked(account) + delta;
  if (offset == Duration::zero()) {
    offsets_.erase(account);
  } else {
    offsets_[account] = offset;
  }
  has_offsets_.store(!offsets_.empty(), std::memory_order_release);
  std::vector<std::map<Key, Entry>::node_type> moved;
  for (auto it = queue_.begin(); it != queue_.end();) {
    auto current = it++;
    if (current->second.account == account) moved.push_back(queue_.extract(current));
  }
  for (auto& node : moved) {
    node.key().first -= delta;
    queue_.insert(std::move(node));
  }
}

bool Scheduler::PopDue(Task& task) {
  if (stopping_ || queue_.empty()) return false;
  auto first = queue_.begin();
  if (first->first.first > clock_.Now()) return false;
  task = std::move(first->second.task);
  queue_.erase(first);
  return true;
}

std::size_t Scheduler::RunDue() {
  std::size_t ran = 0;
  for (;;) {
    // Pop and run under run_mu_, so tasks never overlap and never run out of
    // order between the scheduler thread and an advancing thread.
    MutexLock run(run_mu_);
    Task task;
    {
      MutexLock lock(mu_);
      if (!PopDue(task)) return ran;
      running_ = true;
    }
    task();
    ++ran;
    MutexLock lock(mu_);
    running_ = false;
  }
}

bool Scheduler::Advance(Duration by, const std::function<void()>& settle) {
  if (!clock_.IsManual() || by.count() < 0) return false;
  MutexLock advancing(advance_mu_);  // concurrent advances add up, none is lost
  if (by > LatestSimTime() - clock_.Now()) return false;
  const SimTime target = clock_.Now() + by;
  // Step the clock through each due time, so a task reads its own due time as
  // "now" and what it schedules relative to now lands where it should.
  for (;;) {
    SimTime next = target;
    {
      MutexLock lock(mu_);
      if (!queue_.empty()) next = std::min(target, queue_.begin()->first.first);
    }
    if (const SimTime now = clock_.Now(); next > now) clock_.Advance(next - now);
    RunDue();
    if (settle) settle();
    if (next >= target) return true;
  }
}

bool Scheduler::AdvanceAccount(const std::string& account, Duration by, const std::function<void()>& settle) {
  if (account.empty()) return Advance(by, settle);
  if (!clock_.IsManual() || by.count() < 0) return false;
  MutexLock advancing(advance_mu_);
  const SimTime start = Now(account);
  if (by > LatestSimTime() - start) return false;
  const SimTime target = start + by;
  for (;;) {
    SimTime next = target;
    {
      MutexLock lock(mu_);
      const Duration offset = OffsetLocked(account);
      // The account's tasks keep their order under a shift: its first one in
      // the queue is its earliest.
      for (const auto& [key, entry] : queue_) {
        if (entry.account != account) continue;
        next = std::min(next, key.first + offset);
        break;
      }
      const SimTime now = clock_.Now() + offset;
      if (next > now) ShiftLocked(account, next - now);
    }
    changed_.notify_all();
    RunDue();
    if (settle) settle();
    if (next >= target) return true;
  }
}

void Scheduler::ResetTimeline(const std::optional<std::string>& account) {
  {
    MutexLock lock(mu_);
    if (account) {
      ShiftLocked(*account, -OffsetLocked(*account));
    } else {
      while (!offsets_.empty()) {
        const auto [name, offset] = *offsets_.begin();
        ShiftLocked(name, -offset);
      }
    }
  }
  changed_.notify_all();
}

bool Scheduler::Busy() const {
  MutexLock lock(mu_);
  return running_ || (!queue_.empty() && queue_.begin()->first.first <= clock_.Now());
}

std::size_t Scheduler::pending() const {
  MutexLock lock(mu_);
  return queue_.size();
}

void Scheduler::Loop() {
  MutexLock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      lock.Wait(changed_);
      continue;
    }
    SimTime due = queue_.begin()->first.first;
    if (due <= clock_.Now()) {
      lock.Unlock();
      RunDue();
      lock.Lock();
      continue;
    }
    if (auto wall = clock_.WallTimeOf(due)) {
      lock.WaitUntil(changed_, *wall);
    } else {
      lock.Wait(changed_);  // manual clock: only Advance() or a new task moves us
    }
  }
}

}  // namespace csrsim
