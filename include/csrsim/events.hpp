// events: the simulator's live event stream — what /_sim/events serves and the
// dashboard (/_sim/ui) draws from. Every part that changes state emits one
// event through the Emit* functions below; each event is a JSON object with
// "id", "type", "at" (simulated time) and, when it belongs to one, "account".
//
// EventBus keeps a bounded ring of the most recent events, ids 1, 2, 3, ... in
// publish order. Each subscriber is a cursor into that ring, so its queue is
// the ring itself, bounded by the ring's size:
//  - a client that reconnects with the last id it saw resumes where it left
//    off, or is told how many events it lost when they had left the ring;
//  - a subscriber that falls a whole ring behind (a slow or dead client) is
//    dropped, so it never holds back the publisher or the other subscribers.
// Publish() formats the event once and never waits on a subscriber: under the
// bus mutex it copies the frame into the ring and checks each subscriber's
// cursor (no copy, no allocation per subscriber); subscribers collect their
// events themselves, in batches.
//
// The ring is a sequence of blocks (EventBlock): each holds consecutive events,
// their frames back to back in one buffer. A block's slots and bytes are
// written once, under the bus mutex, in id order, and never change afterwards;
// a subscriber takes its batch under the mutex as the ids it saw there plus a
// reference to each block they lie in (one per block, not one per event), and
// reads the events after releasing the mutex. A block is freed when its last
// event has left the ring and no batch holds it.
//
// Thread-safety: EventBus and EventSubscription are safe from any thread. The
// Emit* functions accept a null bus (then they do nothing).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "csrsim/clock.hpp"
#include "csrsim/model.hpp"
#include "csrsim/mutex.hpp"

namespace csrsim {

struct JournalEntry;

// Builds the fields of one event's JSON object. Strings are escaped; bytes
// that are not UTF-8 become U+FFFD, so client input can never break the stream.
class EventFields {
 public:
  EventFields& Str(std::string_view key, std::string_view value);
  EventFields& Int(std::string_view key, std::int64_t value);
  EventFields& Bool(std::string_view key, bool value);
  EventFields& Null(std::string_view key);
  // `json` must already be valid JSON (an array or object built with EventFields).
  EventFields& Raw(std::string_view key, std::string_view json);
  // The fields as a JSON object, "{...}".
  std::string Object() const { return "{" + text_ + "}"; }
  const std::string& text() const { return text_; }

 private:
  void Key(std::string_view key);
  std::string text_;  // "\"k\":v,\"k2\":v2"
};

// One published event, as it lies in its block of the ring: framed for
// text/event-stream once, at publish, not once per subscriber. Its views stay
// valid as long as the batch (or the ring) that holds its block.
struct PublishedEvent {
  std::uint64_t id = 0;
  std::string_view account;  // "" when it belongs to no single account
  std::string_view frame;    // "id: N\ndata: {...}\n\n"
  std::size_t json_offset = 0;
  // The whole JSON object, "id" included.
  std::string_view json() const { return frame.substr(json_offset, frame.size() - json_offset - 2); }
};

// A run of consecutive events of the ring (defined in events.cpp).
struct EventBlock;

struct EventBusOptions {
  // Events kept for Last-Event-ID resume; also how far behind a subscriber may
  // fall before it is dropped. At least 1.
  std::size_t ring_capacity = 10000;
  // A subscriber takes its events at most this often: under load every take
  // is a batch, so N subscribers cost N wake-ups per interval, not per event.
  std::chrono::milliseconds min_batch_interval{20};
  // After a batch of at least busy_batch_events events (a busy bus), the next
  // take waits busy_batch_interval instead: fewer, larger writes per stream.
  // A subscriber is dropped only once a whole ring is published meanwhile, so
  // this interval must stay well below ring_capacity / events per second.
  std::size_t busy_batch_events = 256;
  std::chrono::milliseconds busy_batch_interval{100};
  // The ring's blocks: at most this many events, and frames of this many bytes
  // (a larger frame gets a block of its own). Adjacent events of one block are
  // adjacent bytes, so a stream writes a run of them as one piece.
  std::size_t block_events = 256;
  std::size_t block_bytes = std::size_t{64} * 1024;
};

class EventSubscription;

class EventBus {
 public:
  explicit EventBus(Clock& clock, EventBusOptions options = {});

