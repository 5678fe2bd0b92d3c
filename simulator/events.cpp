#include "csrsim/events.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>

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
// EventBlock

// Events first_id, first_id + 1, ... in slots; their frames back to back from
// the start of buffer, their accounts from its end down. Written only by EventBus::Append under the bus mutex;
// a slot and its bytes never change once written.
struct EventBlock {
  EventBlock(std::uint64_t first, std::size_t events, std::size_t bytes)
      : first_id(first),
        slot_capacity(events),
        byte_capacity(bytes),
        slots(std::make_unique<PublishedEvent[]>(events)),
        buffer(new char[bytes]) {}
  const std::uint64_t first_id;
  const std::size_t slot_capacity;
  const std::size_t byte_capacity;
  const std::unique_ptr<PublishedEvent[]> slots;
  const std::unique_ptr<char[]> buffer;
};

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
  tail += "}\n\n";

  MutexLock lock(mu_);
  if (shutdown_) return;
  const PublishedEvent& published = Append(account, tail);
  const PublishedEvent* evicted = nullptr;
  if (next_id_ - oldest_id_ > std::max<std::size_t>(options_.ring_capacity, 1)) {
    evicted = &blocks_.front()->slots[oldest_id_ - blocks_.front()->first_id];
    ++oldest_id_;
  }
  Notify(published, evicted);
  // Blocks whose every event left the ring; a batch may still hold one.
  while (blocks_.size() > 1 && blocks_[1]->first_id <= oldest_id_) blocks_.pop_front();
}

EventBlock& EventBus::TailWithRoom(std::size_t frame_size) {
  if (!blocks_.empty()) {
    const EventBlock& tail = *blocks_.back();
    if (next_id_ - tail.first_id < tail.slot_capacity && tail_used_ + frame_size <= tail.byte_capacity) {
      return *blocks_.back();
    }
  }
  blocks_.push_back(std::make_shared<EventBlock>(next_id_, std::max<std::size_t>(options_.block_events, 1),
                                                 std::max(options_.block_bytes, frame_size)));
  tail_used_ = tail_accounts_ = 0;
  return *blocks_.back();
}

const PublishedEvent& EventBus::Append(std::string_view account, std::string_view tail) {
  char digits[24];
  const auto [digits_end, ec] = std::to_chars(std::begin(digits), std::end(digits), next_id_);
  const std::string_view id(digits, static_cast<std::size_t>(digits_end - digits));
  constexpr std::string_view kId = "id: ";
  constexpr std::string_view kData = "\ndata: ";
  constexpr std::string_view kJsonId = "{\"id\":";
  const std::size_t size = kId.size() + kData.size() + kJsonId.size() + 2 * id.size() + tail.size() + account.size();
  EventBlock& block = TailWithRoom(size);
  char* const start = block.buffer.get() + (tail_used_ - tail_accounts_);
  char* out = start;
  const auto put = [&out](std::string_view bytes) { out = std::copy(bytes.begin(), bytes.end(), out); };
  put(kId);
  put(id);
  put(kData);
  const auto json_offset = static_cast<std::size_t>(out - start);
  put(kJsonId);
  put(id);
  put(tail);
  const std::string_view frame(start, static_cast<std::size_t>(out - start));
  // The account from the end of the buffer down, so that frames stay adjacent.
  tail_accounts_ += account.size();
  char* const account_start = block.buffer.get() + block.byte_capacity - tail_accounts_;
  std::copy(account.begin(), account.end(), account_start);
  tail_used_ += size;
  PublishedEvent& slot = block.slots[next_id_ - block.first_id];
  slot.id = next_id_++;
  slot.frame = frame;
  slot.json_offset = json_offset;
  slot.account = std::string_view(account_start, account.size());
  return slot;
}

void EventBus::Notify(const PublishedEvent& published, const PublishedEvent* evicted) {
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

std::size_t EventBus::BlockOf(std::uint64_t id) const {
  const auto after = std::upper_bound(blocks_.begin(), blocks_.end(), id,
                                      [](std::uint64_t wanted, const auto& block) { return wanted < block->first_id; });
  return static_cast<std::size_t>(after - blocks_.begin()) - 1;
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
    subscription->cursor_ = std::max(*last_id + 1, oldest_id_);
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
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Batch batch;
  batch.blocks.reserve(4);
  for (bool pace = true;; pace = false) {
    std::uint64_t first = 0;
    std::uint64_t end = 0;
    Take(pace, deadline, batch, first, end);
    Collect(batch, first, end);  // without the mutex
    if (!batch.events.empty() || batch.ended || batch.lost != 0) return batch;
    if (std::chrono::steady_clock::now() >= deadline) return batch;
    batch.blocks.clear();  // only events it filters out: wait for more
  }
}

void EventSubscription::Take(bool pace, std::chrono::steady_clock::time_point deadline, Batch& batch,
                             std::uint64_t& first, std::uint64_t& end) {
  MutexLock lock(bus_.mu_);
  if (pace) {  // so that a busy stream is written in batches
    const auto interval = last_take_busy_
                              ? std::max(bus_.options_.min_batch_interval, bus_.options_.busy_batch_interval)
                              : bus_.options_.min_batch_interval;
    const auto until = std::min(last_take_ + interval, deadline);
    while (!ended_ && std::chrono::steady_clock::now() < until && lock.WaitUntil(ready_, until)) {
    }
  }
  if (!ended_ && lost_ == 0 && cursor_ == bus_.next_id_) {
    waiting_ = true;  // Publish wakes us for an event we want
    while (waiting_ && !ended_ && lock.WaitUntil(ready_, deadline)) {
    }
    waiting_ = false;
  }
  first = end = cursor_;
  if (!ended_) {
    first = std::max(cursor_, bus_.oldest_id_);  // what left the ring meanwhile was filtered out
    end = bus_.next_id_;
    if (first < end) {
      for (std::size_t i = bus_.BlockOf(first); i < bus_.blocks_.size(); ++i) batch.blocks.push_back(bus_.blocks_[i]);
    }
  }
  last_take_busy_ = end - first >= bus_.options_.busy_batch_events;
  cursor_ = bus_.next_id_;
  batch.lost = std::exchange(lost_, 0);
  batch.ended = ended_;
  batch.dropped = dropped_;
  last_take_ = std::chrono::steady_clock::now();
}

void EventSubscription::Collect(Batch& batch, std::uint64_t first, std::uint64_t end) const {
  for (std::size_t i = 0; i < batch.blocks.size(); ++i) {
    const EventBlock* block = batch.blocks[i].get();
    // A block may have closed before its slots were full: the next one says.
    const std::uint64_t block_end =
        i + 1 < batch.blocks.size() ? batch.blocks[i + 1]->first_id : block->first_id + block->slot_capacity;
    const std::uint64_t from = std::max(first, block->first_id);
    const std::uint64_t to = std::min(end, block_end);
    for (std::uint64_t id = from; id < to; ++id) {
      const PublishedEvent& event = block->slots[id - block->first_id];
      if (Wants(event)) batch.events.push_back(&event);
    }
  }
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
