#include "csrsim/events.hpp"

#include <algorithm>

#include "csrsim/encoding.hpp"
#include "csrsim/journal.hpp"
#include "csrsim/wire.hpp"

namespace csrsim {

namespace {

std::string TnOf(const Order& order) {
  const auto* tn = order.fields.Get(CsrField::kWorkingOrBillingTelephoneNumber);
  return tn ? *tn : std::string();
}

EventFields OrderFields(const Order& order) {
  EventFields fields;
  fields.Str("orderId", order.id).Str("tn", TnOf(order));
  if (const auto* customer_order_id = order.fields.Get(CsrField::kCustomerOrderId)) {
    fields.Str("customerOrderId", *customer_order_id);
  }
  fields.Str("scenario", order.scenario_name.str())
      .Str("created", wire::FormatTimestamp(order.created))
      .Str("status", ToString(order.status))
      .Str("message", order.message.str());
  return fields;
}

}  // namespace

// ---------------------------------------------------------------------------
// EventFields

void EventFields::Key(std::string_view key) {
  if (!text_.empty()) text_ += ',';
  AppendJsonString(text_, key);
  text_ += ':';
}

EventFields& EventFields::Str(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(text_, value);
  return *this;
}

EventFields& EventFields::Int(std::string_view key, std::int64_t value) {
  Key(key);
  text_ += std::to_string(value);
  return *this;
}

EventFields& EventFields::Bool(std::string_view key, bool value) {
  Key(key);
  text_ += value ? "true" : "false";
  return *this;
}

EventFields& EventFields::Null(std::string_view key) {
  Key(key);
  text_ += "null";
  return *this;
}

EventFields& EventFields::Raw(std::string_view key, std::string_view json) {
  Key(key);
  text_ += json;
  return *this;
}

// ---------------------------------------------------------------------------
// EventBus

EventBus::EventBus(Clock& clock, EventBusOptions options) : clock_(clock), options_(options) {}

void EventBus::Publish(std::string_view type, std::string_view account, const EventFields& fields) {
  // Everything but the id is formatted before taking the mutex.
  std::string tail = ",\"type\":";
  AppendJsonString(tail, type);
  tail += ",\"at\":";
  AppendJsonString(tail, wire::FormatTimestamp(clock_.Now()));
  if (!account.empty()) {
    tail += ",\"account\":";
    AppendJsonString(tail, account);
  }
  if (!fields.text().empty()) {
    tail += ',';
    tail += fields.text();
  }
  tail += '}';

  auto event = std::make_shared<PublishedEvent>();
  event->account = std::string(account);
  MutexLock lock(mu_);
  if (shutdown_) return;
  event->id = next_id_++;
  const std::string id = std::to_string(event->id);
  event->frame.reserve(2 * id.size() + tail.size() + 20);
  event->frame.append("id: ").append(id).append("\ndata: ");
  event->json_offset = event->frame.size();
  event->frame.append("{\"id\":").append(id).append(tail).append("\n\n");
  const PublishedEvent& published = *event;
  ring_.push_back(std::move(event));
  std::shared_ptr<const PublishedEvent> evicted;
  if (ring_.size() > options_.ring_capacity) {
    evicted = std::move(ring_.front());
    ring_.pop_front();
  }
  // (A loop, not std::erase_if: a lambda would be analysed without mu_ held.)
  auto kept = subscribers_.begin();
  for (EventSubscription* subscriber : subscribers_) {
    subscriber->BusLocked();
    // An event it wants leaves the ring before it took it: a whole ring
    // behind, too slow or gone. (Events it filters out may go untaken.)
    if (evicted && subscriber->cursor_ <= evicted->id && subscriber->Wants(*evicted)) {
      subscriber->ended_ = subscriber->dropped_ = true;
      subscriber->ready_.notify_one();
      ++dropped_subscribers_;
      continue;
    }
    if (subscriber->waiting_ && subscriber->Wants(published)) {
      subscriber->waiting_ = false;
      subscriber->ready_.notify_one();
    }
    *kept++ = subscriber;
  }
  subscribers_.erase(kept, subscribers_.end());
}

std::unique_ptr<EventSubscription> EventBus::Subscribe(std::optional<std::string> account,
                                                       std::optional<std::uint64_t> last_id) {
  std::unique_ptr<EventSubscription> subscription(new EventSubscription(*this));
  subscription->account_ = std::move(account);
  MutexLock lock(mu_);
  subscription->BusLocked();
  if (shutdown_) return nullptr;
  subscription->cursor_ = next_id_;
  if (last_id && *last_id < next_id_ - 1) {
    const std::uint64_t oldest = ring_.empty() ? next_id_ : ring_.front()->id;
    subscription->cursor_ = std::max(*last_id + 1, oldest);
    subscription->lost_ = subscription->cursor_ - (*last_id + 1);
  }
  subscribers_.push_back(subscription.get());
  ++live_;
  return subscription;
}

void EventBus::Unsubscribe(EventSubscription* subscription) {
  MutexLock lock(mu_);
  std::erase(subscribers_, subscription);
  if (--live_ == 0) gone_.notify_all();
}

void EventBus::Shutdown(std::chrono::milliseconds grace) {
  MutexLock lock(mu_);
  shutdown_ = true;
  for (auto* subscriber : subscribers_) {
    subscriber->BusLocked();
    subscriber->ended_ = true;
    subscriber->ready_.notify_one();
  }
  subscribers_.clear();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (live_ != 0 && lock.WaitUntil(gone_, deadline)) {
  }
}

std::uint64_t EventBus::last_id() const {
  MutexLock lock(mu_);
  return next_id_ - 1;
}

std::size_t EventBus::subscriber_count() const {
  MutexLock lock(mu_);
  return subscribers_.size();
}

std::uint64_t EventBus::dropped_subscribers() const {
  MutexLock lock(mu_);
  return dropped_subscribers_;
}

// ---------------------------------------------------------------------------
// EventSubscription

EventSubscription::~EventSubscription() { bus_.Unsubscribe(this); }

bool EventSubscription::Wants(const PublishedEvent& event) const {
  return !account_ || event.account.empty() || event.account == *account_;
}

EventSubscription::Batch EventSubscription::Next(std::chrono::milliseconds timeout) {
  const auto now = std::chrono::steady_clock::now();
  const auto deadline = now + timeout;
  MutexLock lock(bus_.mu_);
  // Pace the takes, so a busy stream is written in batches.
  const auto earliest = last_take_ + bus_.options_.min_batch_interval;
  if (now < earliest) {
    const auto until = std::min(earliest, deadline);
    while (!ended_ && lock.WaitUntil(ready_, until)) {
    }
  }
  Batch batch;
  for (;;) {
    if (!ended_ && !bus_.ring_.empty()) {
      const std::uint64_t oldest = bus_.ring_.front()->id;
      cursor_ = std::max(cursor_, oldest);  // what left the ring meanwhile was filtered out
      for (auto it = bus_.ring_.begin() + static_cast<std::ptrdiff_t>(cursor_ - oldest); it != bus_.ring_.end(); ++it) {
        if (Wants(**it)) batch.events.push_back(*it);
      }
    }
    cursor_ = bus_.next_id_;
    if (!batch.events.empty() || ended_ || lost_ != 0) break;
    waiting_ = true;  // Publish wakes us for an event we want
    const bool timed_out = !lock.WaitUntil(ready_, deadline);
    waiting_ = false;
    if (timed_out && cursor_ == bus_.next_id_) break;
  }
  batch.lost = lost_;
  lost_ = 0;
  batch.ended = ended_;
  batch.dropped = dropped_;
  last_take_ = std::chrono::steady_clock::now();
  return batch;
}

// ---------------------------------------------------------------------------
// The simulator's events

void EmitOrderCreated(EventBus* bus, const Order& order) {
  if (bus) bus->Publish("order.created", order.account_id, OrderFields(order));
}

void EmitTransition(EventBus* bus, const Order& order) {
  if (!bus || order.history.empty()) return;
  EventFields fields = OrderFields(order);
  fields.Str("cause", order.history.back().cause.str());
  std::string errors = "[";
  for (const auto& error : order.errors) {
    if (errors.size() > 1) errors += ',';
    errors += EventFields().Int("code", error.code).Str("description", error.description).Object();
  }
  fields.Raw("errors", errors + "]");
  bus->Publish("order.transition", order.account_id, fields);
}

void EmitNoteAdded(EventBus* bus, const Order& order, const Note& note) {
  if (!bus) return;
  bus->Publish("note.added", order.account_id,
               EventFields()
                   .Str("orderId", order.id)
                   .Int("noteId", note.id)
                   .Str("userId", note.user_id)
                   .Str("description", note.description));
}

void EmitSubscription(EventBus* bus, std::string_view change, const std::string& account_id,
                      const std::string& subscription_id, const SubscriptionSpec* subscription) {
  if (!bus) return;
  EventFields fields;
  fields.Str("subscriptionId", subscription_id);
  const SubscriptionSpec spec = subscription ? *subscription : SubscriptionSpec{};
  if (spec.order_type) fields.Str("orderType", *spec.order_type);
  if (spec.order_id) fields.Str("orderId", *spec.order_id);
  if (spec.event_type) fields.Str("eventType", *spec.event_type);
  if (spec.callback) fields.Str("url", spec.callback->url).Bool("basicAuth", spec.callback->basic.has_value());
  if (spec.email) fields.Str("email", spec.email->email);
  bus->Publish("subscription." + std::string(change), account_id, fields);
}

void EmitCallbackAttempt(EventBus* bus, const JournalEntry& entry) {
  if (!bus) return;
  EventFields fields;
  fields.Int("journalId", static_cast<std::int64_t>(entry.id))
      .Str("orderId", entry.order_id)
      .Str("subscriptionId", entry.subscription_id)
      .Str("status", ToString(entry.status))
      .Str("event", entry.event)
      .Str("url", entry.url)
      .Int("attempt", entry.attempt);
  if (entry.response_status) {
    fields.Int("responseStatus", entry.response_status);
  } else {
    fields.Null("responseStatus");
  }
  fields.Str("error", entry.error)
      .Str("fault", entry.fault)
      .Int("latencyMicros", entry.wall_micros)
      .Bool("succeeded", entry.Succeeded());
  bus->Publish("callback.attempted", entry.account_id, fields);
}

void EmitFaultFired(EventBus* bus, std::string_view target, const std::string& rule_id, const std::string& account_id,
                    std::string_view what) {
  if (!bus) return;
  bus->Publish("fault.fired", account_id,
               EventFields().Str("faultId", rule_id).Str("target", target).Str("what", what));
}

void EmitFaultsChanged(EventBus* bus, const std::optional<std::string>& account_id) {
  if (bus) bus->Publish("faults.changed", account_id.value_or(""));
}

void EmitClockAdvanced(EventBus* bus, Duration by) {
  if (!bus) return;
  bus->Publish("clock.advanced", "",
               EventFields().Str("by", FormatDuration(by)).Str("now", wire::FormatTimestamp(bus->clock().Now())));
}

void EmitReset(EventBus* bus, const std::optional<std::string>& account_id) {
  if (!bus) return;
  EventFields fields;
  fields.Str("scope", account_id ? "account" : "all");
  bus->Publish("reset", account_id.value_or(""), fields);
}

void EmitScenariosReloaded(EventBus* bus, std::size_t count) {
  if (bus) bus->Publish("scenarios.reloaded", "", EventFields().Int("count", static_cast<std::int64_t>(count)));
}

}  // namespace csrsim