  // Stamps the next id and the simulated time, keeps the event in the ring and
  // queues it for every subscriber whose filter matches.
  void Publish(std::string_view type, std::string_view account, const EventFields& fields = {});

  // A new subscriber: with `account`, only that account's events and those of
  // no account (clock, reset of all, reloads). With `last_id`, it
  // first receives the ring's events after that id (resume); without, only
  // events published from now on. nullptr after Shutdown.
  std::unique_ptr<EventSubscription> Subscribe(std::optional<std::string> account,
                                               std::optional<std::uint64_t> last_id);
  // Ends every subscription (their Next returns ended) and refuses new ones;
  // then waits up to `grace` (wall time) until every subscription is gone, so
  // each stream can write its last words before the server closes connections.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(2));

  std::uint64_t last_id() const;
  std::size_t subscriber_count() const;
  std::uint64_t dropped_subscribers() const;
  Clock& clock() const { return clock_; }
  const EventBusOptions& options() const { return options_; }

 private:
  friend class EventSubscription;
  void Unsubscribe(EventSubscription* subscription);
  // Room in the ring for one more event of `frame_size` bytes: the tail block,
  // or a new one.
  EventBlock& TailWithRoom(std::size_t frame_size) CSRSIM_REQUIRES(mu_);
  // Copies the framed event into the ring as event next_id_.
  const PublishedEvent& Append(std::string_view account, std::string_view tail) CSRSIM_REQUIRES(mu_);
  // After an append: wakes the subscribers waiting for `published`, and drops
  // those that still wanted `evicted` (null: none left the ring).
  void Notify(const PublishedEvent& published, const PublishedEvent* evicted) CSRSIM_REQUIRES(mu_);
  // The index in blocks_ of the block that holds event `id` (in the ring).
  std::size_t BlockOf(std::uint64_t id) const CSRSIM_REQUIRES(mu_);

  Clock& clock_;
  const EventBusOptions options_;
  mutable Mutex mu_;
  std::deque<std::shared_ptr<EventBlock>> blocks_ CSRSIM_GUARDED_BY(mu_);  // oldest first
  std::size_t tail_used_ CSRSIM_GUARDED_BY(mu_) = 0;                       // bytes written in blocks_.back()
  std::size_t tail_accounts_ CSRSIM_GUARDED_BY(mu_) = 0;                   // of which accounts, at its end
  std::uint64_t oldest_id_ CSRSIM_GUARDED_BY(mu_) = 1;                     // the ring holds oldest_id_ .. next_id_ - 1
  std::vector<EventSubscription*> subscribers_ CSRSIM_GUARDED_BY(mu_);
  std::size_t live_ CSRSIM_GUARDED_BY(mu_) = 0;  // subscriptions not yet destroyed
  std::condition_variable gone_;
  std::uint64_t next_id_ CSRSIM_GUARDED_BY(mu_) = 1;
  std::uint64_t dropped_subscribers_ CSRSIM_GUARDED_BY(mu_) = 0;
  bool shutdown_ CSRSIM_GUARDED_BY(mu_) = false;
};

// One client's view of the stream. Obtained from EventBus::Subscribe.
class EventSubscription {
 public:
  struct Batch {
    std::vector<const PublishedEvent*> events;  // in id order; valid while the batch lives
    // Set on the first batch of a resume when events after the client's last
    // id already left the ring: how many were lost.
    std::uint64_t lost = 0;
    bool ended = false;    // shut down or dropped: no more events will come
    bool dropped = false;  // ended because it fell a whole ring behind
    // The blocks `events` lie in, held so that the ring may free them meanwhile.
    std::vector<std::shared_ptr<const EventBlock>> blocks;
  };
  // Waits up to `timeout` (wall time) for events; an empty, not ended batch
  // means the time ran out (time for a heartbeat).
  Batch Next(std::chrono::milliseconds timeout);
  ~EventSubscription();  // unsubscribes

