#include "csrsim/engine.hpp"

#include "csrsim/encoding.hpp"

#include <algorithm>
#include <iterator>

#include "csrsim/error.hpp"
#include "csrsim/log.hpp"
#include "store.hpp"

namespace csrsim {

namespace {

// Simulator-chosen codes where Bandwidth documents only a description.
constexpr int kOrderNotFound = 12002;
constexpr int kSubscriptionNotFound = 16000;
constexpr int kDuplicateSubscription = 16008;
constexpr int kOrderNotUpdatable = 12165;
constexpr int kStatusNotSettable = 12166;

const ErrorDetail kCsrNotAvailable{26500, "CSR is not available for this TN"};
const SharedText kCauseCreate("create");

SharedText DefaultMessage(OrderStatus status, const std::vector<ErrorDetail>& errors) {
  static const SharedText kMessages[] = {"The CSR request has been received.",
                                         "The CSR request is being processed.",
                                         "Action is required to continue the CSR request.",
                                         "The CSR request is complete.",
                                         "The CSR request has failed.",
                                         "The CSR request has been cancelled."};
  if (status == OrderStatus::kFailed && !errors.empty()) {
    return std::to_string(errors.front().code) + ": " + errors.front().description;
  }
  return kMessages[static_cast<std::size_t>(status)];
}

// What a FAILED order without CSR data shows: only WorkingTelephoneNumber,
// which reads as the order's TN.
const std::shared_ptr<const CsrData>& EmptyCsrData() {
  static const auto empty = std::make_shared<const CsrData>();
  return empty;
}

bool NotifiesByDefault(OrderStatus status) {
  return status != OrderStatus::kProcessing && status != OrderStatus::kReceived;
}

std::string TnOf(const Order& order) {
  const auto* tn = order.fields.Get(CsrField::kWorkingOrBillingTelephoneNumber);
  return tn ? *tn : std::string();
}

bool InScope(const Subscription& subscription, const Order& order, SimTime now) {
  if (!subscription.spec.callback || now >= subscription.expires_at) return false;
  if (subscription.spec.order_id) return *subscription.spec.order_id == order.id;
  return subscription.spec.order_type && *subscription.spec.order_type == "csrs";
}

SimTime ExpiryOf(const SubscriptionSpec& spec, SimTime now) {
  if (!spec.callback) return SimTime::max();
  return now + std::chrono::seconds(spec.callback->expiry_seconds);
}

bool SameTarget(const SubscriptionSpec& a, const SubscriptionSpec& b) {
  auto target = [](const SubscriptionSpec& s) {
    if (s.callback) return "url:" + s.callback->url;
    if (s.email) return "email:" + s.email->email;
    return std::string();
  };
  return a.order_type == b.order_type && a.event_type == b.event_type && a.order_id == b.order_id &&
         target(a) == target(b);
}

Error SubscriptionNotFound(const std::string& account_id, const std::string& id) {
  return Error::NotFound(kSubscriptionNotFound,
                         "Subscription " + EchoToken(id) + " not found for accountId " + EchoToken(account_id));
}

Subscription* FindById(std::vector<Subscription>& subscriptions, const std::string& id) {
  auto it =
      std::find_if(subscriptions.begin(), subscriptions.end(), [&id](const Subscription& s) { return s.id == id; });
  return it == subscriptions.end() ? nullptr : &*it;
}

// The duplicate rule: same OrderType, OrderId and URL/Email as another subscription.
void CheckNoDuplicate(const std::vector<Subscription>& subscriptions, const SubscriptionSpec& spec,
                      const std::string& own_id) {
  for (const auto& existing : subscriptions) {
    if (existing.id != own_id && SameTarget(existing.spec, spec)) {
      throw Error::Conflict(kDuplicateSubscription,
                            "A subscription with the same order type, order id and target already "
                            "exists: " +
                                existing.id);
    }
  }
}

Error OrderLimitReached(std::size_t max_orders) {
  return Error::LimitReached("the simulator holds " + std::to_string(max_orders) +
                             " CSR orders (--max-orders); no order was created. POST /_sim/reset frees them");
}

// A change no request waits for (a scheduled step, a callback outcome) has
// no caller to fail: a state file write error is logged, the change stays in
// memory, and the order's next successful write carries it to the file.
// (A std::function: the lock analysis checks `write` where it is written.)
void WriteInBackground(const std::function<void()>& write) {
  try {
    write();
  } catch (const std::exception& error) {
    ProcessLog().Error("state_write_failed", {{"change", "background order change"}, {"error", error.what()}});
  }
}

bool Matches(const OrderQuery& query, const Order& order) {
  if (query.status && order.status != *query.status) return false;
  if (query.modified_from && order.last_modified < *query.modified_from) return false;
  return !query.modified_to || order.last_modified <= *query.modified_to;
}

}  // namespace

// ---------------------------------------------------------------------------
// IdGenerator

IdGenerator::IdGenerator(std::optional<std::uint64_t> seed) { Reseed(seed); }

void IdGenerator::Reseed(std::optional<std::uint64_t> seed) {
  MutexLock lock(mu_);
  seed_ = seed;
  rng_.seed(seed ? *seed : std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32));
  draws_ = 0;
  next_note_id_ = 11299;  // the guide's first note id
}

