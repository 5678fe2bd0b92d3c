// Unit tests of the engine: scenario-driven order state machine on the manual
// clock, updates, cancel, notes, subscriptions, determinism, concurrency.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "csrsim/engine.hpp"
#include "csrsim/error.hpp"
#include "engine_parts.hpp"

using namespace csrsim;
using namespace std::chrono_literals;

namespace {

constexpr const char* kScenarios = R"(
scenarios:
  - name: house-of-mouse
    match: { tn: "9198675309" }
    steps:
      - after: 1s
        status: PROCESSING
      - after: 2s
        status: COMPLETE
        csr:
          CustomerName: House of Mouse
  - name: not-available
    match: { tn_suffix: "0000" }
    steps:
      - after: 2s
        status: FAILED
  - name: pin-required
    match: { tn_suffix: "0001" }
    steps:
      - after: 2s
        status: ACTION_REQUIRED
        message: End user PIN is required
      - on_update: { requires: [EndUserPIN] }
        status: PROCESSING
      - after: 2s
        status: COMPLETE
        csr: generated
  - name: bandwidth-down
    match: { tn_suffix: "0503" }
    reject_create: 503
  - name: forever
    match: { tn_suffix: "0002" }
    steps:
      - after: 1s
        status: PROCESSING
)";

// A whole engine on a manual clock; no subscriptions unless a test adds them.
struct Harness : testing::EngineParts {
  explicit Harness(std::optional<std::uint64_t> seed = 7) : EngineParts(kScenarios, seed) {}

  Order Create(const std::string& tn, const std::string& account = "9900000") {
    CsrFields fields;
    fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, tn);
    return engine.CreateOrder(account, "username", fields);
  }
  OrderStatus StatusOf(const Order& order) { return engine.GetOrder(order.account_id, order.id).status; }
  Order Put(const Order& order, CsrField field, const std::string& value) {
    wire::CsrRequest request;
    request.fields.Set(field, value);
    return engine.UpdateOrder(order.account_id, "username", order.id, request);
  }
  Order Cancel(const Order& order) {
    wire::CsrRequest request;
    request.requested_cancel = true;
    request.status = "REQUESTED_CANCEL";
    return engine.UpdateOrder(order.account_id, "username", order.id, request);
  }
};

template <typename F>
ErrorKind KindOfError(F&& f) {
  try {
    f();
  } catch (const Error& error) {
    return error.kind();
  }
  FAIL("no csrsim::Error thrown");
  return ErrorKind::kInjected;
}

}  // namespace

TEST_CASE("a new order is RECEIVED and follows its scenario as the clock moves") {
  Harness h;
  const SimTime t0 = h.clock.Now();
  Order order = h.Create("9198675309");
  CHECK(order.status == OrderStatus::kReceived);
  CHECK(order.scenario_name == "house-of-mouse");
  CHECK(order.last_modified_by == "username");

  h.scheduler.Advance(999ms);
  CHECK(h.StatusOf(order) == OrderStatus::kReceived);
  h.scheduler.Advance(1ms);
  CHECK(h.StatusOf(order) == OrderStatus::kProcessing);
  h.scheduler.Advance(5s);
  Order done = h.engine.GetOrder("9900000", order.id);
  CHECK(done.status == OrderStatus::kComplete);
  CHECK(done.message == "The CSR request is complete.");
  REQUIRE(done.csr_data);
  CHECK(done.csr_data->customer_name == "House of Mouse");
  // WorkingTelephoneNumber defaults to the order's TN.
  CHECK(wire::EncodeCsrResponse(done).find("<WorkingTelephoneNumber>9198675309</WorkingTelephoneNumber>") !=
        std::string::npos);

  // Each transition is stamped with the time its step was due, not when the clock stopped.
  REQUIRE(done.history.size() == 3);
  CHECK(done.history[0].at == t0);
  CHECK(done.history[1].at == t0 + 1s);
  CHECK(done.history[1].cause == "step 1");
  CHECK(done.history[2].at == t0 + 3s);
  CHECK(done.last_modified == t0 + 3s);
}

TEST_CASE("a FAILED step without errors carries 26500 and CsrData with only the TN") {
  Harness h;
  Order order = h.Create("9195550000");
  h.scheduler.Advance(2s);
  Order failed = h.engine.GetOrder("9900000", order.id);
  CHECK(failed.status == OrderStatus::kFailed);
  REQUIRE(failed.errors.size() == 1);
  CHECK(failed.errors[0].code == 26500);
  CHECK(failed.errors[0].description == "CSR is not available for this TN");
  CHECK(failed.message == "26500: CSR is not available for this TN");
  REQUIRE(failed.csr_data);
  CHECK(*failed.csr_data == CsrData{});
  CHECK(wire::EncodeCsrResponse(failed).find(
            "<CsrData><WorkingTelephoneNumber>9195550000</WorkingTelephoneNumber></CsrData>") != std::string::npos);
}

