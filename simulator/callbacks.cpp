// The callback dispatcher: worker threads taking turns from the lanes,
// applying faults, the auth flow and the retry policy (callbacks.hpp).
#include "csrsim/callbacks.hpp"

#include "csrsim/encoding.hpp"
#include "csrsim/log.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "csrsim/mutex.hpp"

namespace csrsim {

namespace {

constexpr char kContentType[] = "application/xml; charset=utf-8";
constexpr char kUserAgent[] = "csr-simulator";
constexpr char kWrongPassword[] = "wrong-password";
constexpr char kDroppedByFault[] = "dropped by fault";
constexpr char kInvalidUrl[] = "invalid callback URL";

// Where a fault kind acts: when the delivery is submitted, when it joins its
// lane, or at each attempt. The switch has no default: a kind added to the
// table in model.hpp does not build (-Werror=switch) until it is given a
// stage here and its behaviour in that stage (Submit, AcceptLocked, RunTurn).
enum class FaultStage { kSubmit, kAccept, kAttempt };
constexpr FaultStage StageOf(CallbackFaultKind kind) {
  switch (kind) {
    case CallbackFaultKind::kDelay:
      return FaultStage::kSubmit;
    case CallbackFaultKind::kOutOfOrder:
    case CallbackFaultKind::kDuplicate:
      return FaultStage::kAccept;
    case CallbackFaultKind::kDrop:
    case CallbackFaultKind::kWrongCredentials:
      return FaultStage::kAttempt;
  }
  return FaultStage::kAttempt;
}

std::string JoinFaults(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) {
    if (!joined.empty()) joined += ',';
    joined += name;
  }
  return joined;
}

// Moves a fault kind from "to apply" to "applied" (named in the journal).
void MarkApplied(PendingDelivery& pending, CallbackFaultKind kind) {
  pending.delivery.fault.Clear(kind);
  pending.faults.emplace_back(ToString(kind));
}

Duration Backoff(const RetryPolicy& retry, int tries) {
  const double micros = static_cast<double>(retry.initial_backoff.count()) * std::pow(retry.multiplier, tries);
  return micros >= static_cast<double>(kMaxDuration.count()) ? kMaxDuration
                                                             : Duration(static_cast<std::int64_t>(micros));
}

LaneLimits LimitsOf(const DispatcherOptions& options) {
  const int workers = std::max(1, options.workers);
  LaneLimits limits;
  limits.per_host = options.max_in_flight_per_host > 0 ? options.max_in_flight_per_host : std::max(1, workers / 4);
  limits.per_receiver =
      options.max_in_flight_per_receiver > 0 ? options.max_in_flight_per_receiver : std::max(1, limits.per_host / 2);
  limits.per_account =
      options.max_in_flight_per_account > 0 ? options.max_in_flight_per_account : std::max(1, workers / 2);
  return limits;
}

// What the attempts of one turn ended with.
struct TurnResult {
  bool retryable = false;  // failed in a way the retry policy may repeat
  std::string outcome;
};

// The dispatcher's shared state. Scheduler tasks hold a weak_ptr to it, so a
// task that fires after the dispatcher is gone does nothing.
class DispatchCore : public std::enable_shared_from_this<DispatchCore> {
 public:
  DispatchCore(Scheduler& scheduler, Journal& journal, DispatcherOptions options, OutcomeHook on_outcome)
      : scheduler_(scheduler),
        journal_(journal),
        transport_(options.transport ? std::move(options.transport) : MakeHttpTransport(options.attempt_timeout)),
        on_outcome_(std::move(on_outcome)),
        lanes_(LimitsOf(options)),
        auth_mode_(options.auth_mode),
        retry_(options.retry) {}

  // Workers start on demand, when a turn is ready and none is waiting for
  // one, up to `count`: start-up spawns no thread, an idle simulator runs few.
  void StartWorkers(int count) {
    MutexLock lock(mu_);
    max_workers_ = static_cast<std::size_t>(std::max(1, count));
  }

  void SetDeliveryLog(DeliveryLog* log) {
    MutexLock lock(mu_);
    log_ = log;
  }

  void Submit(Delivery delivery) {
    std::int64_t key = 0;
    if (log_) {
      try {
        key = log_->DeliverySubmitted(delivery);
      } catch (const std::exception& error) {
        ProcessLog().Error("state_write_failed", {{"change", "callback submitted"}, {"error", error.what()}});
      }
    }
    Submit(std::move(delivery), key, 1, 0);
  }

