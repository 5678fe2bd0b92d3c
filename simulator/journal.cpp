// The bounded journal of callback delivery attempts (journal.hpp).
#include "csrsim/journal.hpp"

#include <algorithm>

namespace csrsim {

bool JournalFilter::Matches(const JournalEntry& entry) const {
  return entry.id > after_id && (!account_id || entry.account_id == *account_id) &&
         (!order_id || entry.order_id == *order_id) &&
         (!subscription_id || entry.subscription_id == *subscription_id) && (!status || entry.status == *status);
}

namespace {

// The first entry whose id is greater than `id`; entries are kept in id order.
std::deque<JournalEntry>::const_iterator FirstAfter(const std::deque<JournalEntry>& entries, std::uint64_t id) {
  return std::upper_bound(entries.begin(), entries.end(), id,
                          [](std::uint64_t value, const JournalEntry& e) { return value < e.id; });
}

}  // namespace

Journal::Journal(std::size_t capacity, std::function<void(const JournalEntry&)> on_append)
    : capacity_(capacity), on_append_(std::move(on_append)) {}

std::uint64_t Journal::Append(JournalEntry entry) {
  std::uint64_t id = 0;
  {
    MutexLock lock(mu_);
    id = next_id_++;
    entry.id = id;
    if (on_append_) on_append_(entry);  // under mu_, so observers see journal order
    entries_.push_back(std::move(entry));
    while (entries_.size() > capacity_) {
      entries_.pop_front();
      ++dropped_;
    }
  }
  appended_.notify_all();
  return id;
}

void Journal::Restore(std::vector<JournalEntry> entries) {
  MutexLock lock(mu_);
  for (auto& entry : entries) {
    if (!entries_.empty() && entry.id <= entries_.back().id) continue;  // keeps ids rising
    next_id_ = std::max(next_id_, entry.id + 1);
    entries_.push_back(std::move(entry));
  }
  while (entries_.size() > capacity_) entries_.pop_front();
}

std::vector<JournalEntry> Journal::Query(const JournalFilter& filter) const {
  MutexLock lock(mu_);
  std::vector<JournalEntry> matches;
  for (auto it = FirstAfter(entries_, filter.after_id); it != entries_.end(); ++it) {
    if (filter.Matches(*it)) matches.push_back(*it);
  }
  return matches;
}

std::optional<JournalEntry> Journal::WaitFor(const JournalFilter& filter, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  std::uint64_t scanned_up_to = filter.after_id;  // entries up to this id did not match
  for (;;) {
    for (auto it = FirstAfter(entries_, scanned_up_to); it != entries_.end(); ++it) {
      if (filter.Matches(*it)) return *it;
    }
    scanned_up_to = std::max(scanned_up_to, next_id_ - 1);
    if (shutdown_) return std::nullopt;
    if (!lock.WaitUntil(appended_, deadline)) {
      // One last look: an entry may have arrived together with the time-out.
      for (auto it = FirstAfter(entries_, scanned_up_to); it != entries_.end(); ++it) {
        if (filter.Matches(*it)) return *it;
      }
      return std::nullopt;
    }
  }
}

void Journal::Clear(const std::optional<std::string>& account_id) {
  MutexLock lock(mu_);
  if (!account_id) {
    entries_.clear();
    dropped_ = 0;
    return;
  }
  std::erase_if(entries_, [&](const JournalEntry& e) { return e.account_id == *account_id; });
}

void Journal::Shutdown() {
  {
    MutexLock lock(mu_);
    shutdown_ = true;
  }
  appended_.notify_all();
}

std::uint64_t Journal::last_id() const {
  MutexLock lock(mu_);
  return next_id_ - 1;
}

std::uint64_t Journal::dropped() const {
  MutexLock lock(mu_);
  return dropped_;
}

std::size_t Journal::size() const {
  MutexLock lock(mu_);
  return entries_.size();
}

}  // namespace csrsim
