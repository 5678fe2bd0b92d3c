#include "csrsim/callbacks.hpp"

#include "csrsim/encoding.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <thread>
#include <unordered_map>

namespace csrsim {

// ---------------------------------------------------------------------------
// JournalFilter and Journal

bool JournalFilter::Matches(const JournalEntry& entry) const {
  return entry.id > after_id && (!account_id || entry.account_id == *account_id) &&
         (!order_id || entry.order_id == *order_id) &&
         (!subscription_id || entry.subscription_id == *subscription_id) &&
         (!status || entry.status == *status);
}

namespace {

// The first entry whose id is greater than `id`; entries are kept in id order.
std::deque<JournalEntry>::const_iterator FirstAfter(const std::deque<JournalEntry>& entries,
                                                    std::uint64_t id) {
  return std::upper_bound(entries.begin(), entries.end(), id,
                          [](std::uint64_t value, const JournalEntry& e) { return value < e.id; });
}

}  // namespace

Journal::Journal(std::size_t capacity) : capacity_(capacity) {}

std::uint64_t Journal::Append(JournalEntry entry) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    entry.id = id;
    entries_.push_back(std::move(entry));
    while (entries_.size() > capacity_) {
      entries_.pop_front();
      ++dropped_;
    }
  }
  appended_.notify_all();
  return id;
}

std::vector<JournalEntry> Journal::Query(const JournalFilter& filter) const {
  std::lock_guard lock(mu_);
  std::vector<JournalEntry> matches;
  for (auto it = FirstAfter(entries_, filter.after_id); it != entries_.end(); ++it) {
    if (filter.Matches(*it)) matches.push_back(*it);
  }
  return matches;
}

std::optional<JournalEntry> Journal::WaitFor(const JournalFilter& filter,
                                             std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  std::uint64_t scanned_up_to = filter.after_id;  // entries up to this id did not match
  for (;;) {
    for (auto it = FirstAfter(entries_, scanned_up_to); it != entries_.end(); ++it) {
      if (filter.Matches(*it)) return *it;
    }
    scanned_up_to = std::max(scanned_up_to, next_id_ - 1);
    if (shutdown_) return std::nullopt;
    if (appended_.wait_until(lock, deadline) == std::cv_status::timeout) {
      // One last look: an entry may have arrived together with the time-out.
      for (auto it = FirstAfter(entries_, scanned_up_to); it != entries_.end(); ++it) {
        if (filter.Matches(*it)) return *it;
      }
      return std::nullopt;
    }
  }
}

void Journal::Clear(const std::optional<std::string>& account_id) {
  std::lock_guard lock(mu_);
  if (!account_id) {
    entries_.clear();
    dropped_ = 0;
    return;
  }
  std::erase_if(entries_, [&](const JournalEntry& e) { return e.account_id == *account_id; });
}

void Journal::Shutdown() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  appended_.notify_all();
}

std::uint64_t Journal::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::size_t Journal::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

// ---------------------------------------------------------------------------
// HTTP helpers

namespace {

constexpr char kContentType[] = "application/xml; charset=utf-8";
constexpr char kUserAgent[] = "csr-simulator";
constexpr char kWrongPassword[] = "wrong-password";
constexpr char kDroppedByFault[] = "dropped by fault";
constexpr char kInvalidUrl[] = "invalid callback URL";

struct CallbackUrl {
  bool https = false;
  std::string host;  // without IPv6 brackets
  int port = 0;
  std::string target;  // path and query, at least "/"
};

// Parses scheme://host[:port][/path][?query][#fragment] for http and https.
std::optional<CallbackUrl> ParseCallbackUrl(std::string_view url) {
  CallbackUrl parsed;
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  std::string scheme(url.substr(0, scheme_end));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme == "https") {
    parsed.https = true;
  } else if (scheme != "http") {
    return std::nullopt;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  target = target.substr(0, target.find('#'));

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port_text = after.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else {
    std::size_t colon = authority.find(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return std::nullopt;
    }
  }
  if (parsed.host.empty() || parsed.host.find_first_of("@ \t") != std::string::npos) {
    return std::nullopt;
  }
  if (port_text.empty()) {
    parsed.port = parsed.https ? 443 : 80;
  } else {
    if (port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(),
                     [](unsigned char c) { return std::isdigit(c); })) {
      return std::nullopt;
    }
    parsed.port = std::stoi(std::string(port_text));
    if (parsed.port < 1 || parsed.port > 65535) return std::nullopt;
  }
  parsed.target = target.empty() || target.front() == '?' ? "/" + std::string(target)
                                                          : std::string(target);
  return parsed;
}