  void SubmitKept(Delivery delivery, std::int64_t key, bool changed) {
    if (log_ && changed) {
      try {
        log_->DeliveryChanged(key, delivery);
      } catch (const std::exception& error) {
        ProcessLog().Error("state_write_failed", {{"change", "callback fault added"}, {"error", error.what()}});
      }
    }
    Submit(std::move(delivery), key, 1, 0);
  }

  void Submit(Delivery delivery, std::int64_t key, int next_attempt, int tries,
              std::optional<SimTime> retry_at = std::nullopt) {
    MutexLock lock(mu_);
    if (stopping_) return;
    PendingDelivery pending;
    pending.global_epoch = global_epoch_;
    pending.account_epoch = account_epochs_[delivery.account_id];
    pending.durable_key = key;
    pending.next_attempt = next_attempt;
    pending.tries = tries;
    pending.delivery = std::move(delivery);
    if (retry_at) {  // a retry that was waiting when the last run stopped waits again, its lane held
      const std::string lane = lanes_.Reserve(pending.delivery);
      ScheduleRetryLocked(lane, *retry_at, std::move(pending));
      return;
    }
    if (pending.delivery.fault.Has(CallbackFaultKind::kDelay)) {
      static_assert(StageOf(CallbackFaultKind::kDelay) == FaultStage::kSubmit);
      const Duration delay = pending.delivery.fault.DurationOf(CallbackFaultKind::kDelay);
      MarkApplied(pending, CallbackFaultKind::kDelay);
      ++on_clock_;
      // ScheduleAfter only takes the scheduler's own lock, never ours.
      const std::string account = pending.delivery.account_id;  // `pending` moves into the task
      scheduler_.ScheduleAfter(account, delay, [weak = weak_from_this(), p = std::move(pending)]() mutable {
        if (auto core = weak.lock()) core->Accept(std::move(p));
      });
      return;
    }
    AcceptLocked(std::move(pending));
  }

  void WaitIdle(const std::optional<std::string>& account_id) {
    MutexLock lock(mu_);
    while (!IdleLocked(account_id)) lock.Wait(idle_);
  }

  bool Idle(const std::optional<std::string>& account_id) {
    MutexLock lock(mu_);
    return IdleLocked(account_id);
  }

  bool WaitIdleFor(std::chrono::milliseconds timeout) {
    MutexLock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!lanes_.Idle()) {
      if (!lock.WaitUntil(idle_, deadline)) return lanes_.Idle();
    }
    return true;
  }

  void Reset(const std::optional<std::string>& account_id) {
    MutexLock lock(mu_);
    if (account_id) {
      ++account_epochs_[*account_id];
    } else {
      ++global_epoch_;
    }
    lanes_.Drop([&](const PendingDelivery& p) { return !account_id || p.delivery.account_id == *account_id; });
    NotifyIfIdleLocked();
  }

  void SetAuthMode(CallbackAuthMode mode) {
    MutexLock lock(mu_);
    auth_mode_ = mode;
  }

  void SetRetryPolicy(RetryPolicy policy) {
    MutexLock lock(mu_);
    retry_ = policy;
  }

  DispatcherDrops Stop() {
    DispatcherDrops drops;
    {
      MutexLock lock(mu_);
      if (!stopping_) drops = {lanes_.Clear(), on_clock_};
      stopping_ = true;
    }
    work_.notify_all();
    idle_.notify_all();
    MutexLock join(join_mu_);
    for (auto& worker : workers_) worker.join();
    workers_.clear();
    return drops;
  }

 private:
  // Queues a delivery whose delay has passed (a scheduler task).
  void Accept(PendingDelivery pending) {
    MutexLock lock(mu_);
    --on_clock_;
    if (stopping_ || IsStaleLocked(pending)) return;
    AcceptLocked(std::move(pending));
  }

  // Puts a delivery whose backoff has passed back at the head of its lane.
  void Resume(const std::string& lane, PendingDelivery pending) {
    MutexLock lock(mu_);
    --on_clock_;
    if (stopping_) return;
    if (IsStaleLocked(pending)) {
      lanes_.Release(lane);
    } else {
      lanes_.Resume(lane, std::move(pending));
    }
    WakeLocked();
    NotifyIfIdleLocked();
  }

  bool IsStaleLocked(const PendingDelivery& p) CSRSIM_REQUIRES(mu_) {
    return p.global_epoch != global_epoch_ || p.account_epoch != account_epochs_[p.delivery.account_id];
  }

