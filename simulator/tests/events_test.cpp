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