std::optional<std::uint64_t> IdGenerator::seed() const {
  MutexLock lock(mu_);
  return seed_;
}

std::uint64_t IdGenerator::draws() const {
  MutexLock lock(mu_);
  return draws_;
}

void IdGenerator::Resume(std::uint64_t draws, std::int64_t next_note_id) {
  MutexLock lock(mu_);
  if (seed_ && draws > draws_) {
    rng_.discard(draws - draws_);
    draws_ = draws;
  }
  next_note_id_ = std::max(next_note_id_, next_note_id);
}

std::uint64_t IdGenerator::Draw() {
  ++draws_;
  return rng_();
}

std::string IdGenerator::NewUuid() {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  {
    MutexLock lock(mu_);
    high = Draw();
    low = Draw();
  }
  high = (high & ~0xF000ull) | 0x4000ull;                       // version 4
  low = (low & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                static_cast<unsigned>((high >> 16) & 0xFFFF), static_cast<unsigned>(high & 0xFFFF),
                static_cast<unsigned>(low >> 48), static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFull));
  return text;
}

std::int64_t IdGenerator::NewNoteId() {
  MutexLock lock(mu_);
  return next_note_id_++;
}

std::uint64_t IdGenerator::NewRandom() {
  MutexLock lock(mu_);
  return Draw();
}

// ---------------------------------------------------------------------------
// ScenarioLibrary

ScenarioLibrary::ScenarioLibrary(std::shared_ptr<const ScenarioSet> initial) : current_(std::move(initial)) {}

std::shared_ptr<const ScenarioSet> ScenarioLibrary::Current() const {
  MutexLock lock(mu_);
  return current_;
}

std::shared_ptr<const ScenarioSet> ScenarioLibrary::Current(const std::string& account_id) const {
  MutexLock lock(mu_);
  if (accounts_.empty()) return current_;
  auto own = accounts_.find(account_id);
  return own == accounts_.end() ? current_ : own->second;
}

bool ScenarioLibrary::HasAccountSet(const std::string& account_id) const {
  MutexLock lock(mu_);
  return accounts_.contains(account_id);
}

void ScenarioLibrary::Replace(std::shared_ptr<const ScenarioSet> next) {
  MutexLock lock(mu_);
  current_ = std::move(next);
}

void ScenarioLibrary::ReplaceForAccount(const std::string& account_id, std::shared_ptr<const ScenarioSet> set) {
  MutexLock lock(mu_);
  accounts_[account_id] = std::move(set);
}

bool ScenarioLibrary::RestoreGlobal(const std::optional<std::string>& account_id) {
  MutexLock lock(mu_);
  if (!account_id) {
    const bool had = !accounts_.empty();
    accounts_.clear();
    return had;
  }
  return accounts_.erase(*account_id) > 0;
}

// ---------------------------------------------------------------------------
// Engine::Impl: the engine itself; Engine (engine.hpp) forwards to it.

class Engine::Impl {
 public:
  // Engine's operations, documented in engine.hpp.
  Impl(Store& store, Clock& clock, Scheduler& scheduler, CallbackDispatcher& dispatcher, ScenarioLibrary& scenarios,
       IdGenerator& ids, FaultInjector& faults, EventBus* events);

  Order CreateOrder(const std::string& account_id, const std::string& user, CsrFields fields);
  Order GetOrder(const std::string& account_id, const std::string& order_id) const;
  void RequireOrder(const std::string& account_id, const std::string& order_id) const;
  Order UpdateOrder(const std::string& account_id, const std::string& user, const std::string& order_id,
                    const wire::CsrRequest& request);
  OrderPage ListOrders(const std::string& account_id, const OrderQuery& query) const;
  Order ForceTransition(const std::string& order_id, OrderStatus status, std::optional<std::string> message,
                        std::vector<ErrorDetail> errors);

  NoteList GetNotes(const std::string& account_id, const std::string& order_id) const;
  Note AddNote(const std::string& account_id, const std::string& order_id, std::string user_id,
               std::string description);
  void UpdateNote(const std::string& account_id, const std::string& order_id, std::int64_t note_id,
                  std::optional<std::string> user_id, std::optional<std::string> description);

  Subscription CreateSubscription(const std::string& account_id, SubscriptionSpec spec);
  Subscription GetSubscription(const std::string& account_id, const std::string& id) const;
  std::vector<Subscription> ListSubscriptions(const std::string& account_id,
                                              const std::optional<std::string>& order_type,
                                              const std::optional<std::string>& order_id) const;
  void ReplaceSubscription(const std::string& account_id, const std::string& id, SubscriptionSpec spec);
  void DeleteSubscription(const std::string& account_id, const std::string& id);