  // A turn may be ready: wake a waiting worker, or start one more.
  void WakeLocked() CSRSIM_REQUIRES(mu_) {
    if (!lanes_.CanTake()) return;
    if (waiting_ == 0 && !stopping_ && workers_.size() < max_workers_) {
      try {
        workers_.emplace_back([this] { WorkLoop(); });
        return;
      } catch (const std::system_error&) {  // no thread to be had: the running workers take it
      }
    }
    work_.notify_one();
  }

  // Every turn that ends may leave an account idle (WaitIdle of one account).
  // Nothing of the account (or of any, when nullopt) is ready or in flight.
  bool IdleLocked(const std::optional<std::string>& account_id) const CSRSIM_REQUIRES(mu_) {
    return account_id ? lanes_.Idle(*account_id) : lanes_.Idle();
  }

  void NotifyIfIdleLocked() CSRSIM_REQUIRES(mu_) { idle_.notify_all(); }

  // The accept-stage faults: an out-of-order delivery is held until its lane's
  // next one; a duplicated one is queued twice, the copy named "duplicate".
  void AcceptLocked(PendingDelivery pending) CSRSIM_REQUIRES(mu_) {
    static_assert(StageOf(CallbackFaultKind::kOutOfOrder) == FaultStage::kAccept);
    static_assert(StageOf(CallbackFaultKind::kDuplicate) == FaultStage::kAccept);
    if (pending.delivery.fault.Has(CallbackFaultKind::kOutOfOrder)) {
      MarkApplied(pending, CallbackFaultKind::kOutOfOrder);
      lanes_.Hold(std::move(pending));
      return;
    }
    std::vector<PendingDelivery> batch;
    std::vector<PendingDelivery> held = lanes_.TakeHeld(pending.delivery);
    AddWithDuplicate(batch, std::move(pending));
    for (auto& p : held) AddWithDuplicate(batch, std::move(p));
    lanes_.Enqueue(std::move(batch));
    // No wake-up when the new turn waits for a limit (a receiver that hangs):
    // a woken worker with nothing to take would only drop its connections.
    WakeLocked();
  }

  static void AddWithDuplicate(std::vector<PendingDelivery>& batch, PendingDelivery pending) {
    const bool duplicate = pending.delivery.fault.Has(CallbackFaultKind::kDuplicate);
    pending.delivery.fault.Clear(CallbackFaultKind::kDuplicate);
    batch.push_back(std::move(pending));
    if (duplicate) {
      PendingDelivery copy = batch.back();
      copy.durable_key = 0;  // the original carries the delivery's row
      copy.faults.emplace_back(ToString(CallbackFaultKind::kDuplicate));
      batch.push_back(std::move(copy));
    }
  }

  void WorkLoop() {
    std::unique_ptr<CallbackSession> session = transport_->OpenSession();
    MutexLock lock(mu_);
    for (;;) {
      if (!lanes_.CanTake() && !stopping_) {
        lock.Unlock();
        session->Idle();
        lock.Lock();
      }
      ++waiting_;
      while (!stopping_ && !lanes_.CanTake()) lock.Wait(work_);
      --waiting_;
      if (stopping_) return;
      LaneTurn turn = *lanes_.Take();
      const CallbackAuthMode mode = auth_mode_;
      const RetryPolicy retry = retry_;
      lock.Unlock();

      std::vector<JournalEntry> recorded;
      TurnResult result = RunTurn(turn.pending, mode, *session, recorded);
      std::optional<SimTime> retry_at;
      if (result.retryable && turn.pending.tries + 1 < retry.max_attempts) {
        retry_at = scheduler_.Now(turn.pending.delivery.account_id) + Backoff(retry, turn.pending.tries);
      }
      ReportTurn(turn.pending, result, recorded, retry_at);

      lock.Lock();
      FinishTurnLocked(turn, retry_at);
      NotifyIfIdleLocked();
    }
  }

  // Tells the state file and the outcome hook how a turn went (no lock held).
  void ReportTurn(const PendingDelivery& pending, const TurnResult& result, const std::vector<JournalEntry>& recorded,
                  std::optional<SimTime> retry_at) {
    const bool retry_later = retry_at.has_value();
    if (log_) {
      try {
        log_->DeliveryTurnEnded(pending.durable_key, recorded, pending.next_attempt,
                                pending.tries + (retry_later ? 1 : 0), retry_at);
      } catch (const std::exception& error) {
        ProcessLog().Error("state_write_failed", {{"change", "callback turn ended"}, {"error", error.what()}});
      }
    }
    if (!retry_later && on_outcome_) {
      on_outcome_(pending.delivery.account_id, pending.delivery.subscription_id, result.outcome);
    }
  }

