// Unit tests of the state store (--state): every part of an order and a
// subscription comes back from the file as it was written, and files that are
// not ours, or newer than us, are refused with one line.
#include <sqlite3.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "csrsim/error.hpp"
#include "csrsim/state_store.hpp"
#include "engine_parts.hpp"
#include "receiver.hpp"
#include "state_v1_fixture.hpp"
#include "store.hpp"

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

// The order with its notes (GetOrder leaves them out).
Order OrderWithNotes(const Engine& engine, const std::string& id) {
  Order order = engine.GetOrder("9900000", id);
  order.notes = engine.GetNotes("9900000", id);
  return order;
}

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
    for (const auto& id : {guide.id, failing.id, forced.id}) before.push_back(OrderWithNotes(first.engine, id));
    REQUIRE(before[0].notes.size() == 1);
    subscriptions_before = first.engine.ListSubscriptions("9900000", std::nullopt, std::nullopt);
  }
  Harness second(file);
  CHECK(second.clock.Now() == ManualClock::DefaultStart() + 2s);
  for (const auto& order : before) CheckSameOrder(order, OrderWithNotes(second.engine, order.id));
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
  const std::string newer = std::to_string(kStateSchemaVersion + 1);
  ExecSql(file, ("UPDATE schema_version SET version = " + newer).c_str());
  CHECK(OpenError(file) == "--state: '" + file + "' has schema version " + newer +
                               ", newer than this csr-simulator's " + std::to_string(kStateSchemaVersion) +
                               " (use a newer csr-simulator)");
}

namespace {

std::int64_t QueryInt(const std::string& file, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::int64_t value = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

int SchemaVersion(const std::string& file) {
  return static_cast<int>(QueryInt(file, "SELECT version FROM schema_version"));
}

}  // namespace

TEST_CASE("a schema 1 file is migrated when opened, and its orders carry on") {
  const std::string file = TempFile();
  ExecSql(file, testing::kStateV1Sql);
  REQUIRE(SchemaVersion(file) == 1);
  const std::string account = "9900000";
  {
    Harness migrated(file);
    const Order complete = migrated.engine.GetOrder(account, "c11f6531-eb66-49a7-b305-67547a34c162");
    CHECK(complete.status == OrderStatus::kComplete);
    REQUIRE(complete.csr_data);
    CHECK(complete.csr_data->customer_name == "House of Mouse");
    CHECK(complete.history.size() == 3);
    CHECK(complete.fields.Get(CsrField::kCustomerOrderId) != nullptr);
    const Order pin = migrated.engine.GetOrder(account, "e4546c04-d9ff-4cf6-a42a-5f87d0a7dedd");
    CHECK(pin.status == OrderStatus::kProcessing);
    REQUIRE(pin.fields.Get(CsrField::kEndUserPIN));
    CHECK(*pin.fields.Get(CsrField::kEndUserPIN) == "1234");
    const NoteList notes = migrated.engine.GetNotes(account, "d52039de-8d0e-4181-a694-f6378f1c4446");
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].id == 11299);
    CHECK(notes[0].description == "still waiting");
    CHECK(migrated.engine.GetOrder(account, "b7c8aabd-2e11-4ae4-8178-81b052b6a73e").status == OrderStatus::kCancelled);
    const Order failed = migrated.engine.GetOrder(account, "65befc3c-a8d0-4b6f-8efb-bcebcab6d1fe");
    CHECK(failed.status == OrderStatus::kFailed);
    REQUIRE(failed.errors.size() == 1);
    CHECK(failed.errors[0].code == 26500);
    auto subscriptions = migrated.engine.ListSubscriptions(account, std::nullopt, std::nullopt);
    REQUIRE(subscriptions.size() == 1);
    REQUIRE(subscriptions[0].spec.callback);
    CHECK(subscriptions[0].spec.callback->url == "http://127.0.0.1:9/cb");
    CHECK(migrated.clock.Now() == ManualClock::DefaultStart() + 3s);