  void RecordCallbackOutcome(const std::string& account_id, const std::string& subscription_id,
                             const std::string& outcome);

  Clock& clock() const { return clock_; }
  SimTime Now(const std::string& account_id) const { return scheduler_.Now(account_id); }

  void SetStateSink(StateSink* sink) { sink_ = sink; }
  void SetLimits(const EngineLimits& limits) { limits_ = limits; }
  void RestoreOrder(Order order, ScenarioProgress progress);

 private:
  // What a change does beyond the order or subscriptions it changes —
  // callbacks, events, the scheduler — collected while it is applied and run
  // (under the order's mutex, in order) only once the change is in the state
  // file: a change the file refuses leaves no trace (README.md, Durable state).
  // The callbacks it queues are written in the same transaction as the change
  // (StateSink::SaveOrder), so a crash keeps both or neither.
  struct Effects {
    std::vector<std::function<void()>> run;  // in order, after the commit
    std::vector<Delivery> callbacks;         // submitted by their entries of `run`
    std::vector<std::int64_t> keys;          // the callbacks' keys in the state file, once written there
  };

  std::shared_ptr<OrderSlot> FindSlot(const std::string& account_id, const std::string& order_id) const;
  // Runs `change` on the order and writes the order to
  // the state sink, then runs the change's effects. When `change` or the write
  // throws, the order and its progress are put back as they were (all or
  // nothing) and the error is rethrown.
  // `edited_note`: the index of the one note the change edits (SaveOrder); a
  // change may append notes and edit that one, no other (the undo relies on it).
  void CommitChange(OrderSlot& slot, const std::function<void(Effects&)>& change,
                    std::optional<std::size_t> edited_note = std::nullopt) CSRSIM_REQUIRES(slot.mu);
  // Runs `change` on the account's subscriptions and writes them to the sink;
  // they change in memory only once the write succeeded.
  void CommitSubscriptions(const std::string& account_id,
                           const std::function<void(std::vector<Subscription>&)>& change);
  // These change the order under its mutex and add what else happens to `effects`.
  void ApplyUpdate(const std::shared_ptr<OrderSlot>& slot, const std::string& user, const wire::CsrRequest& request,
                   Effects& effects) CSRSIM_REQUIRES(slot->mu);
  void ApplyStep(OrderSlot& slot, const Step& step, const std::string& cause, Effects& effects)
      CSRSIM_REQUIRES(slot.mu);
  void Transition(OrderSlot& slot, OrderStatus status, const SharedText& message, SharedText cause,
                  const CallbackFault& fault, bool notify, Effects& effects) CSRSIM_REQUIRES(slot.mu);
  void ScheduleNextStep(const std::shared_ptr<OrderSlot>& slot, SimTime base, Effects& effects)
      CSRSIM_REQUIRES(slot->mu);
  void ScheduleStepAt(const std::shared_ptr<OrderSlot>& slot, SimTime due, Effects& effects) CSRSIM_REQUIRES(slot->mu);
  void RunScheduledStep(const std::weak_ptr<OrderSlot>& weak, std::uint64_t generation, SimTime due);
  void Notify(const Order& order, const std::optional<std::string>& note_text, const CallbackFault& fault,
              Effects& effects);
  // Hands `effects.callbacks[index]` to the dispatcher, with the faults the
  // fault rules add to it (counted only now, once the change is committed).
  void SubmitCallback(Effects& effects, std::size_t index);
  // Writes the order and the callbacks its change queues; no-op without a sink.
  void Persist(const OrderSlot& slot, Effects& effects, std::optional<std::size_t> edited_note = std::nullopt)
      CSRSIM_REQUIRES(slot.mu);
  static void Run(const Effects& effects);
  void Persist(const std::string& account_id, const std::vector<Subscription>& subscriptions);

  Store& store_;
  Clock& clock_;
  Scheduler& scheduler_;
  CallbackDispatcher& dispatcher_;
  ScenarioLibrary& scenarios_;
  IdGenerator& ids_;
  FaultInjector& faults_;
  EventBus* events_;
  StateSink* sink_ = nullptr;
  EngineLimits limits_;
};

// ---------------------------------------------------------------------------
// Engine: orders

Engine::Impl::Impl(Store& store, Clock& clock, Scheduler& scheduler, CallbackDispatcher& dispatcher,
                   ScenarioLibrary& scenarios, IdGenerator& ids, FaultInjector& faults, EventBus* events)
    : store_(store),
      clock_(clock),
      scheduler_(scheduler),
      dispatcher_(dispatcher),
      scenarios_(scenarios),
      ids_(ids),
      faults_(faults),
      events_(events) {}

