// Unit tests of the event bus: ids, the ring and Last-Event-ID resume, the
// account filter, dropping a subscriber that does not keep up, shutdown.
#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "csrsim/clock.hpp"
#include "csrsim/events.hpp"

using namespace csrsim;

namespace {

std::vector<std::uint64_t> Ids(const EventSubscription::Batch& batch) {
  std::vector<std::uint64_t> ids;
  for (const auto& event : batch.events) ids.push_back(event->id);
  return ids;
}

EventBusOptions Small() {
  EventBusOptions options;
  options.ring_capacity = 4;
  options.min_batch_interval = std::chrono::milliseconds(0);
  return options;
}

constexpr std::chrono::milliseconds kNoWait{0};

}  // namespace

TEST_CASE("events: each is one JSON object with id, type, simulated time, account and fields") {
  ManualClock clock;
  EventBus bus(clock);
  auto subscription = bus.Subscribe(std::nullopt, std::nullopt);
  bus.Publish("order.created", "9900000", EventFields().Str("tn", "9198675309").Int("n", 7).Null("x"));
  bus.Publish("clock.advanced", "", EventFields().Str("by", "5s"));
  auto batch = subscription->Next(kNoWait);
  REQUIRE(batch.events.size() == 2);
  CHECK(
      batch.events[0]->json() ==
      R"({"id":1,"type":"order.created","at":"2026-01-01T00:00:00.000Z","account":"9900000","tn":"9198675309","n":7,"x":null})");
  CHECK(batch.events[1]->json() == R"({"id":2,"type":"clock.advanced","at":"2026-01-01T00:00:00.000Z","by":"5s"})");
  CHECK(batch.events[1]->frame == "id: 2\ndata: " + std::string(batch.events[1]->json()) + "\n\n");
}

TEST_CASE("events: client bytes are escaped, and bytes that are not UTF-8 become U+FFFD") {
  CHECK(EventFields().Str("s", "a\"b\\c\nd\x01 é \xff").Object() == R"({"s":"a\"b\\c\nd\u0001 é \ufffd"})");
  CHECK(EventFields().Str("s", "\xed\xa0\x80").Object() == R"({"s":"\ufffd\ufffd\ufffd"})");  // a surrogate
}

TEST_CASE("events: a subscriber without a last id gets only what is published after it subscribed") {
  ManualClock clock;
  EventBus bus(clock, Small());
  bus.Publish("a", "");
  auto subscription = bus.Subscribe(std::nullopt, std::nullopt);
  bus.Publish("b", "");
  CHECK(Ids(subscription->Next(kNoWait)) == std::vector<std::uint64_t>{2});
}

TEST_CASE("events: Last-Event-ID resumes from the ring, and says how many events were lost") {
  ManualClock clock;
  EventBus bus(clock, Small());                      // ring of 4
  for (int i = 0; i < 6; ++i) bus.Publish("e", "");  // ids 1..6; the ring keeps 3..6

  auto resumed = bus.Subscribe(std::nullopt, 4);
  auto batch = resumed->Next(kNoWait);
  CHECK(Ids(batch) == std::vector<std::uint64_t>{5, 6});
  CHECK(batch.lost == 0);

  auto late = bus.Subscribe(std::nullopt, 0);  // 1 and 2 left the ring
  batch = late->Next(kNoWait);
  CHECK(batch.lost == 2);
  CHECK(Ids(batch).front() == 3);

  auto current = bus.Subscribe(std::nullopt, 6);
  batch = current->Next(kNoWait);
  CHECK(batch.events.empty());
  CHECK(batch.lost == 0);
}

TEST_CASE("events: the account filter passes that account's events and those of no account") {
  ManualClock clock;
  EventBus bus(clock);
  auto filtered = bus.Subscribe(std::string("1"), std::nullopt);
  bus.Publish("mine", "1");
  bus.Publish("other", "2");
  bus.Publish("global", "");
  auto batch = filtered->Next(kNoWait);
  CHECK(Ids(batch) == std::vector<std::uint64_t>{1, 3});
}