TEST_CASE("ACTION_REQUIRED waits for a PUT carrying EndUserPIN, then completes 2 s later") {
  Harness h;
  Order order = h.Create("9195550001");
  h.scheduler.Advance(2s);
  CHECK(h.StatusOf(order) == OrderStatus::kActionRequired);

  h.scheduler.Advance(1h);  // nothing happens without the PUT
  CHECK(h.StatusOf(order) == OrderStatus::kActionRequired);

  Order after_city = h.Put(order, CsrField::kCity, "Durham");  // not the required field
  CHECK(after_city.status == OrderStatus::kActionRequired);
  CHECK(*after_city.fields.Get(CsrField::kCity) == "Durham");

  Order resumed = h.Put(order, CsrField::kEndUserPIN, "1234");
  CHECK(resumed.status == OrderStatus::kProcessing);  // the PUT's answer already shows it
  h.scheduler.Advance(2s);
  Order done = h.engine.GetOrder("9900000", order.id);
  CHECK(done.status == OrderStatus::kComplete);
  CHECK(done.csr_data);
  CHECK(done.history.back().cause == "step 3");
}

TEST_CASE("REQUESTED_CANCEL ends the order CANCELLED and its pending steps never run") {
  Harness h;
  Order order = h.Create("9198675309");
  h.scheduler.Advance(1s);
  Order cancelled = h.Cancel(order);
  CHECK(cancelled.status == OrderStatus::kCancelled);
  h.scheduler.Advance(10s);
  Order later = h.engine.GetOrder("9900000", order.id);
  CHECK(later.status == OrderStatus::kCancelled);
  CHECK(later.history.back().cause == "cancel");
  CHECK_FALSE(later.csr_data);
}

TEST_CASE("a PUT on a finished order is refused and changes nothing") {
  Harness h;
  Order order = h.Create("9198675309");
  h.scheduler.Advance(3s);
  Order before = h.engine.GetOrder("9900000", order.id);
  try {
    h.Put(order, CsrField::kCity, "Durham");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::kInvalid);
    CHECK(error.details().at(0).code == 12165);
    CHECK(error.details().at(0).description.find("COMPLETE") != std::string::npos);
  }
  Order after = h.engine.GetOrder("9900000", order.id);
  CHECK_FALSE(after.fields.Has(CsrField::kCity));
  CHECK(after.last_modified == before.last_modified);
}

TEST_CASE("a status other than REQUESTED_CANCEL in a PUT is refused") {
  Harness h;
  Order order = h.Create("9195550002");
  wire::CsrRequest request;
  request.status = "COMPLETE";
  CHECK(KindOfError([&] { h.engine.UpdateOrder("9900000", "username", order.id, request); }) == ErrorKind::kInvalid);
  CHECK(h.StatusOf(order) == OrderStatus::kReceived);
}

TEST_CASE("orders are invisible to other accounts and unknown ids are not found") {
  Harness h;
  Order order = h.Create("9198675309", "1111");
  CHECK(KindOfError([&] { h.engine.GetOrder("2222", order.id); }) == ErrorKind::kNotFound);
  CHECK(KindOfError([&] { h.engine.GetOrder("1111", "not-an-id"); }) == ErrorKind::kNotFound);
  CHECK(KindOfError([&] { h.engine.GetNotes("2222", order.id); }) == ErrorKind::kNotFound);
  CHECK(h.engine.ListOrders("2222", {}).total_count == 0);
  CHECK(h.engine.ListOrders("1111", {}).total_count == 1);
}

TEST_CASE("a forced transition applies at once and stops the scenario") {
  Harness h;
  Order order = h.Create("9198675309");
  Order forced = h.engine.ForceTransition(order.id, OrderStatus::kFailed, "carrier down",
                                          {{26500, "CSR is not available for this TN"}});
  CHECK(forced.status == OrderStatus::kFailed);
  CHECK(forced.message == "carrier down");
  h.scheduler.Advance(10s);
  CHECK(h.StatusOf(order) == OrderStatus::kFailed);
  CHECK(h.engine.GetOrder("9900000", order.id).history.back().cause == "forced");
}