std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

std::string StatusText(int status) {
  std::string text = std::to_string(status);
  if (auto reason = ReasonPhrase(status); !reason.empty()) {
    text += ' ';
    text += reason;
  }
  return text;
}

std::string TransportErrorText(httplib::Error error, bool timed_out) {
  switch (error) {
    case httplib::Error::Connection: return "connection refused";
    case httplib::Error::ConnectionTimeout: return "timeout";
    case httplib::Error::Read: return timed_out ? "timeout" : "connection closed without a response";
    case httplib::Error::Write: return timed_out ? "timeout" : "connection closed while sending";
    case httplib::Error::SSLConnection: return "TLS handshake failed";
    case httplib::Error::SSLServerVerification: return "TLS certificate rejected";
    default: return "transport error: " + httplib::to_string(error);
  }
}

std::string JoinFaults(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) {
    if (!joined.empty()) joined += ',';
    joined += name;
  }
  return joined;
}

// The keep-alive connections of one worker. A worker keeps them only while it
// has deliveries back to back and closes them before it idles, so it never
// holds a receiver's connection (and, with thread-per-connection servers such
// as cpp-httplib's, a receiver thread) while it has nothing to send.
class ConnectionCache {
 public:
  explicit ConnectionCache(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  httplib::ClientImpl& For(const CallbackUrl& url) {
    auto& client = clients_[OriginOf(url)];
    if (client) return *client;
    if (clients_.size() > kMaxOrigins) {
      clients_.clear();
      return For(url);
    }
    if (url.https) {
      auto ssl = std::make_unique<httplib::SSLClient>(url.host, url.port);
      ssl->enable_server_certificate_verification(false);
      client = std::move(ssl);
    } else {
      client = std::make_unique<httplib::ClientImpl>(url.host, url.port);
    }
    client->set_connection_timeout(timeout_);
    client->set_read_timeout(timeout_);
    client->set_write_timeout(timeout_);
    client->set_tcp_nodelay(true);
    client->set_keep_alive(true);
    return *client;
  }
  void Discard(const CallbackUrl& url) { clients_.erase(OriginOf(url)); }
  void Clear() { clients_.clear(); }

 private:
  static constexpr std::size_t kMaxOrigins = 16;
  static std::string OriginOf(const CallbackUrl& url) {
    return (url.https ? "https://" : "http://") + url.host + ':' + std::to_string(url.port);
  }

  const std::chrono::milliseconds timeout_;
  std::unordered_map<std::string, std::unique_ptr<httplib::ClientImpl>> clients_;
};

}  // namespace

// ---------------------------------------------------------------------------
// CallbackDispatcher