  // With mu_ held: frees the turn's lane, or keeps it busy until a retry
  // comes back off the clock.
  void FinishTurnLocked(LaneTurn& turn, std::optional<SimTime> retry_at) CSRSIM_REQUIRES(mu_) {
    if (lanes_.EndAttempt(turn.lane)) work_.notify_one();
    if (retry_at && !stopping_) {
      ++turn.pending.tries;
      ScheduleRetryLocked(turn.lane, *retry_at, std::move(turn.pending));
    } else {
      lanes_.Release(turn.lane);
      if (lanes_.CanTake()) work_.notify_one();
    }
  }

  // The lane stays busy until the retry, due at `due`, is back at the head of its queue.
  void ScheduleRetryLocked(const std::string& lane, SimTime due, PendingDelivery pending) CSRSIM_REQUIRES(mu_) {
    ++on_clock_;
    const std::string account = pending.delivery.account_id;  // `pending` moves into the task
    // ScheduleAt only takes the scheduler's own lock, never ours.
    scheduler_.ScheduleAt(account, due, [weak = weak_from_this(), lane, p = std::move(pending)]() mutable {
      if (auto core = weak.lock()) core->Resume(lane, std::move(p));
    });
  }

  // One turn of a delivery: one POST, or two in the challenge flow. Applies
  // the attempt-stage faults: drop (no POST) and wrong credentials.
  TurnResult RunTurn(PendingDelivery& pending, CallbackAuthMode mode, CallbackSession& session,
                     std::vector<JournalEntry>& recorded) {
    const Delivery& d = pending.delivery;
    std::vector<std::string> faults = pending.faults;
    for (CallbackFaultKind kind : d.fault.Kinds()) {
      if (StageOf(kind) == FaultStage::kAttempt) faults.emplace_back(ToString(kind));
    }
    const std::string fault = JoinFaults(faults);

    const bool drop = d.fault.Has(CallbackFaultKind::kDrop);
    std::optional<HttpUrl> url;
    if (!drop) url = ParseHttpUrl(d.url);
    if (!url) {
      std::string error = drop ? kDroppedByFault : kInvalidUrl;
      JournalEntry entry = NewEntry(pending, fault);
      entry.sent_at = entry.finished_at = scheduler_.Now(d.account_id);
      entry.error = error;
      Record(std::move(entry), recorded);
      return {false, error};
    }

    std::optional<BasicCredentials> credentials = d.credentials;
    if (credentials && d.fault.Has(CallbackFaultKind::kWrongCredentials)) credentials->password = kWrongPassword;
    const bool preemptive = mode == CallbackAuthMode::kPreemptive;
    CallbackAnswer answer = Post(session, *url, pending, fault, preemptive ? credentials : std::nullopt, recorded);
    if (!preemptive && credentials && answer.status == 401 && answer.challenged) {
      answer = Post(session, *url, pending, fault, credentials, recorded);
    }
    const bool succeeded = answer.status >= 200 && answer.status < 300;
    return {!succeeded, answer.status ? StatusText(answer.status) : answer.error};
  }

  CallbackAnswer Post(CallbackSession& session, const HttpUrl& url, PendingDelivery& pending, const std::string& fault,
                      const std::optional<BasicCredentials>& credentials, std::vector<JournalEntry>& recorded) {
    JournalEntry entry = NewEntry(pending, fault);
    entry.request_headers = {{"Content-Type", kContentType}, {"User-Agent", kUserAgent}};
    if (credentials) {
      entry.request_headers.emplace_back("Authorization",
                                         "Basic " + Base64Encode(credentials->username + ":" + credentials->password));
    }
    entry.sent_at = scheduler_.Now(pending.delivery.account_id);
    const auto wall_start = std::chrono::steady_clock::now();
    CallbackAnswer answer = session.Post({url, entry.request_headers, pending.delivery.body});
    const auto wall = std::chrono::steady_clock::now() - wall_start;
    entry.finished_at = scheduler_.Now(pending.delivery.account_id);
    entry.wall_micros = std::chrono::duration_cast<std::chrono::microseconds>(wall).count();
    entry.response_status = answer.status;
    if (answer.status == 0) entry.error = answer.error;
    Record(std::move(entry), recorded);
    return answer;
  }

  // The one place an attempt's outcome is recorded; with a DeliveryLog, a
  // copy (with its journal id) goes to the log at the end of the turn.
  void Record(JournalEntry entry, std::vector<JournalEntry>& recorded) {
    if (!entry.Succeeded()) LogFailedAttempt(entry);
    if (log_) recorded.push_back(entry);
    const std::uint64_t id = journal_.Append(std::move(entry));
    if (log_) recorded.back().id = id;
  }