 private:
  friend class EventBus;
  explicit EventSubscription(EventBus& bus) : bus_(bus) {}
  // The account filter: events of that account, and events of no account.
  bool Wants(const PublishedEvent& event) const;
  // Under the bus mutex: waits (pacing first when `pace`) until there is
  // something to take or `deadline` passes, then takes the ring's events from
  // the cursor on into `batch` as ids [first, end) and their blocks.
  void Take(bool pace, std::chrono::steady_clock::time_point deadline, Batch& batch, std::uint64_t& first,
            std::uint64_t& end);
  // Without the mutex: the events of [first, end) in `batch.blocks` it wants.
  void Collect(Batch& batch, std::uint64_t first, std::uint64_t end) const;
  // Tells the lock analysis what an EventBus method holding its mu_ knows:
  // this subscription's bus is that bus (clang cannot see it through bus_).
  void BusLocked() const CSRSIM_ASSERT_CAPABILITY(bus_.mu_) {}
  EventBus& bus_;
  std::optional<std::string> account_;                    // filter; immutable after Subscribe
  std::uint64_t cursor_ CSRSIM_GUARDED_BY(bus_.mu_) = 0;  // id of the next event to take
  std::condition_variable ready_;                         // waited on with bus_.mu_
  std::uint64_t lost_ CSRSIM_GUARDED_BY(bus_.mu_) = 0;
  bool waiting_ CSRSIM_GUARDED_BY(bus_.mu_) = false;
  bool ended_ CSRSIM_GUARDED_BY(bus_.mu_) = false;
  bool dropped_ CSRSIM_GUARDED_BY(bus_.mu_) = false;
  std::chrono::steady_clock::time_point last_take_ CSRSIM_GUARDED_BY(bus_.mu_){};
  bool last_take_busy_ CSRSIM_GUARDED_BY(bus_.mu_) = false;  // it had busy_batch_events or more
};

// ---- the events the simulator emits (each a no-op when `bus` is null)

// "order.created" — with tn, customerOrderId, status, scenario, created.
void EmitOrderCreated(EventBus* bus, const Order& order);
// "order.transition" — the order's last history entry: status, cause, message,
// errors (code and description), and the order's tn and scenario.
void EmitTransition(EventBus* bus, const Order& order);
// "note.added"
void EmitNoteAdded(EventBus* bus, const Order& order, const Note& note);
// "subscription.created" / "subscription.changed" with the subscription's
// target, or "subscription.deleted" (`spec` then null).
void EmitSubscription(EventBus* bus, std::string_view change, const std::string& account_id,
                      const std::string& subscription_id, const SubscriptionSpec* spec);
// "callback.attempted" — one journal entry: url, responseStatus or error, latency.
void EmitCallbackAttempt(EventBus* bus, const JournalEntry& entry);
// "fault.fired" — rule `rule_id` of `target` ("api" or "callback") hit `account_id`.
void EmitFaultFired(EventBus* bus, std::string_view target, const std::string& rule_id, const std::string& account_id,
                    std::string_view what);
// "faults.changed" — a rule was added or removed (account: the rule's, or none).
void EmitFaultsChanged(EventBus* bus, const std::optional<std::string>& account_id);
// "clock.advanced" — by how much, and the new time.
void EmitClockAdvanced(EventBus* bus, Duration by);
// "reset" — of one account, or of everything.
void EmitReset(EventBus* bus, const std::optional<std::string>& account_id);
// "scenarios.reloaded" — how many scenarios are now in force.
void EmitScenariosReloaded(EventBus* bus, std::size_t count);

}  // namespace csrsim