namespace {

// A delivery on its way through the dispatcher.
struct Pending {
  Delivery delivery;
  std::vector<std::string> faults;  // fault names applied so far (delay, out_of_order, ...)
  int next_attempt = 1;             // journal attempt number of the next POST
  int tries = 0;                    // failed rounds so far, for the retry policy
  std::uint64_t global_epoch = 0;   // Reset() generations when it was accepted
  std::uint64_t account_epoch = 0;
};

// Per order and subscriber: the deliveries waiting their turn and the out-of-order holds.
struct OrderLane {
  std::string receiver;  // ReceiverOf(the subscription's URL)
  std::deque<Pending> queue;
  std::vector<Pending> held;
  bool in_ready = false;  // listed in ready_, waiting for a worker
  bool busy = false;      // a worker is on it, or its retry waits on the scheduler
};

// The receiver a delivery goes to, "scheme://host:port" (the whole URL when it
// has no path), for per-receiver concurrency limits.
std::string ReceiverOf(const std::string& url) {
  std::size_t scheme = url.find("://");
  std::size_t path = url.find_first_of("/?", scheme == std::string::npos ? 0 : scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

// Lanes waiting for a worker, grouped by receiver and handed out round-robin
// among receivers below their in-flight limit: a receiver that hangs holds at
// most `limit` workers, the others keep the rest. Not thread-safe: guarded by
// the dispatcher's mutex.
class ReadyLanes {
 public:
  explicit ReadyLanes(int limit) : limit_(std::max(1, limit)) {}

  void Push(const std::string& receiver, std::string key) {
    auto& lanes = by_receiver_[receiver];
    if (lanes.empty()) rotation_.push_back(receiver);
    lanes.push_back(std::move(key));
    ++size_;
  }

  // Takes a lane of a receiver below its limit and counts it in flight.
  std::optional<std::pair<std::string, std::string>> Pop() {
    for (std::size_t i = 0; i < rotation_.size(); ++i) {
      std::string receiver = std::move(rotation_.front());
      rotation_.pop_front();
      auto& lanes = by_receiver_[receiver];
      if (in_flight_[receiver] >= limit_) {
        rotation_.push_back(std::move(receiver));
        continue;
      }
      std::string key = std::move(lanes.front());
      lanes.pop_front();
      --size_;
      ++in_flight_[receiver];
      if (lanes.empty()) {
        by_receiver_.erase(receiver);
      } else {
        rotation_.push_back(receiver);
      }
      return std::make_pair(std::move(receiver), std::move(key));
    }
    return std::nullopt;
  }

  // An attempt to `receiver` ended; true when that frees a place a ready lane waits for.
  bool Done(const std::string& receiver) {
    auto it = in_flight_.find(receiver);
    bool was_full = it->second-- >= limit_;
    if (it->second == 0) in_flight_.erase(it);
    return was_full && by_receiver_.count(receiver);
  }

  void Remove(const std::string& receiver, const std::string& key) {
    auto it = by_receiver_.find(receiver);
    if (it == by_receiver_.end()) return;
    size_ -= static_cast<std::size_t>(std::erase(it->second, key));
    if (it->second.empty()) {
      by_receiver_.erase(it);
      std::erase(rotation_, receiver);
    }
  }

  bool HasEligible() const {
    return std::any_of(rotation_.begin(), rotation_.end(), [this](const std::string& receiver) {
      auto it = in_flight_.find(receiver);
      return it == in_flight_.end() || it->second < limit_;
    });
  }
  bool Empty() const { return size_ == 0; }
  void Clear() {
    by_receiver_.clear();
    rotation_.clear();
    size_ = 0;
  }

 private:
  const int limit_;
  std::unordered_map<std::string, std::deque<std::string>> by_receiver_;  // lane keys in order
  std::deque<std::string> rotation_;  // receivers with ready lanes, each once
  std::unordered_map<std::string, int> in_flight_;
  std::size_t size_ = 0;
};

// What the attempts of one turn ended with.
struct TurnResult {
  bool retryable = false;  // failed in a way the retry policy may repeat
  std::string outcome;
};

// The dispatcher's shared state. Scheduler tasks hold a weak_ptr to it, so a
// task that fires after the dispatcher is gone does nothing.
class DispatchCore : public std::enable_shared_from_this<DispatchCore> {
 public:
  DispatchCore(Clock& clock, Scheduler& scheduler, Journal& journal, DispatcherOptions options,
               OutcomeHook on_outcome)
      : clock_(clock),
        scheduler_(scheduler),
        journal_(journal),
        attempt_timeout_(options.attempt_timeout),
        on_outcome_(std::move(on_outcome)),
        ready_(options.max_in_flight_per_receiver),
        auth_mode_(options.auth_mode),
        retry_(options.retry) {}

  void StartWorkers(int count) {
    for (int i = 0; i < std::max(1, count); ++i) workers_.emplace_back([this] { WorkLoop(); });
  }

  void Submit(Delivery delivery) {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    Pending pending;
    pending.global_epoch = global_epoch_;
    pending.account_epoch = account_epochs_[delivery.account_id];
    if (auto delay = delivery.fault.delay) {
      delivery.fault.delay.reset();
      pending.delivery = std::move(delivery);
      pending.faults.emplace_back("delay");
      // ScheduleAt only takes the scheduler's own lock, never ours.
      scheduler_.ScheduleAfter(*delay, [weak = weak_from_this(), p = std::move(pending)]() mutable {
        if (auto core = weak.lock()) core->Accept(std::move(p));
      });
      return;
    }
    pending.delivery = std::move(delivery);
    AcceptLocked(std::move(pending));
  }

  void WaitIdle() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return IsIdleLocked(); });
  }

