// request_journal: the record of every request the system under test sent to
// the Bandwidth routes and the OAuth token route (docs/control-api.md,
// GET /_sim/requests) — a bounded, in-memory, append-only log, so a test can
// assert what its system sent ("it PUT EndUserPIN exactly once") without
// sleeping.
//
// One place records: Simulator::Handle (app.cpp) builds a RequestRecord for
// each request that is not a control call, lends the api pipeline a
// RequestTrace through HttpRequest::trace for what only the pipeline knows
// (route key, account, credentials, error, fault), and appends the record
// after the response is built, before it is sent.
//
// Secrets never enter the journal: Authorization headers keep only their
// scheme, `auth` names the user or OAuth client, the token route's
// client_secret and access_token are masked.
//
// Thread-safety: RequestJournal is safe from any thread; RequestTrace,
// RequestRecord and RequestFilter are plain values.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csrsim/http.hpp"
#include "csrsim/model.hpp"
#include "csrsim/mutex.hpp"

namespace csrsim {

// Bodies and response bodies are kept up to this many bytes.
inline constexpr std::size_t kRequestBodyCap = std::size_t{64} * 1024;
// The route key of the OAuth token route, as the journal and metrics name it.
inline constexpr std::string_view kTokenRouteKey = "POST /api/v1/oauth2/token";

// What the api pipeline learned about a request while handling it.
struct RequestTrace {
  std::optional<std::string> route;    // route key (api.hpp kBandwidthRouteKeys); nullopt: none matched
  std::optional<std::string> account;  // the {accountId} of the path
  std::string auth = "none";           // "basic:USER", "bearer:CLIENT", "none", ...
  std::optional<int> error_code;       // from a Bandwidth-shaped error body
  std::string error_description;
  std::string reason;                   // why a 4xx: the validation messages, "unknown credentials", ...
  std::string fault;                    // injected fault that acted: "status 503 (fault-1)", ...
  std::vector<std::string> leniencies;  // what was accepted though the real API may not (wire.hpp)
};

struct RequestRecord {
  std::uint64_t id = 0;   // assigned by the journal: 1, 2, 3, ...
  SimTime received_at{};  // simulated time of the request's account
  std::chrono::system_clock::time_point received_wall{};
  std::string method;
  std::string path;  // as sent: prefix, path and query
  std::optional<std::string> route;
  std::optional<std::string> account;
  std::string auth = "none";
  std::vector<std::pair<std::string, std::string>> headers;  // Authorization: scheme only
  std::string body;
  bool body_truncated = false;
  int status = 0;  // 0: the connection was dropped without an answer
  std::string response_body;
  bool response_body_truncated = false;
  std::optional<int> error_code;
  std::string error_description;
  std::string reason;
  std::string fault;
  std::vector<std::string> leniencies;
  std::int64_t latency_us = 0;  // wall time from receipt to the response being ready
};

struct RequestFilter {
  std::optional<std::string> account;
  std::optional<std::string> method;
  // A route key ("PUT /csrs/*", "POST /api/v1/oauth2/token"), or "none" for
  // requests no route matched.
  std::optional<std::string> route;
  // An exact status (200) or a class (status_class 4 for "4xx").
  std::optional<int> status;
  std::optional<int> status_class;
  std::uint64_t since_id = 0;  // only records with id > since_id
  bool Matches(const RequestRecord& record) const;
};

// Starts a record of `request` as it arrived (before the api strips its
// prefix): method, raw path, headers with Authorization reduced to its scheme,
// the body capped at kRequestBodyCap.
RequestRecord BeginRequestRecord(const HttpRequest& request);
// Completes it with what the pipeline traced and the response it built.
void FinishRequestRecord(RequestRecord& record, RequestTrace trace, const HttpResponse& response,
                         std::chrono::microseconds latency);

class RequestJournal {
 public:
  // capacity 0: nothing is recorded (enabled() is false).
  explicit RequestJournal(std::size_t capacity);
  ~RequestJournal();
  RequestJournal(const RequestJournal&) = delete;
  RequestJournal& operator=(const RequestJournal&) = delete;

  bool enabled() const { return capacity_ > 0; }
  // Every request appends, so an append never waits for the lock: it pushes
  // the record onto a lock-free pending list, then files the pending records
  // (ids assigned in append order, the oldest evicted) only when it finds
  // the lock free; otherwise whoever holds it or takes it next files them.
  // While a WaitFor waits, an append takes the lock and wakes it. Every
  // reading call files the pending records first, so a record is visible as
  // soon as Append returns.
  void Append(RequestRecord record);

  struct Page {
    std::vector<RequestRecord> records;  // oldest first
    std::optional<std::uint64_t> next;   // more match: pass as since_id
  };
  Page Query(const RequestFilter& filter, std::size_t limit) const;
  std::size_t Count(const RequestFilter& filter) const;
  // Waits up to `timeout` (wall time) until `count` records match (records
  // appended before the call count too); returns the first `count` matches,
  // or fewer on time-out or Shutdown.
  std::vector<RequestRecord> WaitFor(const RequestFilter& filter, std::size_t count, std::chrono::milliseconds timeout);
  // Removes every record (and the drop count), or one account's.
  void Clear(const std::optional<std::string>& account_id);
  void Shutdown();  // wakes every WaitFor

  std::uint64_t dropped() const;
  std::size_t size() const;
  std::size_t capacity() const { return capacity_; }

  // One pointer per record, so filing one moves a pointer under the lock.
  using Records = std::deque<std::unique_ptr<RequestRecord>>;

 private:
  struct Pending {
    std::unique_ptr<RequestRecord> record;
    Pending* next = nullptr;
  };
  // Moves the pending records into records_; the evicted ones go to
  // `evicted`, to be freed after the lock.
  void FileLocked(std::vector<std::unique_ptr<RequestRecord>>& evicted) const CSRSIM_REQUIRES(mu_);

  const std::size_t capacity_;
  mutable Mutex mu_;
  std::condition_variable appended_;
  mutable std::atomic<Pending*> pending_{nullptr};  // newest first
  std::atomic<std::size_t> waiters_{0};             // WaitFor calls waiting on appended_
  mutable Records records_ CSRSIM_GUARDED_BY(mu_);  // in id order
  mutable std::uint64_t next_id_ CSRSIM_GUARDED_BY(mu_) = 1;
  mutable std::uint64_t dropped_ CSRSIM_GUARDED_BY(mu_) = 0;
  std::uint64_t clears_ CSRSIM_GUARDED_BY(mu_) = 0;  // a WaitFor recounts after a Clear
  bool shutdown_ CSRSIM_GUARDED_BY(mu_) = false;
};

}  // namespace csrsim