Order Engine::Impl::CreateOrder(const std::string& account_id, const std::string& user, CsrFields fields) {
  auto set = scenarios_.Current(account_id);
  const Scenario* scenario = set->Match(fields, account_id);
  if (!scenario) scenario = &BuiltinFallback();

  const SimTime now = Now(account_id);
  if (scenario->reject_create) {  // the scenario simulates Bandwidth refusing the create
    throw Error::Injected(*scenario->reject_create, now);
  }
  // Checked before ids are drawn (a refused create leaves a seeded run's ids
  // as they were); AddOrder checks again, atomically.
  if (store_.OrderCount() >= limits_.max_orders) throw OrderLimitReached(limits_.max_orders);
  Order order;
  // A restored --state file may hold ids this seed's stream gives out again
  // (a file written before it recorded how far the stream went): skip those.
  do {
    order.id = ids_.NewUuid();
  } while (store_.FindOrderAnyAccount(order.id));
  order.account_id = account_id;
  order.last_modified_by = user;
  order.created = now;
  order.last_modified = now;
  order.status = OrderStatus::kReceived;
  order.message = DefaultMessage(OrderStatus::kReceived, {});
  order.fields = std::move(fields);
  order.scenario_name = scenario->name;
  order.history.reserve(3);  // the usual life: RECEIVED, PROCESSING, a final status
  order.history.push_back({OrderStatus::kReceived, now, order.message, kCauseCreate});

  ScenarioProgress progress;
  progress.variant = &scenario->PickVariant(ids_.NewRandom());
  progress.set = std::move(set);

  auto slot = store_.AddOrder(std::move(order), std::move(progress), limits_.max_orders);
  if (!slot) throw OrderLimitReached(limits_.max_orders);
  WriterLock lock(slot->mu);
  Effects effects;
  ScheduleNextStep(slot, now, effects);
  try {
    Persist(*slot, effects);
  } catch (...) {
    // Not in the file, so not created: the client gets the error and the
    // order is not there to find either (README.md, Durable state); its
    // first step was never scheduled.
    lock.Unlock();
    store_.RemoveOrder(slot);
    throw;
  }
  Run(effects);
  EmitOrderCreated(events_, slot->order);
  return slot->order;
}

void Engine::Impl::CommitChange(OrderSlot& slot, const std::function<void(Effects&)>& change,
                                std::optional<std::size_t> edited_note) {
  Effects effects;
  if (!sink_) {  // nothing can refuse the change: no copy to undo it with
    change(effects);
  } else {
    // The undo copy leaves the notes out and shares the CSR data: a change
    // only appends notes or replaces `edited_note`, so the undo drops the
    // notes appended and puts back the one replaced — O(1) in the notes.
    Order order_before = OrderWithoutNotes(slot);
    const std::size_t notes_before = slot.order.notes.size();
    std::optional<Note> note_before;
    if (edited_note) note_before = slot.order.notes[*edited_note];
    ScenarioProgress progress_before = slot.progress;
    try {
      change(effects);
      Persist(slot, effects, edited_note);
    } catch (...) {
      PutBack(slot, std::move(order_before));
      slot.order.notes.Truncate(notes_before);
      if (note_before) slot.order.notes.Replace(*edited_note, std::move(*note_before));
      slot.progress = std::move(progress_before);
      throw;
    }
  }
  Run(effects);
}

void Engine::Impl::CommitSubscriptions(const std::string& account_id,
                                       const std::function<void(std::vector<Subscription>&)>& change) {
  store_.EditSubscriptions(account_id, [&](std::vector<Subscription>& subscriptions) {
    if (!sink_) {
      change(subscriptions);
      return;
    }
    std::vector<Subscription> next = subscriptions;
    change(next);
    Persist(account_id, next);
    subscriptions = std::move(next);
  });
}

std::shared_ptr<OrderSlot> Engine::Impl::FindSlot(const std::string& account_id, const std::string& order_id) const {
  auto slot = store_.FindOrder(account_id, order_id);
  if (!slot) throw Error::NotFound(kOrderNotFound, "The resource does not exist");
  return slot;
}

void Engine::Impl::RequireOrder(const std::string& account_id, const std::string& order_id) const {
  FindSlot(account_id, order_id);
}

Order Engine::Impl::GetOrder(const std::string& account_id, const std::string& order_id) const {
  auto slot = FindSlot(account_id, order_id);
  ReaderLock lock(slot->mu);
  return OrderWithoutNotes(*slot);
}

Order Engine::Impl::UpdateOrder(const std::string& account_id, const std::string& user, const std::string& order_id,
                                const wire::CsrRequest& request) {
  auto slot = FindSlot(account_id, order_id);
  WriterLock lock(slot->mu);
  if (IsTerminal(slot->order.status)) {
    throw Error::Invalid(kOrderNotUpdatable, "CSR order " + slot->order.id + " is " +
                                                 std::string(ToString(slot->order.status)) +
                                                 " and can no longer be updated");
  }
  if (request.status && !request.requested_cancel) {
    throw Error::Invalid(kStatusNotSettable, "Status '" + EchoToken(*request.status) +
                                                 "' cannot be set; only REQUESTED_CANCEL is accepted");
  }
  CommitChange(*slot, [&](Effects& effects) CSRSIM_REQUIRES(slot->mu) { ApplyUpdate(slot, user, request, effects); });
  return OrderWithoutNotes(*slot);
}