TEST_CASE("the messages of forced transitions leave memory with the orders that held them") {
  Harness h;
  const std::size_t before = SharedText::InternedCount();
  std::vector<Order> orders;
  for (int i = 0; i < 50; ++i) orders.push_back(h.Create("91955501" + std::to_string(10 + i)));
  for (int i = 0; i < 50; ++i) {
    h.engine.ForceTransition(orders[static_cast<std::size_t>(i)].id, OrderStatus::kFailed,
                             "a message a client chose, number " + std::to_string(i), {});
  }
  const std::size_t with_messages = SharedText::InternedCount();
  CHECK(with_messages >= before + 50);
  orders.clear();  // the copies the test kept hold their messages too
  h.store.Reset(std::nullopt);
  CHECK(SharedText::InternedCount() <= with_messages - 50);
}

TEST_CASE("forcing COMPLETE after FAILED drops the errors and brings CSR data") {
  Harness h;
  Order order = h.Create("9195550100");
  h.engine.ForceTransition(order.id, OrderStatus::kFailed, std::nullopt, {});
  Order complete = h.engine.ForceTransition(order.id, OrderStatus::kComplete, std::nullopt, {});
  CHECK(complete.errors.empty());
  REQUIRE(complete.csr_data);
  CHECK(complete.csr_data->customer_name);
  Order failed_again = h.engine.ForceTransition(order.id, OrderStatus::kFailed, std::nullopt, {});
  CHECK(failed_again.errors.at(0).code == 26500);
  CHECK(*failed_again.csr_data == CsrData{});  // only the TN, which reads from the order
}

TEST_CASE("a reject_create scenario answers the create with its status and stores nothing") {
  Harness h;
  try {
    h.Create("9195550503");
    FAIL("no error");
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::kInjected);
    CHECK(error.http_status() == 503);
  }
  CHECK(h.engine.ListOrders("9900000", {}).total_count == 0);
}

TEST_CASE("listing pages through orders in creation order and filters by status") {
  Harness h;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(h.Create(i % 2 ? "9195550000" : "9198675309").id);
  h.scheduler.Advance(5s);

  OrderQuery query;
  query.size = 2;
  query.page = 2;
  OrderPage page = h.engine.ListOrders("9900000", query);
  CHECK(page.total_count == 5);
  REQUIRE(page.orders.size() == 2);
  CHECK(page.orders[0].id == ids[2]);
  CHECK(page.has_next);
  query.page = 3;
  CHECK_FALSE(h.engine.ListOrders("9900000", query).has_next);

  OrderQuery failed;
  failed.status = OrderStatus::kFailed;
  CHECK(h.engine.ListOrders("9900000", failed).total_count == 2);
}

TEST_CASE("notes get increasing numeric ids and unknown notes are not found") {
  Harness h;
  Order order = h.Create("9198675309");
  Note first = h.engine.AddNote("9900000", order.id, "customer", "Test");
  Note second = h.engine.AddNote("9900000", order.id, "customer", "Again");
  CHECK(second.id == first.id + 1);
  h.engine.UpdateNote("9900000", order.id, first.id, std::nullopt, std::string("Edited"));
  auto notes = h.engine.GetNotes("9900000", order.id);
  REQUIRE(notes.size() == 2);
  CHECK(notes[0].description == "Edited");
  CHECK(notes[0].user_id == "customer");
  CHECK(KindOfError([&] { h.engine.UpdateNote("9900000", order.id, 1, std::nullopt, std::nullopt); }) ==
        ErrorKind::kNotFound);
}

TEST_CASE("subscriptions: a duplicate target conflicts, replace resets, delete forgets") {
  Harness h;
  SubscriptionSpec spec;
  spec.order_type = "csrs";
  spec.callback = CallbackSubscription{"http://127.0.0.1:1/cb", 60, BasicCredentials{"u", "p"}, std::nullopt};
  Subscription created = h.engine.CreateSubscription("9900000", spec);
  CHECK(created.expires_at == h.clock.Now() + 60s);
  CHECK(KindOfError([&] { h.engine.CreateSubscription("9900000", spec); }) == ErrorKind::kConflict);
  CHECK_NOTHROW(h.engine.CreateSubscription("other", spec));  // another account may

  SubscriptionSpec replacement;
  replacement.order_type = "csrs";
  replacement.callback = CallbackSubscription{"http://127.0.0.1:2/cb", 86400, std::nullopt, std::nullopt};
  h.engine.ReplaceSubscription("9900000", created.id, replacement);
  Subscription replaced = h.engine.GetSubscription("9900000", created.id);
  CHECK_FALSE(replaced.spec.callback->basic);  // omitted fields reset
  CHECK(replaced.spec.callback->url == "http://127.0.0.1:2/cb");

  CHECK(h.engine.ListSubscriptions("9900000", std::string("portins"), std::nullopt).empty());
  CHECK(h.engine.ListSubscriptions("9900000", std::string("csrs"), std::nullopt).size() == 1);
  h.engine.DeleteSubscription("9900000", created.id);
  CHECK(KindOfError([&] { h.engine.GetSubscription("9900000", created.id); }) == ErrorKind::kNotFound);
  CHECK(KindOfError([&] { h.engine.DeleteSubscription("9900000", created.id); }) == ErrorKind::kNotFound);
}