  // A failed attempt is a warning: a receiver that is down shows in the log
  // without a query of the journal.
  static void LogFailedAttempt(const JournalEntry& entry) {
    Logger& log = ProcessLog();
    if (!log.Enabled(LogLevel::kWarn)) return;
    log.Warn("callback_failed", {{"account", entry.account_id},
                                 {"order_id", entry.order_id},
                                 {"subscription_id", entry.subscription_id},
                                 {"notification", entry.event},
                                 {"url", entry.url},
                                 {"attempt", entry.attempt},
                                 {"status", entry.response_status},
                                 {"error", entry.error},
                                 {"fault", entry.fault}});
  }

  static JournalEntry NewEntry(PendingDelivery& pending, const std::string& fault) {
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

  Scheduler& scheduler_;
  Journal& journal_;
  const std::shared_ptr<CallbackTransport> transport_;
  const OutcomeHook on_outcome_;
  DeliveryLog* log_ = nullptr;  // set before serving

  Mutex mu_;
  std::condition_variable work_;  // lanes_ may have a turn to hand out, or stopping_
  std::condition_variable idle_;  // lanes_.Idle() may have become true
  CallbackLanes lanes_ CSRSIM_GUARDED_BY(mu_);
  std::size_t on_clock_ CSRSIM_GUARDED_BY(mu_) = 0;  // scheduled delays and retries
  CallbackAuthMode auth_mode_ CSRSIM_GUARDED_BY(mu_);
  RetryPolicy retry_ CSRSIM_GUARDED_BY(mu_);
  std::uint64_t global_epoch_ CSRSIM_GUARDED_BY(mu_) = 0;  // bumped by Reset(all)
  std::unordered_map<std::string, std::uint64_t> account_epochs_ CSRSIM_GUARDED_BY(mu_);
  bool stopping_ CSRSIM_GUARDED_BY(mu_) = false;

  Mutex join_mu_;  // serializes joining in concurrent Stop() calls
  // Guarded by mu_ while !stopping_ (WakeLocked adds), then by join_mu_ (Stop joins).
  std::vector<std::thread> workers_;
  std::size_t max_workers_ CSRSIM_GUARDED_BY(mu_) = 1;
  std::size_t waiting_ CSRSIM_GUARDED_BY(mu_) = 0;  // workers waiting for a turn
};

}  // namespace

struct CallbackDispatcher::Impl {
  std::shared_ptr<DispatchCore> core;
};

CallbackDispatcher::CallbackDispatcher(Scheduler& scheduler, Journal& journal, DispatcherOptions options,
                                       OutcomeHook on_outcome)
    : impl_(std::make_unique<Impl>()) {
  const int workers = options.workers;
  impl_->core = std::make_shared<DispatchCore>(scheduler, journal, std::move(options), std::move(on_outcome));
  impl_->core->StartWorkers(workers);
}

CallbackDispatcher::~CallbackDispatcher() { Stop(); }

void CallbackDispatcher::Submit(Delivery delivery) { impl_->core->Submit(std::move(delivery)); }

void CallbackDispatcher::SubmitKept(Delivery delivery, std::int64_t key, bool changed) {
  impl_->core->SubmitKept(std::move(delivery), key, changed);
}

void CallbackDispatcher::WaitIdle(const std::optional<std::string>& account_id) { impl_->core->WaitIdle(account_id); }

bool CallbackDispatcher::Idle(const std::optional<std::string>& account_id) const {
  return impl_->core->Idle(account_id);
}

bool CallbackDispatcher::WaitIdleFor(std::chrono::milliseconds timeout) { return impl_->core->WaitIdleFor(timeout); }

void CallbackDispatcher::Reset(const std::optional<std::string>& account_id) { impl_->core->Reset(account_id); }

void CallbackDispatcher::SetAuthMode(CallbackAuthMode mode) { impl_->core->SetAuthMode(mode); }

void CallbackDispatcher::SetDeliveryLog(DeliveryLog* log) { impl_->core->SetDeliveryLog(log); }

void CallbackDispatcher::Resubmit(Delivery delivery, std::int64_t key, int next_attempt, int tries,
                                  std::optional<SimTime> retry_at) {
  impl_->core->Submit(std::move(delivery), key, next_attempt, tries, retry_at);
}

void CallbackDispatcher::SetRetryPolicy(RetryPolicy policy) { impl_->core->SetRetryPolicy(policy); }

DispatcherDrops CallbackDispatcher::Stop() { return impl_->core->Stop(); }

}  // namespace csrsim