void Engine::Impl::ApplyUpdate(const std::shared_ptr<OrderSlot>& slot, const std::string& user,
                               const wire::CsrRequest& request, Effects& effects) {
  Order& order = slot->order;
  ScenarioProgress& progress = slot->progress;
  const SimTime now = Now(order.account_id);
  order.fields.MergeFrom(request.fields);
  order.last_modified_by = user;
  order.last_modified = now;

  if (request.requested_cancel) {
    ++progress.generation;  // pending steps become stale
    progress.waiting_for_update = false;
    progress.due.reset();
    Transition(*slot, OrderStatus::kCancelled, DefaultMessage(OrderStatus::kCancelled, {}), "cancel", {},
               NotifiesByDefault(OrderStatus::kCancelled), effects);
    return;
  }
  if (!progress.waiting_for_update) return;

  const Step& step = progress.variant->steps[progress.next_step];
  for (CsrField field : step.requires_fields) {
    if (!order.fields.Has(field)) return;
  }
  progress.waiting_for_update = false;
  if (step.after && step.after->count() > 0) {
    ScheduleStepAt(slot, now + *step.after, effects);
  } else {
    ++progress.next_step;
    ApplyStep(*slot, step, "update", effects);
    ScheduleNextStep(slot, now, effects);
  }
}

void Engine::Impl::ScheduleNextStep(const std::shared_ptr<OrderSlot>& slot, SimTime base, Effects& effects) {
  ScenarioProgress& progress = slot->progress;
  if (IsTerminal(slot->order.status) || progress.next_step >= progress.variant->steps.size()) return;
  const Step& step = progress.variant->steps[progress.next_step];
  if (step.on_update) {
    progress.waiting_for_update = true;
    return;
  }
  ScheduleStepAt(slot, base + step.after.value_or(Duration::zero()), effects);
}

void Engine::Impl::ScheduleStepAt(const std::shared_ptr<OrderSlot>& slot, SimTime due, Effects& effects) {
  slot->progress.due = due;
  effects.run.emplace_back([this, slot, generation = slot->progress.generation, due] {
    scheduler_.ScheduleAt(slot->account_id(), due, [this, weak = std::weak_ptr(slot), generation, due] {
      RunScheduledStep(weak, generation, due);
    });
  });
}

void Engine::Impl::RunScheduledStep(const std::weak_ptr<OrderSlot>& weak, std::uint64_t generation, SimTime due) {
  auto slot = weak.lock();
  if (!slot) return;  // the order was reset away
  WriterLock lock(slot->mu);
  ScenarioProgress& progress = slot->progress;
  if (progress.generation != generation || IsTerminal(slot->order.status) ||
      progress.next_step >= progress.variant->steps.size()) {
    return;
  }
  const std::size_t index = progress.next_step++;
  progress.due.reset();
  Effects effects;
  ApplyStep(*slot, progress.variant->steps[index], "step " + std::to_string(index + 1), effects);
  // `after` counts from when this step was due, not from when the thread got to it.
  ScheduleNextStep(slot, due, effects);
  WriteInBackground([&]() CSRSIM_REQUIRES(slot->mu) { Persist(*slot, effects); });
  Run(effects);  // the step stays done even when its write failed (its callbacks are then written alone)
}

void Engine::Impl::RestoreOrder(Order order, ScenarioProgress progress) {
  // A FAILED order's data-less CsrData is the shared empty one (ForceTransition tells them apart).
  if (order.csr_data && *order.csr_data == *EmptyCsrData()) order.csr_data = EmptyCsrData();
  auto slot = store_.AddOrder(std::move(order), std::move(progress));
  WriterLock lock(slot->mu);
  if (slot->progress.due && !IsTerminal(slot->order.status)) {
    Effects effects;
    ScheduleStepAt(slot, *slot->progress.due, effects);
    Run(effects);
  }
}

void Engine::Impl::Persist(const OrderSlot& slot, Effects& effects, std::optional<std::size_t> edited_note) {
  if (sink_) effects.keys = sink_->SaveOrder(slot.order, slot.progress, edited_note, effects.callbacks);
}

void Engine::Impl::Run(const Effects& effects) {
  for (const auto& effect : effects.run) effect();
}

void Engine::Impl::Persist(const std::string& account_id, const std::vector<Subscription>& subscriptions) {
  if (sink_) sink_->SaveSubscriptions(account_id, subscriptions);
}

