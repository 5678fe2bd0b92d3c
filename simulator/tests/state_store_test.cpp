// Unit tests of the state store (--state): every part of an order and a
// subscription comes back from the file as it was written, and files that are
// not ours, or newer than us, are refused with one line.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "csrsim/error.hpp"
#include "csrsim/state_store.hpp"
#include "engine_parts.hpp"

using namespace csrsim;
using namespace std::chrono_literals;

namespace {

constexpr const char* kScenarios = R"(
scenarios:
  - name: explicit
    match: { tn: "9198675309" }
    steps:
      - after: 1s
        status: PROCESSING
        callback_fault: { delay: 2s, duplicate: true }
      - on_update: { requires: [EndUserPIN] }
        status: ACTION_REQUIRED
        message: PIN please
      - after: 2s
        status: COMPLETE
        csr:
          CustomerName: House of Mouse
          ServiceAddress: { UnparsedAddress: 1234 Main ST, City: Durham }
          WorkingTelephoneNumbersOnAccount: ["9198675309", "9198675310"]
  - name: failing
    match: { tn_suffix: "0000" }
    steps:
      - after: 2s
        status: FAILED
        errors: [{ code: 26500, description: CSR is not available for this TN }]
)";

std::string TempFile() {
  char dir[] = "/tmp/csrsim-state-XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  return std::string(dir) + "/state.db";
}

// A whole engine on a manual clock, on a state file.
struct Harness : testing::EngineParts {
  explicit Harness(const std::string& file) : EngineParts(kScenarios, 7), state(file) {
    state.Restore(engine, store, clock, ids);
    engine.SetStateSink(&state);
  }
  Order Create(const std::string& tn) {
    CsrFields fields;
    fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, tn);
    fields.Set(CsrField::kCustomerOrderId, "MyId5");
    return engine.CreateOrder("9900000", "username", fields);
  }
  void Advance(Duration by) {
    scheduler.Advance(by);
    state.SaveClock(clock.Now());
  }

  StateStore state;
};

void CheckSameOrder(const Order& a, const Order& b) {
  CHECK(a.id == b.id);
  CHECK(a.account_id == b.account_id);
  CHECK(a.last_modified_by == b.last_modified_by);
  CHECK(a.created == b.created);
  CHECK(a.last_modified == b.last_modified);
  CHECK(a.status == b.status);
  CHECK(a.message == b.message.str());
  CHECK(a.fields == b.fields);
  REQUIRE(bool(a.csr_data) == bool(b.csr_data));
  if (a.csr_data) CHECK(*a.csr_data == *b.csr_data);
  CHECK(a.errors == b.errors);
  REQUIRE(a.notes.size() == b.notes.size());
  for (std::size_t i = 0; i < a.notes.size(); ++i) {
    CHECK(a.notes[i].id == b.notes[i].id);
    CHECK(a.notes[i].user_id == b.notes[i].user_id);
    CHECK(a.notes[i].description == b.notes[i].description);
    CHECK(a.notes[i].last_modified == b.notes[i].last_modified);
  }
  CHECK(a.scenario_name == b.scenario_name.str());
  REQUIRE(a.history.size() == b.history.size());
  for (std::size_t i = 0; i < a.history.size(); ++i) {
    CHECK(a.history[i].status == b.history[i].status);
    CHECK(a.history[i].at == b.history[i].at);
    CHECK(a.history[i].message == b.history[i].message.str());
    CHECK(a.history[i].cause == b.history[i].cause.str());
  }
}

