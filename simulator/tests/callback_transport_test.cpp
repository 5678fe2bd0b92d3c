#include <httplib.h>

#include <catch2/catch.hpp>
#include <thread>

// The httplib transport and the journal against real local receivers; the
// dispatcher's own behaviour is tested on a fake transport in dispatcher_test.cpp.
#include "csrsim/callbacks.hpp"
#include "delivery_support.hpp"
#include "ports.hpp"
#include "receiver.hpp"

using namespace csrsim;
using csrsim::testing::CallbackReceiver;
using csrsim::testing::HeaderOf;
using csrsim::testing::MakeDelivery;
using csrsim::testing::RefusingPort;
using namespace std::chrono_literals;

namespace {

constexpr auto kPatience = 10s;  // wall-time bound for waits that should end at once

using Harness = csrsim::testing::DispatcherHarness;

}  // namespace

// ---------------------------------------------------------------------------
// Delivery and authentication

TEST_CASE("pre-emptive Basic credentials reach the receiver on the first POST") {
  CallbackReceiver receiver;
  Harness harness;
  Delivery delivery = MakeDelivery(receiver.Url("/hooks/csr?token=1"), "order-1", "<Notification>1</Notification>");
  delivery.credentials = BasicCredentials{"alice", "s3cret"};
  harness.dispatcher->Submit(delivery);
  harness.dispatcher->WaitIdle();

  auto requests = receiver.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].path == "/hooks/csr");
  CHECK(requests[0].Header("Authorization") == "Basic YWxpY2U6czNjcmV0");  // alice:s3cret
  CHECK(requests[0].Header("Content-Type") == "application/xml; charset=utf-8");
  CHECK(requests[0].Header("User-Agent") == "csr-simulator");
  CHECK(requests[0].body == "<Notification>1</Notification>");

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].id == 1);
  CHECK(entries[0].attempt == 1);
  CHECK(entries[0].response_status == 200);
  CHECK(entries[0].Succeeded());
  CHECK(entries[0].error.empty());
  CHECK(entries[0].fault.empty());
  CHECK(HeaderOf(entries[0], "Authorization") == "Basic YWxpY2U6czNjcmV0");
  CHECK(entries[0].status == OrderStatus::kComplete);
  CHECK(entries[0].scheduled_at == ManualClock::DefaultStart());
  CHECK(entries[0].sent_at == harness.clock.Now());
  CHECK(entries[0].finished_at == harness.clock.Now());
  CHECK(entries[0].wall_micros > 0);
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"200 OK"});
  CHECK(harness.outcomes[0].subscription_id == "sub-1");
}

TEST_CASE("a delivery without credentials sends no Authorization header") {
  CallbackReceiver receiver;
  Harness harness;
  harness.dispatcher->Submit(MakeDelivery(receiver.Url()));
  harness.dispatcher->WaitIdle();
  REQUIRE(receiver.Requests().size() == 1);
  CHECK_FALSE(receiver.Requests()[0].Header("Authorization"));
  CHECK_FALSE(HeaderOf(harness.Entries().at(0), "Authorization"));
}

TEST_CASE("in the challenge flow a 401 with WWW-Authenticate is answered with credentials") {
  CallbackReceiver receiver;
  receiver.SetResponder([](const httplib::Request& request, httplib::Response& response) {
    if (request.has_header("Authorization")) return;
    response.status = 401;
    response.set_header("WWW-Authenticate", "Basic realm=\"csr\"");
  });
  Harness harness;
  harness.dispatcher->SetAuthMode(CallbackAuthMode::kChallenge);
  Delivery delivery = MakeDelivery(receiver.Url());
  delivery.credentials = BasicCredentials{"eve", "passwd"};
  harness.dispatcher->Submit(delivery);
  harness.dispatcher->WaitIdle();

  auto requests = receiver.Requests();
  REQUIRE(requests.size() == 2);
  CHECK_FALSE(requests[0].Header("Authorization"));
  CHECK(requests[1].Header("Authorization") == "Basic ZXZlOnBhc3N3ZA==");  // eve:passwd

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].attempt == 1);
  CHECK(entries[0].response_status == 401);
  CHECK_FALSE(HeaderOf(entries[0], "Authorization"));
  CHECK(entries[1].attempt == 2);
  CHECK(entries[1].response_status == 200);
  CHECK(HeaderOf(entries[1], "Authorization") == "Basic ZXZlOnBhc3N3ZA==");
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"200 OK"});
}

