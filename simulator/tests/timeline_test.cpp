// Per-account timelines of the Scheduler (scheduler.hpp): an account's time is
// the clock's plus its own offset, and AdvanceAccount runs only its tasks.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "csrsim/scheduler.hpp"

using namespace csrsim;
using namespace std::chrono_literals;

namespace {

// A manual clock and a scheduler on it, not started: advances run the tasks.
struct Timelines {
  ManualClock clock;
  Scheduler scheduler{clock};
  const SimTime start = clock.Now();
};

}  // namespace

TEST_CASE_METHOD(Timelines, "advancing one account's timeline runs only its tasks, each at its own due time") {
  std::vector<std::string> ran;
  scheduler.ScheduleAt("A", start + 1s, [&] {
    ran.push_back("A@" + std::to_string((scheduler.Now("A") - start) / 1s));
    scheduler.ScheduleAfter("A", 2s, [&] { ran.push_back("A@" + std::to_string((scheduler.Now("A") - start) / 1s)); });
  });
  scheduler.ScheduleAt("B", start + 1s, [&] { ran.push_back("B"); });
  scheduler.ScheduleAt(start + 1s, [&] { ran.push_back("global"); });

  REQUIRE(scheduler.AdvanceAccount("A", 5s));
  CHECK(ran == std::vector<std::string>{"A@1", "A@3"});
  CHECK(scheduler.Now("A") == start + 5s);
  CHECK(scheduler.Offset("A") == 5s);
  CHECK(scheduler.Now("B") == start);
  CHECK(clock.Now() == start);
  CHECK(scheduler.pending() == 2);

  REQUIRE(scheduler.Advance(1s));
  CHECK(ran == std::vector<std::string>{"A@1", "A@3", "B", "global"});
  CHECK(scheduler.Now("A") == start + 6s);
  CHECK(scheduler.Now("B") == start + 1s);
}

TEST_CASE_METHOD(Timelines, "a task scheduled on an advanced timeline falls due on that timeline") {
  REQUIRE(scheduler.AdvanceAccount("A", 10s));
  bool ran = false;
  scheduler.ScheduleAfter("A", 2s, [&] { ran = true; });
  REQUIRE(scheduler.Advance(1s));
  CHECK(!ran);
  REQUIRE(scheduler.AdvanceAccount("A", 1s));
  CHECK(ran);
  CHECK(scheduler.Now("A") == start + 12s);
}

TEST_CASE_METHOD(Timelines,
                 "resetting a timeline puts it back on the clock; its pending tasks keep their due times on it") {
  REQUIRE(scheduler.AdvanceAccount("A", 10s));
  REQUIRE(scheduler.AdvanceAccount("B", 3s));
  bool ran = false;
  scheduler.ScheduleAfter("A", 2s, [&] { ran = true; });  // due at A's 12 s
  scheduler.ResetTimeline(std::string("A"));
  CHECK(scheduler.Now("A") == start);
  CHECK(scheduler.Offset("B") == 3s);
  REQUIRE(scheduler.Advance(11s));
  CHECK(!ran);
  REQUIRE(scheduler.Advance(1s));
  CHECK(ran);
  scheduler.ResetTimeline(std::nullopt);
  CHECK(scheduler.Now("B") == clock.Now());
}

TEST_CASE("an account's timeline moves only under a manual clock and never backwards") {
  RealClock real;
  Scheduler on_real(real);
  CHECK(!on_real.AdvanceAccount("A", 1s));
  ManualClock clock;
  Scheduler scheduler(clock);
  CHECK(!scheduler.AdvanceAccount("A", -1s));
  CHECK(!scheduler.AdvanceAccount("A", LatestSimTime() - clock.Now() + 1s));
  CHECK(scheduler.Offset("A") == 0s);
}