void Engine::Impl::ApplyStep(OrderSlot& slot, const Step& step, const std::string& cause, Effects& effects) {
  Order& order = slot.order;
  order.errors = step.errors;  // errors belong to the status that carries them
  if (step.status == OrderStatus::kFailed && order.errors.empty()) order.errors = {kCsrNotAvailable};
  switch (step.csr_source) {
    case CsrSource::kExplicit:
      // Shares the scenario's data (and keeps its set alive) instead of copying it.
      order.csr_data = std::shared_ptr<const CsrData>(slot.progress.set, &step.csr);
      break;
    case CsrSource::kGenerated:
      order.csr_data = std::make_shared<const CsrData>(GenerateCsrData(TnOf(order)));
      break;
    case CsrSource::kNone:
      // A FAILED order's CsrData holds only WorkingTelephoneNumber.
      if (step.status == OrderStatus::kFailed) order.csr_data = EmptyCsrData();
      break;
  }
  SharedText message = step.message ? SharedText(*step.message) : DefaultMessage(step.status, order.errors);
  Transition(slot, step.status, message, SharedText(cause), step.callback_fault, step.notify, effects);
}

void Engine::Impl::Transition(OrderSlot& slot, OrderStatus status, const SharedText& message, SharedText cause,
                              const CallbackFault& fault, bool notify, Effects& effects) {
  Order& order = slot.order;
  const SimTime now = Now(order.account_id);
  order.status = status;
  order.message = message;
  order.last_modified = now;
  order.history.push_back({status, now, message, std::move(cause)});
  // Run right after the change's commit, under the same lock: the order is as this change left it.
  effects.run.emplace_back([this, &slot]() CSRSIM_REQUIRES(slot.mu) { EmitTransition(events_, slot.order); });
  if (notify) Notify(order, std::nullopt, fault, effects);
}

Order Engine::Impl::ForceTransition(const std::string& order_id, OrderStatus status, std::optional<std::string> message,
                                    std::vector<ErrorDetail> errors) {
  auto slot = store_.FindOrderAnyAccount(order_id);
  if (!slot) throw Error::NotFound(kOrderNotFound, "The resource does not exist");
  WriterLock lock(slot->mu);
  Step step;
  step.status = status;
  step.message = std::move(message);
  step.errors = std::move(errors);
  const bool has_data = slot->order.csr_data && slot->order.csr_data != EmptyCsrData();
  step.csr_source = status == OrderStatus::kComplete && !has_data ? CsrSource::kGenerated : CsrSource::kNone;
  step.notify = NotifiesByDefault(status);
  CommitChange(*slot, [&](Effects& effects) CSRSIM_REQUIRES(slot->mu) {
    ScenarioProgress& progress = slot->progress;
    ++progress.generation;  // a forced transition ends the scenario's own progress
    progress.waiting_for_update = false;
    progress.next_step = progress.variant->steps.size();
    progress.due.reset();
    ApplyStep(*slot, step, "forced", effects);
  });
  return OrderWithoutNotes(*slot);
}

OrderPage Engine::Impl::ListOrders(const std::string& account_id, const OrderQuery& query) const {
  OrderPage page;
  const std::size_t size = std::max<std::size_t>(query.size, 1);
  const std::size_t skip = (std::max<std::size_t>(query.page, 1) - 1) * size;
  for (const auto& slot : store_.Orders(account_id)) {
    ReaderLock lock(slot->mu);
    if (!Matches(query, slot->order)) continue;
    if (page.total_count >= skip && page.orders.size() < size) page.orders.push_back(OrderWithoutNotes(*slot));
    ++page.total_count;
  }
  page.has_next = page.total_count > skip + page.orders.size();
  return page;
}

// ---------------------------------------------------------------------------
// Engine: notes

NoteList Engine::Impl::GetNotes(const std::string& account_id, const std::string& order_id) const {
  auto slot = FindSlot(account_id, order_id);
  ReaderLock lock(slot->mu);
  return slot->order.notes;  // one pointer per note; the text is encoded after the lock
}

Note Engine::Impl::AddNote(const std::string& account_id, const std::string& order_id, std::string user_id,
                           std::string description) {
  auto slot = FindSlot(account_id, order_id);
  WriterLock lock(slot->mu);
  if (slot->order.notes.size() >= limits_.max_notes_per_order) {
    throw Error::LimitReached("CSR order " + order_id + " holds " + std::to_string(limits_.max_notes_per_order) +
                              " notes (--max-notes-per-order); no note was added");
  }
  Note note{ids_.NewNoteId(), std::move(user_id), std::move(description), Now(account_id)};
  CommitChange(*slot, [&](Effects& effects) CSRSIM_REQUIRES(slot->mu) {
    slot->order.notes.push_back(note);
    effects.run.emplace_back([&]() CSRSIM_REQUIRES(slot->mu) { EmitNoteAdded(events_, slot->order, note); });
    Notify(slot->order, note.description, {}, effects);
  });
  return note;
}