TEST_CASE("a receiver answering 500 is journaled and reported as 500 Internal Server Error") {
  CallbackReceiver receiver;
  receiver.SetStatus(500);
  Harness harness;
  harness.dispatcher->Submit(MakeDelivery(receiver.Url()));
  harness.dispatcher->WaitIdle();

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].response_status == 500);
  CHECK_FALSE(entries[0].Succeeded());
  CHECK(entries[0].error.empty());
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"500 Internal Server Error"});
}

TEST_CASE("a port with nothing listening is journaled as a transport error") {
  RefusingPort refusing;
  Harness harness;
  harness.dispatcher->Submit(MakeDelivery(refusing.Url()));
  harness.dispatcher->WaitIdle();

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].response_status == 0);
  CHECK(entries[0].error == "connection refused");
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"connection refused"});
}

// ---------------------------------------------------------------------------
// Ordering and isolation

TEST_CASE("a hanging receiver does not delay another order's delivery") {
  CallbackReceiver hanging({.holding = true});
  CallbackReceiver healthy;
  DispatcherOptions options;
  options.workers = 2;
  options.max_in_flight_per_host = 2;  // one each for the two ports of 127.0.0.1
  options.max_in_flight_per_account = 2;
  options.attempt_timeout = 30s;  // far longer than the wait below
  Harness harness(options);

  harness.dispatcher->Submit(MakeDelivery(hanging.Url(), "order-slow"));
  REQUIRE(hanging.WaitUntilHolding());
  harness.dispatcher->Submit(MakeDelivery(healthy.Url(), "order-fast"));

  JournalFilter fast;
  fast.order_id = "order-fast";
  auto entry = harness.journal.WaitFor(fast, 5s);
  REQUIRE(entry);
  CHECK(entry->response_status == 200);
  CHECK(healthy.Requests().size() == 1);
  CHECK(harness.Entries("order-slow").empty());  // still in flight

  hanging.Release();
  harness.dispatcher->WaitIdle();
  REQUIRE(harness.Entries("order-slow").size() == 1);
  CHECK(harness.Entries("order-slow")[0].response_status == 200);
}

TEST_CASE("idle workers let go of keep-alive connections, so a one-thread receiver serves every order") {
  CallbackReceiver receiver({.threads = 1});
  DispatcherOptions options;
  options.workers = 2;
  options.attempt_timeout = 2s;  // shorter than the receiver's 5s keep-alive wait
  Harness harness(options);
  harness.dispatcher->Submit(MakeDelivery(receiver.Url(), "order-1"));
  harness.dispatcher->Submit(MakeDelivery(receiver.Url(), "order-2"));
  harness.dispatcher->WaitIdle();

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].response_status == 200);
  CHECK(entries[1].response_status == 200);
}

// ---------------------------------------------------------------------------
// Stop

TEST_CASE("Stop finishes the attempt in flight and drops queued deliveries") {
  CallbackReceiver receiver({.holding = true});
  DispatcherOptions options;
  options.workers = 1;
  options.attempt_timeout = 300ms;
  Harness harness(options);
  for (int i = 0; i < 20; ++i) {
    harness.dispatcher->Submit(MakeDelivery(receiver.Url(), "order-" + std::to_string(i)));
  }
  REQUIRE(receiver.WaitUntilHolding());
  harness.dispatcher->Stop();

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].order_id == "order-0");
  CHECK(entries[0].error == "timeout");
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"timeout"});

  harness.dispatcher->Submit(MakeDelivery(receiver.Url(), "order-late"));
  harness.dispatcher->WaitIdle();
  harness.dispatcher->Stop();
  CHECK(harness.Entries().size() == 1);
}