    // The PIN order's stored step (generated CSR data, due at 4 s) runs on the migrated file,
    // and the change is written in the new form.
    migrated.Advance(1s);
    CHECK(migrated.engine.GetOrder(account, pin.id).status == OrderStatus::kComplete);
    CHECK(migrated.engine.AddNote(account, "d52039de-8d0e-4181-a694-f6378f1c4446", "me", "again").id == 11300);
    // The file was written under the same seed (7) but does not say how far its stream
    // went: a create that draws an id already in the file draws again.
    const Order fresh = migrated.Create("9195550003");
    CHECK(fresh.id != "c11f6531-eb66-49a7-b305-67547a34c162");
    CHECK(migrated.engine.ListOrders(account, {}).total_count == 6);
  }
  CHECK(SchemaVersion(file) == kStateSchemaVersion);
  Harness reopened(file);
  const Order pin = reopened.engine.GetOrder(account, "e4546c04-d9ff-4cf6-a42a-5f87d0a7dedd");
  CHECK(pin.status == OrderStatus::kComplete);
  REQUIRE(pin.csr_data);
  CHECK(reopened.engine.GetNotes(account, "d52039de-8d0e-4181-a694-f6378f1c4446").size() == 2);
}

TEST_CASE("a damaged order record is refused with one line, not a crash") {
  const std::string file = TempFile();
  {
    Harness first(file);
    first.Create("9198675309");
  }
  ExecSql(file, "UPDATE orders SET record = substr(record, 1, 20)");
  testing::EngineParts parts(kScenarios, 7);
  StateStore store(file);
  CHECK_THROWS_WITH(store.Restore(parts.engine, parts.store, parts.clock, parts.ids), Catch::Contains("damaged"));
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
  std::vector<std::int64_t> SaveOrder(const Order&, const ScenarioProgress&, std::optional<std::size_t>,
                                      const std::vector<Delivery>&) override {
    throw StateFileError("disk full");
  }
  void SaveSubscriptions(const std::string&, const std::vector<Subscription>&) override {
    throw StateFileError("disk full");
  }
  void SaveClock(SimTime) override { throw StateFileError("disk full"); }
  void Reset(const std::optional<std::string>&) override {}
  void SaveFaults(const FaultInjector&) override { throw StateFileError("disk full"); }
  void SaveCallbackSettings(std::optional<CallbackAuthMode>, std::optional<RetryPolicy>) override {
    throw StateFileError("disk full");
  }
  void SaveAccountScenarios(const std::string&, const std::optional<std::string>&) override {
    throw StateFileError("disk full");
  }
  void SaveOffset(const std::string&, Duration) override { throw StateFileError("disk full"); }
};

}  // namespace

TEST_CASE("a failing state write fails the request that made it but not a scheduled step") {
  testing::EngineParts parts(kScenarios, 7);
  CsrFields fields;
  fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, "9198675309");
  const Order order = parts.engine.CreateOrder("9900000", "username", fields);
  const Note first = parts.engine.AddNote("9900000", order.id, "me", "first");
  const Note second = parts.engine.AddNote("9900000", order.id, "me", "second");
  FailingSink sink;
  parts.engine.SetStateSink(&sink);
  CHECK_THROWS_AS(parts.engine.AddNote("9900000", order.id, "me", "lost"), StateFileError);
  CHECK_THROWS_AS(parts.engine.UpdateNote("9900000", order.id, first.id, std::string("you"), std::string("edited")),
                  StateFileError);
  SubscriptionSpec email;
  email.order_type = "csrs";
  email.email = EmailSubscription{"ops@example.com", "NONE"};
  CHECK_THROWS_AS(parts.engine.CreateSubscription("9900000", email), StateFileError);
  wire::CsrRequest cancel;
  cancel.requested_cancel = true;
  CHECK_THROWS_AS(parts.engine.UpdateOrder("9900000", "username", order.id, cancel), StateFileError);
  // All or nothing: none of the refused calls changed the engine's state.
  const NoteList notes = parts.engine.GetNotes("9900000", order.id);
  REQUIRE(notes.size() == 2);  // the add undone, the edit put back
  CHECK(notes[0].user_id == "me");
  CHECK(notes[0].description == "first");
  CHECK(notes[0].last_modified == first.last_modified);
  CHECK(notes[1].description == "second");
  CHECK(notes[1].id == second.id);
  CHECK(parts.engine.ListSubscriptions("9900000", std::nullopt, std::nullopt).empty());
  CHECK(parts.engine.GetOrder("9900000", order.id).status == OrderStatus::kReceived);
  // The scheduler's step (kept by the refused cancel) has no caller to fail: it
  // runs, and the order moves on in memory.
  CHECK(parts.scheduler.Advance(1s));
  CHECK(parts.engine.GetOrder("9900000", order.id).status == OrderStatus::kProcessing);
}

