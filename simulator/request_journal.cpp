// The bounded journal of requests the system under test sent (request_journal.hpp).
#include "csrsim/request_journal.hpp"

#include <algorithm>

#include "csrsim/encoding.hpp"

namespace csrsim {

namespace {

constexpr std::string_view kMask = "***";

// Keeps the first kRequestBodyCap bytes; true when something was cut.
bool CapInto(std::string& out, std::string_view text) {
  out.assign(text.substr(0, kRequestBodyCap));
  return text.size() > kRequestBodyCap;
}

// Replaces the value of form parameter `name` ("a=1&name=secret&b=2") by the mask.
void MaskFormValue(std::string& form, std::string_view name) {
  std::size_t start = 0;
  while (start < form.size()) {
    std::size_t end = std::min(form.find('&', start), form.size());
    std::string_view pair = std::string_view(form).substr(start, end - start);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=') {
      const std::size_t value = start + name.size() + 1;
      form.replace(value, end - value, kMask);
      end = value + kMask.size();
    }
    start = end + 1;
  }
}

// Replaces the string value of JSON key `name` ({"name":"secret"}) by the mask.
void MaskJsonString(std::string& json, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":\"";
  const std::size_t at = json.find(key);
  if (at == std::string::npos) return;
  const std::size_t value = at + key.size();
  const std::size_t end = json.find('"', value);
  if (end != std::string::npos) json.replace(value, end - value, kMask);
}

// The path and query as sent; rebuilt from the decoded parts when the request
// was made in code (tests).
std::string RawPath(const HttpRequest& request) {
  if (!request.target.empty()) return request.target;
  std::string path = request.path;
  char separator = '?';
  for (const auto& [name, value] : request.query) {
    path += separator + UrlEncode(name) + "=" + UrlEncode(value);
    separator = '&';
  }
  return path;
}

}  // namespace

bool RequestFilter::Matches(const RequestRecord& record) const {
  if (record.id <= since_id) return false;
  if (account && record.account != *account) return false;
  if (method && record.method != *method) return false;
  if (route && (*route == "none" ? record.route.has_value() : record.route != *route)) return false;
  if (status && record.status != *status) return false;
  if (status_class && record.status / 100 != *status_class) return false;
  return true;
}

RequestRecord BeginRequestRecord(const HttpRequest& request) {
  RequestRecord record;
  record.received_wall = std::chrono::system_clock::now();
  record.method = request.method;
  record.path = RawPath(request);
  record.headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    if (EqualsIgnoreCase(name, "Authorization")) {
      record.headers.emplace_back(name, value.substr(0, value.find(' ')) + " " + std::string(kMask));
    } else {
      record.headers.emplace_back(name, value);
    }
  }
  record.body_truncated = CapInto(record.body, request.body);
  return record;
}

void FinishRequestRecord(RequestRecord& record, RequestTrace trace, const HttpResponse& response,
                         std::chrono::microseconds latency) {
  record.route = std::move(trace.route);
  record.account = std::move(trace.account);
  record.auth = std::move(trace.auth);
  record.error_code = trace.error_code;
  record.error_description = std::move(trace.error_description);
  record.reason = std::move(trace.reason);
  record.fault = std::move(trace.fault);
  record.leniencies = std::move(trace.leniencies);
  record.status = response.drop_connection ? 0 : response.status;
  record.response_body_truncated = CapInto(record.response_body, response.body);
  if (record.route == kTokenRouteKey) {
    MaskFormValue(record.body, "client_secret");
    MaskJsonString(record.response_body, "access_token");
  }
  record.latency_us = latency.count();
}

// ---------------------------------------------------------------------------
// RequestJournal

namespace {

// The first record whose id is greater than `id`; records are kept in id order.
RequestJournal::Records::const_iterator FirstAfter(const RequestJournal::Records& records, std::uint64_t id) {
  return std::upper_bound(records.begin(), records.end(), id,
                          [](std::uint64_t value, const auto& r) { return value < r->id; });
}

}  // namespace

RequestJournal::RequestJournal(std::size_t capacity) : capacity_(capacity) {}

RequestJournal::~RequestJournal() {
  for (Pending* pending = pending_.exchange(nullptr); pending != nullptr;) {
    delete std::exchange(pending, pending->next);
  }
}