void ExecSql(const std::string& file, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

std::string OpenError(const std::string& file) {
  try {
    StateStore store(file);
  } catch (const StateFileError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("every part of orders and subscriptions round-trips through the state file") {
  const std::string file = TempFile();
  std::vector<Order> before;
  std::vector<Subscription> subscriptions_before;
  {
    Harness first(file);
    Order guide = first.Create("9198675309");
    Order failing = first.Create("9195550000");
    Order forced = first.Create("9195551111");
    first.Advance(2s);  // guide waits for its PIN, failing FAILED
    first.engine.AddNote("9900000", guide.id, "me", "first");
    first.engine.UpdateNote("9900000", guide.id, 11299, std::nullopt, "edited");
    first.engine.ForceTransition(forced.id, OrderStatus::kComplete, "done by hand", {});
    SubscriptionSpec email;
    email.order_type = "csrs";
    email.email = EmailSubscription{"ops@example.com", "DAILY"};
    first.engine.CreateSubscription("9900000", email);
    SubscriptionSpec callback;
    callback.order_type = "csrs";
    callback.callback = CallbackSubscription{"http://127.0.0.1:9/cb", 3600, BasicCredentials{"u", "p"}, "AAAA"};
    first.engine.CreateSubscription("9900000", callback);
    for (const auto& id : {guide.id, failing.id, forced.id}) before.push_back(first.engine.GetOrder("9900000", id));
    subscriptions_before = first.engine.ListSubscriptions("9900000", std::nullopt, std::nullopt);
  }
  Harness second(file);
  CHECK(second.clock.Now() == ManualClock::DefaultStart() + 2s);
  for (const auto& order : before) CheckSameOrder(order, second.engine.GetOrder("9900000", order.id));
  auto subscriptions = second.engine.ListSubscriptions("9900000", std::nullopt, std::nullopt);
  REQUIRE(subscriptions.size() == subscriptions_before.size());
  for (std::size_t i = 0; i < subscriptions.size(); ++i) {
    CHECK(subscriptions[i].id == subscriptions_before[i].id);
    CHECK(subscriptions[i].spec == subscriptions_before[i].spec);
    CHECK(subscriptions[i].expires_at == subscriptions_before[i].expires_at);
  }

  // The PIN resumes the restored order with its stored steps, explicit data included.
  wire::CsrRequest pin;
  pin.fields.Set(CsrField::kEndUserPIN, "1234");
  second.engine.UpdateOrder("9900000", "username", before[0].id, pin);
  CHECK(second.engine.GetOrder("9900000", before[0].id).status == OrderStatus::kActionRequired);
  second.Advance(2s);
  const Order done = second.engine.GetOrder("9900000", before[0].id);
  CHECK(done.status == OrderStatus::kComplete);
  REQUIRE(done.csr_data);
  CHECK(done.csr_data->customer_name == "House of Mouse");
  CHECK(done.csr_data->working_telephone_numbers_on_account.size() == 2);
  // Note ids continue after the restored ones.
  CHECK(second.engine.AddNote("9900000", before[0].id, "me", "second").id == 11300);
}

TEST_CASE("a state file with a newer schema is refused, naming both versions") {
  const std::string file = TempFile();
  { StateStore created(file); }
  ExecSql(file, "UPDATE schema_version SET version = 2");
  CHECK(OpenError(file) == "--state: '" + file +
                               "' has schema version 2, newer than this csr-simulator's 1 (use a newer csr-simulator)");
}

TEST_CASE("an SQLite database that is not a state file is refused") {
  const std::string file = TempFile();
  ExecSql(file, "CREATE TABLE invoices(id INTEGER)");
  CHECK(OpenError(file) == "--state: '" + file + "' is a SQLite database but not a csr-simulator state file");
}

TEST_CASE("a second StateStore on the same file is refused while the first holds it") {
  const std::string file = TempFile();
  StateStore first(file);
  CHECK(OpenError(file) == "--state: '" + file + "' is in use by another csr-simulator (the file is locked)");
}

namespace {

// A sink whose writes fail, as on a full disk.
struct FailingSink : StateSink {
  void SaveOrder(const Order&, const ScenarioProgress&) override { throw StateFileError("disk full"); }
  void SaveSubscriptions(const std::string&, const std::vector<Subscription>&) override {
    throw StateFileError("disk full");
  }
  void SaveClock(SimTime) override { throw StateFileError("disk full"); }
  void Reset(const std::optional<std::string>&) override {}
};

}  // namespace

TEST_CASE("a failing state write fails the request that made it but not a scheduled step") {
  testing::EngineParts parts(kScenarios, 7);
  CsrFields fields;
  fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, "9198675309");
  const Order order = parts.engine.CreateOrder("9900000", "username", fields);
  FailingSink sink;
  parts.engine.SetStateSink(&sink);
  CHECK_THROWS_AS(parts.engine.AddNote("9900000", order.id, "me", "lost"), StateFileError);
  SubscriptionSpec email;
  email.order_type = "csrs";
  email.email = EmailSubscription{"ops@example.com", "NONE"};
  CHECK_THROWS_AS(parts.engine.CreateSubscription("9900000", email), StateFileError);
  // The scheduler's step has no caller to fail: it runs, and the order moves on in memory.
  CHECK(parts.scheduler.Advance(1s));
  CHECK(parts.engine.GetOrder("9900000", order.id).status == OrderStatus::kProcessing);
}
