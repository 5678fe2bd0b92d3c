// Durable state (--state FILE, README.md "Durable state"): the callback
// journal survives a restart, and callbacks are at-least-once across a crash —
// a delivery whose attempt had no journaled outcome when the process was
// killed is sent again at the next start, one that was journaled is not; and
// a change and the callbacks it queues are kept together or not at all.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

const std::string kAccount = "/api/accounts/9900000";

std::vector<std::string> StateArgs(const std::string& file) {
  return {"--clock", "manual", "--log-level", "off", "--state", file};
}

std::string CreateOrder(const SimulatorProcess& sim) {
  auto created =
      sim.Client()->Post((kAccount + "/csrs").c_str(),
                         "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>",
                         "application/xml");  // COMPLETE, with a callback, at 3 s
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

std::string Subscribe(const SimulatorProcess& sim, const std::string& url) {
  auto created =
      sim.Client()->Post((kAccount + "/subscriptions").c_str(), SubscriptionRequest(url).Xml(), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  return LocationId(created);
}

Json Journal(const SimulatorProcess& sim) {
  auto response = sim.Client("")->Get("/_sim/callbacks");
  REQUIRE(response);
  REQUIRE(response->status == 200);
  return Json::parse(response->body)["entries"];
}

}  // namespace

TEST_CASE("a callback in flight at a crash is sent again after the restart; the journal is kept") {
  const std::string file = MakeTempDir() + "/state.db";
  CallbackReceiver answered;
  CallbackReceiver hanging(ReceiverOptions{.holding = true});
  std::string first, second;
  {
    SimulatorProcess sim(StateArgs(file));
    const std::string subscription = Subscribe(sim, answered.Url());
    first = CreateOrder(sim);
    REQUIRE(AdvanceClock(sim, "3s"));  // returns once the callback's outcome is journaled
    REQUIRE(answered.Requests().size() == 1);
    auto removed = sim.Client()->Delete((kAccount + "/subscriptions/" + subscription).c_str());
    REQUIRE(removed);
    REQUIRE(removed->status == 200);
    Subscribe(sim, hanging.Url());
    second = CreateOrder(sim);
    // The advance waits for the callback, which the receiver holds: crash meanwhile.
    std::thread advance([&sim] { AdvanceClock(sim, "3s"); });
    REQUIRE(hanging.WaitUntilHolding());
    REQUIRE(sim.Stop(9) == 128 + 9);
    advance.join();
  }
  const std::string held_body = hanging.Requests().at(0).body;
  CHECK(held_body.find(second) != std::string::npos);
  {
    SimulatorProcess sim(StateArgs(file));
    REQUIRE(hanging.WaitForCount(2));  // sent again at start-up
    hanging.Release();
    auto waited = sim.Client("")->Get(("/_sim/callbacks/wait?orderId=" + second + "&timeout=10s").c_str());
    REQUIRE(waited);
    REQUIRE(waited->status == 200);
    CHECK(hanging.Requests().at(1).body == held_body);
    CHECK(answered.Requests().size() == 1);  // its outcome was journaled: not sent again
    const Json entries = Journal(sim);
    REQUIRE(entries.size() == 2);
    CHECK(entries[0]["id"] == 1);  // kept from the first run
    CHECK(entries[0]["orderId"] == first);
    CHECK(entries[0]["responseStatus"] == 200);
    CHECK(entries[1]["id"] == 2);  // ids continue
    CHECK(entries[1]["orderId"] == second);
    CHECK(entries[1]["attempt"] == 1);
    REQUIRE(sim.Stop() == 0);
  }
  // Nothing is left to send, and the journal is the same after another restart.
  auto dump = RunBinary({"state", "dump", file});
  REQUIRE(dump.exit_code == 0);
  const Json state = Json::parse(dump.out);
  CHECK(state["deliveries"].empty());
  CHECK(state["journal"].size() == 2);
  SimulatorProcess sim(StateArgs(file));
  CHECK(Journal(sim).size() == 2);
  // A reset empties the file's journal too.
  auto reset = sim.Client("")->Post("/_sim/reset", "", "application/json");
  REQUIRE(reset);
  REQUIRE(reset->status == 200);
  REQUIRE(sim.Stop() == 0);
  SimulatorProcess after_reset(StateArgs(file));
  CHECK(Journal(after_reset).empty());
}

TEST_CASE("a callback's retries go on after a restart where they stood: same budget, same times") {
  const int signal = GENERATE(9, 15);  // a crash, a graceful stop
  INFO("stopped with signal " << signal);
  const std::string file = MakeTempDir() + "/state.db";
  CallbackReceiver receiver;
  receiver.SetStatus(500);  // every attempt fails
  std::string order;
  {
    SimulatorProcess sim(StateArgs(file));
    auto settings = sim.Client("")->Post("/_sim/callbacks/settings", R"({"attempts":4,"backoff":"1s","multiplier":2})",
                                         "application/json");
    REQUIRE(settings);
    REQUIRE(settings->status == 200);
    Subscribe(sim, receiver.Url());
    order = CreateOrder(sim);
    REQUIRE(AdvanceClock(sim, "3s"));  // attempt 1 at 3 s fails; its retry is due at 4 s
    REQUIRE(AdvanceClock(sim, "1s"));  // attempt 2 at 4 s fails; its retry is due at 6 s
    REQUIRE(receiver.Requests().size() == 2);
    REQUIRE(sim.Stop(signal) == (signal == 9 ? 128 + 9 : 0));
  }
  SimulatorProcess sim(StateArgs(file));
  // Not sent at start-up: the retry waits for its time on the restored clock
  // (an advance returns only once every callback due was attempted).
  REQUIRE(AdvanceClock(sim, "1s"));  // 5 s
  CHECK(receiver.Requests().size() == 2);
  REQUIRE(AdvanceClock(sim, "1s"));  // 6 s: attempt 3 fails; the last retry is due at 10 s
  CHECK(receiver.Requests().size() == 3);
  REQUIRE(AdvanceClock(sim, "3s"));  // 9 s
  CHECK(receiver.Requests().size() == 3);
  REQUIRE(AdvanceClock(sim, "1s"));  // 10 s: attempt 4, the last of the budget
  REQUIRE(AdvanceClock(sim, "1h"));  // nothing follows: the budget was not reset
  CHECK(receiver.Requests().size() == 4);
  const Json entries = Journal(sim);
  REQUIRE(entries.size() == 4);
  const char* sent[] = {"2026-01-01T00:00:03.000Z", "2026-01-01T00:00:04.000Z", "2026-01-01T00:00:06.000Z",
                        "2026-01-01T00:00:10.000Z"};
  for (int i = 0; i < 4; ++i) {
    INFO("attempt " << i + 1);
    CHECK(entries[i]["orderId"] == order);
    CHECK(entries[i]["attempt"] == i + 1);
    CHECK(entries[i]["sentAt"] == sent[i]);
    CHECK(entries[i]["responseStatus"] == 500);
  }
  REQUIRE(sim.Stop() == 0);
  auto dump = RunBinary({"state", "dump", file});
  REQUIRE(dump.exit_code == 0);
  CHECK(Json::parse(dump.out)["deliveries"].empty());  // the delivery is done
}

TEST_CASE("a change and the callbacks it queues are committed together: killed right after, they are sent at restart") {
  const bool scheduled = GENERATE(false, true);  // a note add (a call) / a scheduled step (the clock)
  INFO((scheduled ? "a scheduled step" : "a note add"));
  const std::string dir = MakeTempDir();
  const std::string file = dir + "/state.db";
  const std::string trigger = dir + "/kill";  // the process kills itself after each commit while it exists
  CallbackReceiver receiver;
  std::string order;
  {
    ::setenv("CSRSIM_TEST_STATE_KILL_AFTER_COMMIT_WHILE", trigger.c_str(), 1);
    SimulatorProcess sim(StateArgs(file));
    ::unsetenv("CSRSIM_TEST_STATE_KILL_AFTER_COMMIT_WHILE");
    Subscribe(sim, receiver.Url());
    order = CreateOrder(sim);          // RECEIVED, which sends no callback
    REQUIRE(AdvanceClock(sim, "1s"));  // PROCESSING, which sends none either
    WriteFile(dir, "kill", "");
    if (scheduled) {
      CHECK_FALSE(AdvanceClock(sim, "2s"));  // COMPLETE is committed, then the process is gone
    } else {
      auto noted =
          sim.Client()->Post((kAccount + "/csrs/" + order + "/notes").c_str(),
                             "<Note><UserId>spock</UserId><Description>kept</Description></Note>", "application/xml");
      CHECK_FALSE(noted);  // committed, never answered
    }
    REQUIRE(sim.Stop(9) == 128 + 9);  // it killed itself
  }
  std::filesystem::remove(trigger);
  REQUIRE(receiver.Requests().empty());  // the kill came before any callback went out
  SimulatorProcess sim(StateArgs(file));
  // The change is in the file, and so is its callback: sent at start-up.
  REQUIRE(receiver.WaitForCount(1));
  const std::string body = receiver.Requests().at(0).body;
  CHECK(body.find(order) != std::string::npos);
  if (scheduled) {
    CHECK(XmlText(body, "Status") == "COMPLETE");
    auto got = sim.Client()->Get((kAccount + "/csrs/" + order).c_str());
    REQUIRE(got);
    CHECK(XmlText(got->body, "Status") == "COMPLETE");
  } else {
    CHECK(body.find("A note was added") != std::string::npos);
    auto notes = sim.Client()->Get((kAccount + "/csrs/" + order + "/notes").c_str());
    REQUIRE(notes);
    CHECK(notes->body.find("kept") != std::string::npos);
  }
  auto waited = sim.Client("")->Get(("/_sim/callbacks/wait?orderId=" + order + "&timeout=10s").c_str());
  REQUIRE(waited);
  CHECK(waited->status == 200);
  REQUIRE(sim.Stop() == 0);
  CHECK(receiver.Requests().size() == 1);  // sent once: its outcome is journaled
}