void RequestJournal::Append(RequestRecord record) {
  if (!enabled()) return;
  auto* pending = new Pending{std::make_unique<RequestRecord>(std::move(record))};
  Pending* head = pending_.load(std::memory_order_relaxed);
  do {
    pending->next = head;
  } while (!pending_.compare_exchange_weak(head, pending));
  std::vector<std::unique_ptr<RequestRecord>> evicted;  // freed after the lock
  if (waiters_.load() > 0) {                            // a WaitFor waits: file now and wake it
    {
      MutexLock lock(mu_);
      FileLocked(evicted);
    }
    appended_.notify_all();
    return;
  }
  // Never wait for the lock here: whoever holds it files this record too.
  if (!mu_.try_lock()) return;
  FileLocked(evicted);
  mu_.unlock();
}

void RequestJournal::FileLocked(std::vector<std::unique_ptr<RequestRecord>>& evicted) const {
  Pending* newest_first = pending_.exchange(nullptr);
  Pending* oldest_first = nullptr;
  while (newest_first != nullptr) {
    Pending* next = newest_first->next;
    newest_first->next = oldest_first;
    oldest_first = newest_first;
    newest_first = next;
  }
  while (oldest_first != nullptr) {
    std::unique_ptr<Pending> pending(std::exchange(oldest_first, oldest_first->next));
    pending->record->id = next_id_++;
    records_.push_back(std::move(pending->record));
    while (records_.size() > capacity_) {
      evicted.push_back(std::move(records_.front()));
      records_.pop_front();
      ++dropped_;
    }
  }
}

RequestJournal::Page RequestJournal::Query(const RequestFilter& filter, std::size_t limit) const {
  std::vector<std::unique_ptr<RequestRecord>> evicted;  // freed after the lock
  MutexLock lock(mu_);
  FileLocked(evicted);
  Page page;
  for (auto it = FirstAfter(records_, filter.since_id); it != records_.end(); ++it) {
    if (!filter.Matches(**it)) continue;
    if (page.records.size() == limit) {
      page.next = page.records.empty() ? filter.since_id : page.records.back().id;
      break;
    }
    page.records.push_back(**it);
  }
  return page;
}

std::size_t RequestJournal::Count(const RequestFilter& filter) const {
  std::vector<std::unique_ptr<RequestRecord>> evicted;
  MutexLock lock(mu_);
  FileLocked(evicted);
  return static_cast<std::size_t>(std::count_if(FirstAfter(records_, filter.since_id), records_.cend(),
                                                [&filter](const auto& r) { return filter.Matches(*r); }));
}

std::vector<RequestRecord> RequestJournal::WaitFor(const RequestFilter& filter, std::size_t count,
                                                   std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Counted before the first look, so an append that misses that look sees
  // the waiter and files its record at once (Append).
  ++waiters_;
  struct Leave {
    std::atomic<std::size_t>& waiters;
    ~Leave() { --waiters; }
  } leave{waiters_};
  std::vector<std::unique_ptr<RequestRecord>> evicted;
  MutexLock lock(mu_);
  std::vector<RequestRecord> matches;
  std::uint64_t scanned_up_to = filter.since_id;  // records up to this id were looked at
  std::uint64_t clears_seen = clears_;
  auto scan = [&]() CSRSIM_REQUIRES(mu_) {
    FileLocked(evicted);
    if (clears_seen != clears_) {  // a reset removed records: count again
      matches.clear();
      scanned_up_to = filter.since_id;
      clears_seen = clears_;
    }
    for (auto it = FirstAfter(records_, scanned_up_to); it != records_.end() && matches.size() < count; ++it) {
      if (filter.Matches(**it)) matches.push_back(**it);
      scanned_up_to = (*it)->id;
    }
    return matches.size() >= count;
  };
  for (;;) {
    if (scan() || shutdown_) return matches;
    if (!lock.WaitUntil(appended_, deadline)) {
      scan();  // one last look: a record may have arrived together with the time-out
      return matches;
    }
  }
}

void RequestJournal::Clear(const std::optional<std::string>& account_id) {
  std::vector<std::unique_ptr<RequestRecord>> evicted;
  {
    MutexLock lock(mu_);
    FileLocked(evicted);
    ++clears_;
    if (!account_id) {
      records_.clear();
      dropped_ = 0;
    } else {
      std::erase_if(records_, [&](const auto& r) { return r->account == *account_id; });
    }
  }
  appended_.notify_all();
}

void RequestJournal::Shutdown() {
  {
    MutexLock lock(mu_);
    shutdown_ = true;
  }
  appended_.notify_all();
}

std::uint64_t RequestJournal::dropped() const {
  std::vector<std::unique_ptr<RequestRecord>> evicted;
  MutexLock lock(mu_);
  FileLocked(evicted);
  return dropped_;
}

std::size_t RequestJournal::size() const {
  std::vector<std::unique_ptr<RequestRecord>> evicted;
  MutexLock lock(mu_);
  FileLocked(evicted);
  return records_.size();
}

}  // namespace csrsim