TEST_CASE("events: a subscriber a whole ring behind is dropped, and the others keep every event") {
  ManualClock clock;
  EventBus bus(clock, Small());  // ring of 4: a subscriber 4 events behind goes
  auto stalled = bus.Subscribe(std::nullopt, std::nullopt);
  auto healthy = bus.Subscribe(std::nullopt, std::nullopt);
  std::vector<std::uint64_t> seen;
  for (int i = 0; i < 10; ++i) {
    bus.Publish("e", "");  // never blocks, whoever does not read
    for (auto id : Ids(healthy->Next(kNoWait))) seen.push_back(id);
  }
  CHECK(seen.size() == 10);
  auto batch = stalled->Next(kNoWait);
  CHECK(batch.ended);
  CHECK(batch.dropped);
  CHECK(bus.dropped_subscribers() == 1);
  CHECK(bus.subscriber_count() == 1);
}

TEST_CASE("events: a filtered subscriber is not dropped for the events it does not want") {
  ManualClock clock;
  EventBus bus(clock, Small());  // ring of 4
  auto mine = bus.Subscribe(std::string("1"), std::nullopt);
  for (int i = 0; i < 10; ++i) bus.Publish("other", "2");
  bus.Publish("mine", "1");
  auto batch = mine->Next(kNoWait);
  CHECK_FALSE(batch.ended);
  CHECK(Ids(batch) == std::vector<std::uint64_t>{11});
  CHECK(bus.dropped_subscribers() == 0);
}

TEST_CASE("events: Next waits for an event, and Shutdown ends every subscription and waits for it to go") {
  ManualClock clock;
  EventBus bus(clock);
  auto subscription = bus.Subscribe(std::nullopt, std::nullopt);
  std::thread publisher([&bus] { bus.Publish("late", ""); });
  auto batch = subscription->Next(std::chrono::seconds(10));
  publisher.join();
  CHECK(Ids(batch) == std::vector<std::uint64_t>{1});

  // Shutdown waits for the subscription to go (the stream's last write).
  std::thread stopper([&bus] { bus.Shutdown(std::chrono::seconds(10)); });
  batch = subscription->Next(std::chrono::seconds(10));
  CHECK(batch.ended);
  CHECK_FALSE(batch.dropped);
  subscription.reset();
  stopper.join();
  CHECK(bus.Subscribe(std::nullopt, std::nullopt) == nullptr);
}

namespace {

EventBusOptions TinyBlocks() {
  EventBusOptions options;
  options.ring_capacity = 8;
  options.min_batch_interval = std::chrono::milliseconds(0);
  options.block_events = 3;
  options.block_bytes = 256;
  return options;
}

}  // namespace

TEST_CASE(
    "events: the ring's blocks — every event once, in order, across block boundaries and for frames larger than a "
    "block") {
  ManualClock clock;
  EventBus bus(clock, TinyBlocks());  // 3 events or 256 bytes a block
  auto all = bus.Subscribe(std::nullopt, std::nullopt);
  auto mine = bus.Subscribe(std::string("1"), std::nullopt);
  const std::string big(600, 'x');  // a frame larger than a block
  bus.Publish("a", "1");
  bus.Publish("b", "2", EventFields().Str("big", big));
  bus.Publish("c", "1");
  bus.Publish("d", "");
  auto batch = all->Next(kNoWait);
  REQUIRE(Ids(batch) == std::vector<std::uint64_t>{1, 2, 3, 4});
  CHECK(batch.events[1]->json() ==
        R"({"id":2,"type":"b","at":"2026-01-01T00:00:00.000Z","account":"2","big":")" + big + R"("})");
  CHECK(batch.events[1]->account == "2");
  CHECK(batch.events[3]->account.empty());
  CHECK(Ids(mine->Next(kNoWait)) == std::vector<std::uint64_t>{1, 3, 4});

  for (int i = 0; i < 5; ++i) bus.Publish("e", "1");  // ids 5..9: blocks of 3
  CHECK(Ids(all->Next(kNoWait)) == std::vector<std::uint64_t>{5, 6, 7, 8, 9});
  auto resumed = bus.Subscribe(std::nullopt, 3);  // the ring of 8 keeps 2..9
  CHECK(Ids(resumed->Next(kNoWait)) == std::vector<std::uint64_t>{4, 5, 6, 7, 8, 9});
}

