// Durable state (--state FILE, README.md "Durable state"): a write that fails —
// a full disk, here a file capped by the test-only CSRSIM_TEST_STATE_MAX_PAGES —
// answers 503 with a Bandwidth-shaped body, leaves nothing of the call in the
// file, and the simulator keeps serving.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccount = "/api/accounts/9900000";

std::vector<std::string> StateArgs(const std::string& file) {
  return {"--clock", "manual", "--log-level", "off", "--state", file};
}

httplib::Result Create(const SimulatorProcess& sim) {
  return sim.Client()->Post((kAccount + "/csrs").c_str(),
                            "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>",
                            "application/xml");
}

std::string TotalCount(const SimulatorProcess& sim) {
  auto listed = sim.Client()->Get((kAccount + "/csrs").c_str());
  REQUIRE(listed);
  REQUIRE(listed->status == 200);
  return XmlText(listed->body, "TotalCount").value_or("");
}

}  // namespace

TEST_CASE("a full state file: the create answers 503 with a body, nothing half-written, the simulator goes on") {
  const std::string file = MakeTempDir() + "/state.db";
  std::vector<std::string> acknowledged;
  {
    ::setenv("CSRSIM_TEST_STATE_MAX_PAGES", "64", 1);  // 256 KiB: a few hundred orders
    SimulatorProcess sim(StateArgs(file));
    ::unsetenv("CSRSIM_TEST_STATE_MAX_PAGES");
    std::optional<httplib::Response> refused;
    for (int i = 0; i < 10000 && !refused; ++i) {
      auto created = Create(sim);
      REQUIRE(created);
      if (created->status == 200) {
        acknowledged.push_back(XmlText(created->body, "OrderId").value_or(""));
      } else {
        refused = *created;
      }
    }
    REQUIRE(refused);
    CHECK(refused->status == 503);
    INFO(refused->body);
    CHECK(XmlRoot(refused->body) == "CsrResponse");
    CHECK(XmlText(refused->body, "ErrorCode") == "1018");
    CHECK(XmlText(refused->body, "Description").value_or("").find("state file could not be written") !=
          std::string::npos);
    REQUIRE(acknowledged.size() > 10);
    // The refused create left no order behind, and the simulator still serves.
    CHECK(TotalCount(sim) == std::to_string(acknowledged.size()));
    auto health = sim.Client("")->Get("/_sim/health");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto first = sim.Client()->Get((kAccount + "/csrs/" + acknowledged.front()).c_str());
    REQUIRE(first);
    CHECK(first->status == 200);
    auto again = Create(sim);  // still full: refused the same way, not a crash
    REQUIRE(again);
    CHECK(again->status == 503);
    REQUIRE(sim.Stop() == 0);
  }
  // Without the cap: every acknowledged order is there, nothing else, and creates work.
  SimulatorProcess sim(StateArgs(file));
  CHECK(TotalCount(sim) == std::to_string(acknowledged.size()));
  auto last = sim.Client()->Get((kAccount + "/csrs/" + acknowledged.back()).c_str());
  REQUIRE(last);
  CHECK(last->status == 200);
  auto created = Create(sim);
  REQUIRE(created);
  CHECK(created->status == 200);
}

namespace {

// The answers a client reads back about one order and the account's subscriptions.
struct Seen {
  std::string order, notes, subscriptions, subscription;
};

void CheckSame(const Seen& now, const Seen& expected) {
  CHECK(now.order == expected.order);
  CHECK(now.notes == expected.notes);
  CHECK(now.subscriptions == expected.subscriptions);
  CHECK(now.subscription == expected.subscription);
}

std::string Body(const httplib::Result& response) {
  REQUIRE(response);
  REQUIRE(response->status == 200);
  return response->body;
}

Seen Look(const SimulatorProcess& sim, const std::string& order, const std::string& subscription) {
  auto client = sim.Client();
  return {Body(client->Get((kAccount + "/csrs/" + order).c_str())),
          Body(client->Get((kAccount + "/csrs/" + order + "/notes").c_str())),
          Body(client->Get((kAccount + "/subscriptions").c_str())),
          Body(client->Get((kAccount + "/subscriptions/" + subscription).c_str()))};
}

void CheckRefused(const httplib::Result& response) {
  REQUIRE(response);
  INFO(response->body);
  CHECK(response->status == 503);
  CHECK(XmlText(response->body, "ErrorCode") == "1018");
}

httplib::Result AddNote(const SimulatorProcess& sim, const std::string& order, const std::string& text) {
  return sim.Client()->Post((kAccount + "/csrs/" + order + "/notes").c_str(),
                            "<Note><UserId>spock</UserId><Description>" + text + "</Description></Note>",
                            "application/xml");
}

}  // namespace