TEST_CASE("notes are rows of their own: an add writes its note, an edit the edited one, a refused add is not kept") {
  const std::string file = TempFile();
  const std::string trigger = file + ".full";
  const std::string account = "9900000";
  const std::string text(1000, 'd');
  std::string id;
  std::vector<std::int64_t> kept;
  {
    ::setenv("CSRSIM_TEST_STATE_FAIL_WHILE", trigger.c_str(), 1);
    Harness harness(file);
    ::unsetenv("CSRSIM_TEST_STATE_FAIL_WHILE");
    id = harness.Create("9198675309").id;
    for (int i = 0; i < 3; ++i) kept.push_back(harness.engine.AddNote(account, id, "me", text + std::to_string(i)).id);
    {
      std::ofstream(trigger).put('x');
      CHECK_THROWS_AS(harness.engine.AddNote(account, id, "me", "refused"), Error);
      std::filesystem::remove(trigger);
    }
    CHECK(harness.engine.GetNotes(account, id).size() == 3);
    kept.push_back(harness.engine.AddNote(account, id, "me", "after").id);
    harness.engine.UpdateNote(account, id, kept[1], std::nullopt, std::string("edited"));
  }
  CHECK(QueryInt(file.c_str(), "SELECT count(*) FROM notes") == 4);
  CHECK(QueryInt(file.c_str(), "SELECT max(position) FROM notes") == 3);
  CHECK(QueryInt(file.c_str(), "SELECT max(length(record)) FROM orders") < 1000);  // the order's row holds no notes
  {
    Harness reopened(file);
    const NoteList notes = reopened.engine.GetNotes(account, id);
    REQUIRE(notes.size() == 4);
    for (std::size_t i = 0; i < notes.size(); ++i) CHECK(notes[i].id == kept[i]);
    CHECK(notes[0].description == text + "0");
    CHECK(notes[1].description == "edited");
    CHECK(notes[3].description == "after");
    reopened.engine.AddNote(account, id, "me", "fifth");  // goes on after the restored notes
  }
  CHECK(QueryInt(file.c_str(), "SELECT max(position) FROM notes") == 4);
}

TEST_CASE("a change and the callbacks it queues are written in one transaction: both are kept, or neither") {
  const std::string file = TempFile();
  const std::string trigger = file + ".full";
  const std::string account = "9900000";
  testing::CallbackReceiver receiver;
  std::string id;
  {
    ::setenv("CSRSIM_TEST_STATE_FAIL_WHILE", trigger.c_str(), 1);
    Harness harness(file);  // the dispatcher has no DeliveryLog here: a delivery's row stays once written
    ::unsetenv("CSRSIM_TEST_STATE_FAIL_WHILE");
    SubscriptionSpec spec;
    spec.order_type = "csrs";
    spec.callback = CallbackSubscription{receiver.Url(), 86400, std::nullopt, std::nullopt};
    harness.engine.CreateSubscription(account, spec);
    id = harness.Create("9198675309").id;  // RECEIVED: no callback
    std::ofstream(trigger).put('x');
    CHECK_THROWS_AS(harness.engine.AddNote(account, id, "me", "refused"), Error);
    std::filesystem::remove(trigger);
    harness.engine.AddNote(account, id, "me", "kept");
    REQUIRE(receiver.WaitForCount(1));  // one callback: the refused add queued none
  }
  CHECK(QueryInt(file, "SELECT count(*) FROM notes") == 1);
  CHECK(QueryInt(file, "SELECT count(*) FROM deliveries") == 1);  // written with its note
  CHECK(QueryInt(file, "SELECT count(*) FROM deliveries WHERE doc LIKE '%kept%'") == 1);
}