TEST_CASE("the same seed gives the same ids; ids are lower-case v4 UUIDs") {
  Harness a(42);
  Harness b(42);
  Harness c(43);
  std::string first = a.Create("9198675309").id;
  CHECK(first == b.Create("9198675309").id);
  CHECK(first != c.Create("9198675309").id);
  REQUIRE(first.size() == 36);
  CHECK(first[14] == '4');
  CHECK(first.find_first_of("ABCDEF") == std::string::npos);
}

TEST_CASE("many threads updating one waiting order resume it exactly once") {
  Harness h;
  Order order = h.Create("9195550001");
  h.scheduler.Advance(2s);
  REQUIRE(h.StatusOf(order) == OrderStatus::kActionRequired);

  constexpr int kThreads = 16;
  std::atomic<int> refused{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      try {
        if (i % 4 == 0) {
          h.Cancel(order);
        } else {
          h.Put(order, CsrField::kEndUserPIN, std::to_string(i));
        }
      } catch (const Error&) {
        ++refused;  // the order was already cancelled
      }
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  h.scheduler.Advance(5s);

  Order final_order = h.engine.GetOrder("9900000", order.id);
  int processing = 0;
  int cancelled = 0;
  int complete = 0;
  for (const auto& transition : final_order.history) {
    processing += transition.status == OrderStatus::kProcessing;
    cancelled += transition.status == OrderStatus::kCancelled;
    complete += transition.status == OrderStatus::kComplete;
  }
  // Exactly one cancel wins; the on_update step fired at most once, and only before it.
  CHECK(cancelled == 1);
  CHECK(processing <= 1);
  CHECK(complete == 0);
  CHECK(final_order.status == OrderStatus::kCancelled);
  CHECK(refused > 0);
  CHECK(refused < kThreads);
}

TEST_CASE("many threads creating orders all progress exactly once each") {
  Harness h;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) h.Create("9198675309");
    });
  }
  for (auto& thread : threads) thread.join();
  h.scheduler.Advance(3s);
  OrderQuery all;
  all.size = 10'000;
  auto page = h.engine.ListOrders("9900000", all);
  REQUIRE(page.total_count == kThreads * kPerThread);
  for (const auto& order : page.orders) {
    CHECK(order.status == OrderStatus::kComplete);
    CHECK(order.history.size() == 3);
  }
}

TEST_CASE("threads racing past --max-orders create exactly the cap, and each refusal is LimitReached") {
  Harness h;
  EngineLimits limits;
  limits.max_orders = 100;
  h.engine.SetLimits(limits);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        try {
          h.Create("9198675309");
          ++created;
        } catch (const Error& error) {
          if (error.kind() == ErrorKind::kConflict && error.details().at(0).code == 1017) ++refused;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(created == 100);
  CHECK(refused == kThreads * kPerThread - 100);
  CHECK(h.store.OrderCount() == 100);
  h.scheduler.Advance(3s);  // only the created orders had steps scheduled
  OrderQuery complete;
  complete.status = OrderStatus::kComplete;
  complete.size = 1000;
  CHECK(h.engine.ListOrders("9900000", complete).total_count == 100);
}

TEST_CASE("a note past the per-order cap and a subscription past the per-account cap are refused, nothing added") {
  Harness h;
  EngineLimits limits;
  limits.max_notes_per_order = 1;
  limits.max_subscriptions_per_account = 1;
  h.engine.SetLimits(limits);
  const Order order = h.Create("9198675309");
  h.engine.AddNote(order.account_id, order.id, "u", "first");
  CHECK(KindOfError([&] { h.engine.AddNote(order.account_id, order.id, "u", "second"); }) == ErrorKind::kConflict);
  CHECK(h.engine.GetNotes(order.account_id, order.id).size() == 1);
  auto spec = [](const std::string& url) {
    SubscriptionSpec s;
    s.order_type = "csrs";
    s.callback = CallbackSubscription{};
    s.callback->url = url;
    s.callback->expiry_seconds = 3600;
    return s;
  };
  h.engine.CreateSubscription("9900000", spec("http://127.0.0.1:9/a"));
  CHECK(KindOfError([&] { h.engine.CreateSubscription("9900000", spec("http://127.0.0.1:9/b")); }) ==
        ErrorKind::kConflict);
  CHECK(h.engine.ListSubscriptions("9900000", std::nullopt, std::nullopt).size() == 1);
}