TEST_CASE("a call whose state write fails changes nothing: not in memory, not in the file, no callback") {
  const std::string dir = MakeTempDir();
  const std::string file = dir + "/state.db";
  const std::string trigger = dir + "/full";  // writes fail while it exists
  CallbackReceiver receiver;
  std::string order, subscription;
  Seen last;
  {
    ::setenv("CSRSIM_TEST_STATE_FAIL_WHILE", trigger.c_str(), 1);
    SimulatorProcess sim(StateArgs(file));
    ::unsetenv("CSRSIM_TEST_STATE_FAIL_WHILE");
    auto client = sim.Client();
    auto subscribed = client->Post((kAccount + "/subscriptions").c_str(), SubscriptionRequest(receiver.Url()).Xml(),
                                   "application/xml");
    REQUIRE(subscribed);
    REQUIRE(subscribed->status == 201);
    subscription = LocationId(subscribed);
    auto created = Create(sim);  // RECEIVED; COMPLETE at 3 s
    REQUIRE(created);
    REQUIRE(created->status == 200);
    order = XmlText(created->body, "OrderId").value_or("");
    auto noted = AddNote(sim, order, "first");
    REQUIRE(noted);
    REQUIRE(noted->status == 201);
    const std::string note_id = LocationId(noted);
    REQUIRE(receiver.WaitForCount(1));
    auto waited = sim.Client("")->Get(("/_sim/callbacks/wait?orderId=" + order + "&timeout=10s").c_str());
    const std::string first_entry = nlohmann::json::parse(Body(waited))["id"].dump();
    REQUIRE(AdvanceClock(sim, "0s"));  // settles: the callback's outcome is in its subscription
    const Seen before = Look(sim, order, subscription);

    WriteFile(dir, "full", "");
    const std::string pin = "<Csr><EndUserPIN>1234</EndUserPIN></Csr>";
    CheckRefused(client->Put((kAccount + "/csrs/" + order).c_str(), pin, "application/xml"));
    CheckRefused(client->Put((kAccount + "/csrs/" + order).c_str(), "<Csr><Status>REQUESTED_CANCEL</Status></Csr>",
                             "application/xml"));
    CheckRefused(AddNote(sim, order, "refused"));
    CheckRefused(client->Put((kAccount + "/csrs/" + order + "/notes/" + note_id).c_str(),
                             "<Note><UserId>kirk</UserId><Description>edited</Description></Note>", "application/xml"));
    CheckRefused(client->Post((kAccount + "/subscriptions").c_str(),
                              SubscriptionRequest(receiver.Url() + "/other").Xml(), "application/xml"));
    CheckRefused(client->Put((kAccount + "/subscriptions/" + subscription).c_str(),
                             SubscriptionRequest(receiver.Url() + "/changed").Xml(), "application/xml"));
    CheckRefused(client->Delete((kAccount + "/subscriptions/" + subscription).c_str()));
    auto forced = sim.Client("")->Post(("/_sim/orders/" + order + "/transition").c_str(), R"({"status":"FAILED"})",
                                       "application/json");
    REQUIRE(forced);
    CHECK(forced->status == 503);
    CheckSame(Look(sim, order, subscription), before);

    // Writes work again: the next note's callback is the second the receiver
    // gets (callbacks of one order and subscription go in order), so none of
    // the refused calls queued one.
    std::filesystem::remove(trigger);
    auto second = AddNote(sim, order, "second");
    REQUIRE(second);
    REQUIRE(second->status == 201);
    auto next = sim.Client("")->Get(
        ("/_sim/callbacks/wait?orderId=" + order + "&after=" + first_entry + "&timeout=10s").c_str());
    Body(next);
    REQUIRE(receiver.Requests().size() == 2);
    CHECK(receiver.Requests()[1].body.find("A note was added") != std::string::npos);
    // The refused cancel left the scenario's pending step in place.
    REQUIRE(AdvanceClock(sim, "3s"));
    CHECK(XmlText(Body(client->Get((kAccount + "/csrs/" + order).c_str())), "Status") == "COMPLETE");
    last = Look(sim, order, subscription);
    CHECK(last.notes.find("refused") == std::string::npos);
    CHECK(last.notes.find("edited") == std::string::npos);
    REQUIRE(sim.Stop() == 0);
  }
  // The file holds what GET showed.
  SimulatorProcess sim(StateArgs(file));
  CheckSame(Look(sim, order, subscription), last);
}