void Engine::Impl::UpdateNote(const std::string& account_id, const std::string& order_id, std::int64_t note_id,
                              std::optional<std::string> user_id, std::optional<std::string> description) {
  auto slot = FindSlot(account_id, order_id);
  WriterLock lock(slot->mu);
  NoteList& notes = slot->order.notes;
  auto found = std::find_if(notes.begin(), notes.end(), [note_id](const Note& n) { return n.id == note_id; });
  if (found == notes.end()) throw Error::NoteNotFound();
  Note note = *found;
  if (user_id) note.user_id = std::move(*user_id);
  if (description) note.description = std::move(*description);
  note.last_modified = Now(account_id);
  const auto index = static_cast<std::size_t>(std::distance(notes.begin(), found));
  CommitChange(
      *slot, [&](Effects&) CSRSIM_REQUIRES(slot->mu) { slot->order.notes.Replace(index, std::move(note)); }, index);
}

// ---------------------------------------------------------------------------
// Engine: notifications

void Engine::Impl::Notify(const Order& order, const std::optional<std::string>& note_text, const CallbackFault& fault,
                          Effects& effects) {
  const SimTime now = Now(order.account_id);
  const std::string* customer_order_id = order.fields.Get(CsrField::kCustomerOrderId);
  for (const auto& subscription : store_.Subscriptions(order.account_id)) {
    if (!InScope(subscription, order, now)) continue;
    wire::NotificationContent content;
    content.status = order.status;
    content.subscription_id = subscription.id;
    content.message = note_text ? "A note was added to the CSR request." : order.message.str();
    content.order_id = order.id;
    if (customer_order_id) content.customer_order_id = *customer_order_id;
    content.note = note_text;
    content.last_modified = order.last_modified;

    Delivery delivery;
    delivery.account_id = order.account_id;
    delivery.subscription_id = subscription.id;
    delivery.order_id = order.id;
    delivery.status = order.status;
    delivery.event = note_text ? "note" : "status";
    delivery.url = subscription.spec.callback->url;
    delivery.credentials = subscription.spec.callback->basic;
    delivery.body = wire::EncodeNotification(content);
    delivery.scheduled_at = now;
    delivery.fault = fault;  // the scenario's; the fault rules add theirs when it is submitted
    const std::size_t index = effects.callbacks.size();
    effects.callbacks.push_back(std::move(delivery));
    effects.run.emplace_back([this, &effects, index] { SubmitCallback(effects, index); });
  }
}

void Engine::Impl::SubmitCallback(Effects& effects, std::size_t index) {
  Delivery delivery = std::move(effects.callbacks[index]);
  // Fault rules count the callbacks they hit: only one that is sent is counted.
  const CallbackFault scenario_fault = delivery.fault;
  delivery.fault = faults_.OnCallback(delivery.account_id, scenario_fault);
  if (index < effects.keys.size()) {  // written with the change
    const bool changed = delivery.fault != scenario_fault;
    dispatcher_.SubmitKept(std::move(delivery), effects.keys[index], changed);
  } else {  // no state file, or the change's write failed (a scheduled step goes on): written alone, if at all
    dispatcher_.Submit(std::move(delivery));
  }
}

void Engine::Impl::RecordCallbackOutcome(const std::string& account_id, const std::string& subscription_id,
                                         const std::string& outcome) {
  store_.EditSubscriptions(account_id, [&](std::vector<Subscription>& subscriptions) {
    auto* subscription = FindById(subscriptions, subscription_id);
    if (!subscription || subscription->last_status == outcome) return;
    subscription->last_status = outcome;
    WriteInBackground([&] { Persist(account_id, subscriptions); });
  });
}

// ---------------------------------------------------------------------------
// Engine: subscriptions

Subscription Engine::Impl::CreateSubscription(const std::string& account_id, SubscriptionSpec spec) {
  Subscription subscription;
  subscription.id = ids_.NewUuid();
  subscription.account_id = account_id;
  subscription.expires_at = ExpiryOf(spec, Now(account_id));
  subscription.spec = std::move(spec);
  CommitSubscriptions(account_id, [&](std::vector<Subscription>& subscriptions) {
    if (subscriptions.size() >= limits_.max_subscriptions_per_account) {
      throw Error::LimitReached("account " + account_id + " holds " +
                                std::to_string(limits_.max_subscriptions_per_account) +
                                " subscriptions (--max-subscriptions-per-account); none was created");
    }
    CheckNoDuplicate(subscriptions, subscription.spec, subscription.id);
    subscriptions.push_back(subscription);
  });
  EmitSubscription(events_, "created", account_id, subscription.id, &subscription.spec);
  return subscription;
}

Subscription Engine::Impl::GetSubscription(const std::string& account_id, const std::string& id) const {
  auto subscription = store_.FindSubscription(account_id, id);
  if (!subscription) throw SubscriptionNotFound(account_id, id);
  return *subscription;
}

std::vector<Subscription> Engine::Impl::ListSubscriptions(const std::string& account_id,
                                                          const std::optional<std::string>& order_type,
                                                          const std::optional<std::string>& order_id) const {
  auto all = store_.Subscriptions(account_id);
  std::erase_if(all, [&](const Subscription& s) {
    return (order_type && s.spec.order_type != order_type) || (order_id && s.spec.order_id != order_id);
  });
  return all;
}