TEST_CASE("events: frames of consecutive events of one block are adjacent bytes (a stream writes them as one piece)") {
  ManualClock clock;
  EventBus bus(clock);  // default blocks: 256 events, 64 KiB
  auto subscription = bus.Subscribe(std::nullopt, std::nullopt);
  for (int i = 0; i < 10; ++i) bus.Publish("e", i % 2 ? "1" : "22");
  auto batch = subscription->Next(kNoWait);
  REQUIRE(batch.events.size() == 10);
  for (std::size_t i = 1; i < batch.events.size(); ++i) {
    const auto previous = batch.events[i - 1]->frame;
    CHECK(previous.data() + previous.size() == batch.events[i]->frame.data());
  }
  CHECK(batch.events[3]->account == "1");
  CHECK(batch.events[4]->account == "22");
}

TEST_CASE("events: a batch stays readable after its events left the ring") {
  ManualClock clock;
  EventBus bus(clock, TinyBlocks());
  auto reader = bus.Subscribe(std::nullopt, std::nullopt);
  bus.Publish("kept", "", EventFields().Str("n", "first"));
  auto batch = reader->Next(kNoWait);
  reader.reset();                                     // no longer a subscriber: nobody is dropped
  for (int i = 0; i < 30; ++i) bus.Publish("e", "");  // the ring moved on, its first blocks went
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0]->json() == R"({"id":1,"type":"kept","at":"2026-01-01T00:00:00.000Z","n":"first"})");
  auto late = bus.Subscribe(std::nullopt, 0);
  auto resumed = late->Next(kNoWait);
  CHECK(resumed.lost == 23);  // the ring of 8 keeps 24..31
  CHECK(Ids(resumed).front() == 24);
}

TEST_CASE("events: a filtered subscriber that saw only others' events waits on, and times out empty") {
  ManualClock clock;
  EventBus bus(clock, Small());
  auto mine = bus.Subscribe(std::string("1"), std::nullopt);
  bus.Publish("other", "2");
  auto batch = mine->Next(kNoWait);
  CHECK(batch.events.empty());
  CHECK_FALSE(batch.ended);
  CHECK(batch.lost == 0);
}

TEST_CASE("events: a subscriber on another thread receives every event of a concurrent publisher, in order") {
  ManualClock clock;
  EventBusOptions options;
  options.ring_capacity = 5000;  // never a whole ring behind
  options.block_events = 7;
  options.block_bytes = 512;
  options.min_batch_interval = std::chrono::milliseconds(0);
  options.busy_batch_interval = std::chrono::milliseconds(0);
  EventBus bus(clock, options);
  auto subscription = bus.Subscribe(std::nullopt, std::nullopt);
  constexpr std::uint64_t kEvents = 3000;
  std::thread publisher([&bus] {
    for (std::uint64_t i = 0; i < kEvents; ++i) bus.Publish("e", i % 3 ? "1" : "", EventFields().Int("n", i));
  });
  std::vector<std::uint64_t> seen;
  bool in_order = true;
  while (seen.size() < kEvents) {
    auto batch = subscription->Next(std::chrono::seconds(10));
    if (batch.ended || (batch.events.empty() && batch.lost == 0)) break;
    for (const auto* event : batch.events) {
      in_order = in_order && event->id == seen.size() + 1 &&
                 event->json().ends_with(",\"n\":" + std::to_string(event->id - 1) + "}");
      seen.push_back(event->id);
    }
  }
  publisher.join();
  CHECK(in_order);
  CHECK(seen.size() == kEvents);
}