// ---------------------------------------------------------------------------
// Journal

namespace {
JournalEntry EntryFor(const std::string& order_id) {
  JournalEntry entry;
  entry.account_id = "9900000";
  entry.order_id = order_id;
  return entry;
}
}  // namespace

TEST_CASE("the journal numbers entries and evicts the oldest beyond its capacity") {
  Journal journal(3);
  for (int i = 1; i <= 5; ++i)
    CHECK(journal.Append(EntryFor("order-" + std::to_string(i))) == static_cast<std::uint64_t>(i));
  CHECK(journal.size() == 3);
  CHECK(journal.dropped() == 2);
  auto entries = journal.Query({});
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].id == 3);
  CHECK(entries[0].order_id == "order-3");
  CHECK(entries[2].id == 5);
}

TEST_CASE("journal queries filter by account, order, subscription, status and id") {
  Journal journal;
  JournalEntry complete = EntryFor("order-1");
  complete.status = OrderStatus::kComplete;
  complete.subscription_id = "sub-1";
  journal.Append(complete);
  journal.Append(EntryFor("order-2"));
  JournalEntry other_account = EntryFor("order-1");
  other_account.account_id = "9900001";
  journal.Append(other_account);

  JournalFilter by_order;
  by_order.order_id = "order-1";
  CHECK(journal.Query(by_order).size() == 2);
  by_order.account_id = "9900000";
  CHECK(journal.Query(by_order).size() == 1);
  JournalFilter by_status;
  by_status.status = OrderStatus::kComplete;
  CHECK(journal.Query(by_status).size() == 1);
  JournalFilter by_subscription;
  by_subscription.subscription_id = "sub-2";
  CHECK(journal.Query(by_subscription).empty());
  JournalFilter after;
  after.after_id = 2;
  REQUIRE(journal.Query(after).size() == 1);
  CHECK(journal.Query(after)[0].id == 3);

  journal.Clear("9900001");
  CHECK(journal.size() == 2);
  journal.Clear(std::nullopt);
  CHECK(journal.size() == 0);
  CHECK(journal.Append(EntryFor("order-3")) == 4);  // ids keep counting after a clear
}

TEST_CASE("WaitFor returns a matching entry appended before the call") {
  Journal journal;
  journal.Append(EntryFor("order-1"));
  JournalFilter filter;
  filter.order_id = "order-1";
  auto entry = journal.WaitFor(filter, 0ms);
  REQUIRE(entry);
  CHECK(entry->id == 1);
}

TEST_CASE("WaitFor wakes when a matching entry is appended") {
  Journal journal;
  journal.Append(EntryFor("order-1"));
  JournalFilter filter;
  filter.order_id = "order-1";
  filter.after_id = 1;
  std::optional<JournalEntry> found;
  std::thread waiter([&] { found = journal.WaitFor(filter, kPatience); });
  journal.Append(EntryFor("order-2"));
  journal.Append(EntryFor("order-1"));
  waiter.join();
  REQUIRE(found);
  CHECK(found->id == 3);
}

TEST_CASE("WaitFor times out without a match and returns on Shutdown") {
  Journal journal;
  journal.Append(EntryFor("order-2"));
  JournalFilter filter;
  filter.order_id = "order-1";
  CHECK_FALSE(journal.WaitFor(filter, 20ms));

  std::optional<JournalEntry> found = EntryFor("sentinel");
  auto started = std::chrono::steady_clock::now();
  std::thread waiter([&] { found = journal.WaitFor(filter, 60s); });
  journal.Shutdown();
  waiter.join();
  CHECK_FALSE(found);
  CHECK(std::chrono::steady_clock::now() - started < kPatience);
}