void Engine::Impl::ReplaceSubscription(const std::string& account_id, const std::string& id, SubscriptionSpec spec) {
  const SimTime expires_at = ExpiryOf(spec, Now(account_id));
  Subscription changed;
  CommitSubscriptions(account_id, [&](std::vector<Subscription>& subscriptions) {
    Subscription* subscription = FindById(subscriptions, id);
    if (!subscription) throw SubscriptionNotFound(account_id, id);
    CheckNoDuplicate(subscriptions, spec, id);
    subscription->spec = std::move(spec);  // full replace: omitted fields reset
    subscription->expires_at = expires_at;
    subscription->last_status = "READY";
    changed = *subscription;
  });
  EmitSubscription(events_, "changed", account_id, id, &changed.spec);
}

void Engine::Impl::DeleteSubscription(const std::string& account_id, const std::string& id) {
  CommitSubscriptions(account_id, [&](std::vector<Subscription>& subscriptions) {
    Subscription* subscription = FindById(subscriptions, id);
    if (!subscription) throw SubscriptionNotFound(account_id, id);
    subscriptions.erase(subscriptions.begin() + (subscription - subscriptions.data()));
  });
  EmitSubscription(events_, "deleted", account_id, id, nullptr);
}

// ---------------------------------------------------------------------------
// Engine: forwards to Impl

Engine::Engine(Store& store, Clock& clock, Scheduler& scheduler, CallbackDispatcher& dispatcher,
               ScenarioLibrary& scenarios, IdGenerator& ids, FaultInjector& faults, EventBus* events)
    : impl_(std::make_unique<Impl>(store, clock, scheduler, dispatcher, scenarios, ids, faults, events)) {}

Engine::~Engine() = default;

Order Engine::CreateOrder(const std::string& account_id, const std::string& user, CsrFields fields) {
  return impl_->CreateOrder(account_id, user, std::move(fields));
}

Order Engine::GetOrder(const std::string& account_id, const std::string& order_id) const {
  return impl_->GetOrder(account_id, order_id);
}

void Engine::RequireOrder(const std::string& account_id, const std::string& order_id) const {
  impl_->RequireOrder(account_id, order_id);
}

Order Engine::UpdateOrder(const std::string& account_id, const std::string& user, const std::string& order_id,
                          const wire::CsrRequest& request) {
  return impl_->UpdateOrder(account_id, user, order_id, request);
}

OrderPage Engine::ListOrders(const std::string& account_id, const OrderQuery& query) const {
  return impl_->ListOrders(account_id, query);
}

Order Engine::ForceTransition(const std::string& order_id, OrderStatus status, std::optional<std::string> message,
                              std::vector<ErrorDetail> errors) {
  return impl_->ForceTransition(order_id, status, std::move(message), std::move(errors));
}

NoteList Engine::GetNotes(const std::string& account_id, const std::string& order_id) const {
  return impl_->GetNotes(account_id, order_id);
}

Note Engine::AddNote(const std::string& account_id, const std::string& order_id, std::string user_id,
                     std::string description) {
  return impl_->AddNote(account_id, order_id, std::move(user_id), std::move(description));
}

void Engine::UpdateNote(const std::string& account_id, const std::string& order_id, std::int64_t note_id,
                        std::optional<std::string> user_id, std::optional<std::string> description) {
  impl_->UpdateNote(account_id, order_id, note_id, std::move(user_id), std::move(description));
}

Subscription Engine::CreateSubscription(const std::string& account_id, SubscriptionSpec spec) {
  return impl_->CreateSubscription(account_id, std::move(spec));
}

Subscription Engine::GetSubscription(const std::string& account_id, const std::string& id) const {
  return impl_->GetSubscription(account_id, id);
}

std::vector<Subscription> Engine::ListSubscriptions(const std::string& account_id,
                                                    const std::optional<std::string>& order_type,
                                                    const std::optional<std::string>& order_id) const {
  return impl_->ListSubscriptions(account_id, order_type, order_id);
}

void Engine::ReplaceSubscription(const std::string& account_id, const std::string& id, SubscriptionSpec spec) {
  impl_->ReplaceSubscription(account_id, id, std::move(spec));
}

void Engine::DeleteSubscription(const std::string& account_id, const std::string& id) {
  impl_->DeleteSubscription(account_id, id);
}

void Engine::RecordCallbackOutcome(const std::string& account_id, const std::string& subscription_id,
                                   const std::string& outcome) {
  impl_->RecordCallbackOutcome(account_id, subscription_id, outcome);
}

Clock& Engine::clock() const { return impl_->clock(); }

SimTime Engine::Now(const std::string& account_id) const { return impl_->Now(account_id); }

void Engine::SetStateSink(StateSink* sink) { impl_->SetStateSink(sink); }

void Engine::SetLimits(const EngineLimits& limits) { impl_->SetLimits(limits); }

void Engine::RestoreOrder(Order order, ScenarioProgress progress) {
  impl_->RestoreOrder(std::move(order), std::move(progress));
}

}  // namespace csrsim