  void Reset(const std::optional<std::string>& account_id) {
    std::lock_guard lock(mu_);
    auto affected = [&](const Pending& p) {
      return !account_id || p.delivery.account_id == *account_id;
    };
    if (account_id) {
      ++account_epochs_[*account_id];
    } else {
      ++global_epoch_;
    }
    for (auto it = lanes_.begin(); it != lanes_.end();) {
      OrderLane& lane = it->second;
      std::erase_if(lane.queue, affected);
      std::erase_if(lane.held, affected);
      if (lane.queue.empty() && lane.in_ready) {
        ready_.Remove(lane.receiver, it->first);
        lane.in_ready = false;
      }
      if (!lane.busy && !lane.in_ready && lane.queue.empty() && lane.held.empty()) {
        it = lanes_.erase(it);
      } else {
        ++it;
      }
    }
    NotifyIfIdleLocked();
  }

  void SetAuthMode(CallbackAuthMode mode) {
    std::lock_guard lock(mu_);
    auth_mode_ = mode;
  }

  void SetRetryPolicy(RetryPolicy policy) {
    std::lock_guard lock(mu_);
    retry_ = policy;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      ready_.Clear();
      lanes_.clear();
    }
    work_.notify_all();
    idle_.notify_all();
    std::lock_guard join(join_mu_);
    for (auto& worker : workers_) worker.join();
    workers_.clear();
  }

  // Queues a delivery whose delay has passed (a scheduler task).
  void Accept(Pending pending) {
    std::lock_guard lock(mu_);
    if (stopping_ || IsStaleLocked(pending)) return;
    AcceptLocked(std::move(pending));
  }

  // Puts a delivery whose backoff has passed back at the head of its lane.
  void Resume(std::string lane_key, Pending pending) {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    auto it = lanes_.find(lane_key);
    if (it == lanes_.end()) return;
    if (!IsStaleLocked(pending)) it->second.queue.push_front(std::move(pending));
    ReleaseLaneLocked(it);
    NotifyIfIdleLocked();
  }

 private:
  // One lane per order and subscriber: a dead receiver never holds back
  // another subscriber's callbacks of the same order.
  static std::string LaneKey(const Delivery& d) {
    return d.account_id + '\x1f' + d.order_id + '\x1f' + d.subscription_id;
  }

  bool IsStaleLocked(const Pending& p) {
    return p.global_epoch != global_epoch_ ||
           p.account_epoch != account_epochs_[p.delivery.account_id];
  }

  bool IsIdleLocked() const { return in_flight_ == 0 && ready_.Empty(); }

  void NotifyIfIdleLocked() {
    if (IsIdleLocked()) idle_.notify_all();
  }

  // Applies out-of-order holds and duplication, then queues on the order's lane.
  void AcceptLocked(Pending pending) {
    std::string key = LaneKey(pending.delivery);
    OrderLane& lane = lanes_[key];
    if (lane.receiver.empty()) lane.receiver = ReceiverOf(pending.delivery.url);
    if (pending.delivery.fault.out_of_order) {
      pending.delivery.fault.out_of_order = false;
      pending.faults.emplace_back("out_of_order");
      lane.held.push_back(std::move(pending));
      return;
    }
    QueueLocked(lane, std::move(pending));
    std::vector<Pending> released = std::move(lane.held);
    lane.held.clear();
    for (auto& held : released) QueueLocked(lane, std::move(held));
    if (!lane.in_ready && !lane.busy) {
      lane.in_ready = true;
      ready_.Push(lane.receiver, key);
      work_.notify_one();
    }
  }

  static void QueueLocked(OrderLane& lane, Pending pending) {
    bool duplicate = pending.delivery.fault.duplicate;
    pending.delivery.fault.duplicate = false;
    if (duplicate) {
      Pending copy = pending;
      copy.faults.emplace_back("duplicate");
      lane.queue.push_back(std::move(pending));
      lane.queue.push_back(std::move(copy));
    } else {
      lane.queue.push_back(std::move(pending));
    }
  }

  // Ends a lane's turn: hands it to the next worker if more is queued.
  void ReleaseLaneLocked(std::unordered_map<std::string, OrderLane>::iterator it) {
    OrderLane& lane = it->second;
    lane.busy = false;
    if (!lane.queue.empty()) {
      lane.in_ready = true;
      ready_.Push(lane.receiver, it->first);
      work_.notify_one();
    } else if (lane.held.empty()) {
      lanes_.erase(it);
    }
  }

  void WorkLoop() {
    ConnectionCache connections(attempt_timeout_);
    std::unique_lock lock(mu_);
    for (;;) {
      if (ready_.Empty() && !stopping_) {
        lock.unlock();
        connections.Clear();
        lock.lock();
      }
      work_.wait(lock, [this] { return stopping_ || ready_.HasEligible(); });
      if (stopping_) return;
      auto [receiver, key] = *ready_.Pop();
      OrderLane& lane = lanes_.at(key);
      lane.in_ready = false;
      lane.busy = true;
      Pending pending = std::move(lane.queue.front());
      lane.queue.pop_front();
      ++in_flight_;
      CallbackAuthMode mode = auth_mode_;
      RetryPolicy retry = retry_;
      lock.unlock();

      TurnResult result = RunTurn(pending, mode, connections);
      bool retry_later = result.retryable && pending.tries + 1 < retry.max_attempts;
      if (!retry_later && on_outcome_) {
        on_outcome_(pending.delivery.account_id, pending.delivery.subscription_id, result.outcome);
      }

      lock.lock();
      --in_flight_;
      if (ready_.Done(receiver)) work_.notify_one();
      if (retry_later && !stopping_) {
        // The lane stays busy until the retry is back at the head of its queue.
        const double micros = static_cast<double>(retry.initial_backoff.count()) *
                              std::pow(retry.multiplier, pending.tries);
        const Duration backoff = micros >= static_cast<double>(kMaxDuration.count())
                                     ? kMaxDuration
                                     : Duration(static_cast<std::int64_t>(micros));
        ++pending.tries;
        scheduler_.ScheduleAfter(backoff, [weak = weak_from_this(), key, p = std::move(pending)]() mutable {
          if (auto core = weak.lock()) core->Resume(std::move(key), std::move(p));
        });
      } else {
        if (auto it = lanes_.find(key); it != lanes_.end()) ReleaseLaneLocked(it);
      }
      NotifyIfIdleLocked();
    }
  }

  // One turn of a delivery: one POST, or two in the challenge flow.
  TurnResult RunTurn(Pending& pending, CallbackAuthMode mode, ConnectionCache& connections) {
    const Delivery& d = pending.delivery;
    std::vector<std::string> faults = pending.faults;
    if (d.fault.drop) faults.emplace_back("drop");
    if (d.fault.wrong_credentials) faults.emplace_back("wrong_credentials");
    std::string fault = JoinFaults(faults);

    std::optional<CallbackUrl> url;
    if (!d.fault.drop) url = ParseCallbackUrl(d.url);
    if (!url) {
      std::string error = d.fault.drop ? kDroppedByFault : kInvalidUrl;
      JournalEntry entry = NewEntry(pending, fault);
      entry.sent_at = entry.finished_at = clock_.Now();
      entry.error = error;
      journal_.Append(std::move(entry));
      return {false, error};
    }

    std::optional<BasicCredentials> credentials = d.credentials;
    if (credentials && d.fault.wrong_credentials) credentials->password = kWrongPassword;
    bool preemptive = mode == CallbackAuthMode::kPreemptive;
    auto first = Post(connections, *url, pending, fault, preemptive ? credentials : std::nullopt);
    if (!preemptive && credentials && first.status == 401 && first.challenged) {
      first = Post(connections, *url, pending, fault, credentials);
    }
    bool succeeded = first.status >= 200 && first.status < 300;
    return {!succeeded, first.status ? StatusText(first.status) : first.error};
  }

  struct PostResult {
    int status = 0;
    bool challenged = false;  // a 401 carrying WWW-Authenticate
    std::string error;
  };

  PostResult Post(ConnectionCache& connections, const CallbackUrl& url, Pending& pending,
                  const std::string& fault, const std::optional<BasicCredentials>& credentials) {
    JournalEntry entry = NewEntry(pending, fault);
    httplib::Headers headers{{"User-Agent", kUserAgent}};
    entry.request_headers = {{"Content-Type", kContentType}, {"User-Agent", kUserAgent}};
    if (credentials) {
      std::string authorization =
          "Basic " + Base64Encode(credentials->username + ":" + credentials->password);
      headers.emplace("Authorization", authorization);
      entry.request_headers.emplace_back("Authorization", std::move(authorization));
    }

    PostResult result;
    entry.sent_at = clock_.Now();
    auto wall_start = std::chrono::steady_clock::now();
    auto response =
        connections.For(url).Post(url.target, headers, pending.delivery.body, kContentType);
    auto wall = std::chrono::steady_clock::now() - wall_start;
    entry.finished_at = clock_.Now();
    entry.wall_micros = std::chrono::duration_cast<std::chrono::microseconds>(wall).count();
    if (response) {
      result.status = response->status;
      result.challenged = response->status == 401 && response->has_header("WWW-Authenticate");
      entry.response_status = response->status;
      // Do not race the receiver's close on a connection it will not keep.
      if (response->get_header_value("Connection") == "close") connections.Discard(url);
    } else {
      result.error = TransportErrorText(response.error(), wall >= attempt_timeout_);
      entry.error = result.error;
      connections.Discard(url);
    }
    journal_.Append(std::move(entry));
    return result;
  }

  JournalEntry NewEntry(Pending& pending, const std::string& fault) {
    const Delivery& d = pending.delivery;
    JournalEntry entry;
    entry.account_id = d.account_id;
    entry.subscription_id = d.subscription_id;
    entry.order_id = d.order_id;
    entry.status = d.status;
    entry.event = d.event;
    entry.url = d.url;
    entry.attempt = pending.next_attempt++;
    entry.body = d.body;
    entry.fault = fault;
    entry.scheduled_at = d.scheduled_at;
    return entry;
  }

  Clock& clock_;
  Scheduler& scheduler_;
  Journal& journal_;
  const std::chrono::milliseconds attempt_timeout_;
  const OutcomeHook on_outcome_;

  std::mutex mu_;
  std::condition_variable work_;  // ready_ gained a lane, or stopping_
  std::condition_variable idle_;  // IsIdleLocked() may have become true
  std::unordered_map<std::string, OrderLane> lanes_;  // guarded by mu_
  ReadyLanes ready_;                  // lanes with a queued turn; guarded by mu_
  std::size_t in_flight_ = 0;         // guarded by mu_
  CallbackAuthMode auth_mode_;        // guarded by mu_
  RetryPolicy retry_;                 // guarded by mu_
  std::uint64_t global_epoch_ = 0;    // bumped by Reset(all); guarded by mu_
  std::unordered_map<std::string, std::uint64_t> account_epochs_;  // guarded by mu_
  bool stopping_ = false;             // guarded by mu_

  std::mutex join_mu_;  // serializes joining in concurrent Stop() calls
  std::vector<std::thread> workers_;
};

}  // namespace

struct CallbackDispatcher::Impl {
  std::shared_ptr<DispatchCore> core;
};

CallbackDispatcher::CallbackDispatcher(Clock& clock, Scheduler& scheduler, Journal& journal,
                                       DispatcherOptions options, OutcomeHook on_outcome)
    : impl_(std::make_unique<Impl>()) {
  impl_->core = std::make_shared<DispatchCore>(clock, scheduler, journal, options,
                                               std::move(on_outcome));
  impl_->core->StartWorkers(options.workers);
}

CallbackDispatcher::~CallbackDispatcher() { Stop(); }

void CallbackDispatcher::Submit(Delivery delivery) {
  impl_->core->Submit(std::move(delivery));
}

void CallbackDispatcher::WaitIdle() { impl_->core->WaitIdle(); }

void CallbackDispatcher::Reset(const std::optional<std::string>& account_id) {
  impl_->core->Reset(account_id);
}

void CallbackDispatcher::SetAuthMode(CallbackAuthMode mode) { impl_->core->SetAuthMode(mode); }

void CallbackDispatcher::SetRetryPolicy(RetryPolicy policy) { impl_->core->SetRetryPolicy(policy); }

void CallbackDispatcher::Stop() { impl_->core->Stop(); }

}  // namespace csrsim
