// Unit tests of the core module: model helpers, clock, scheduler, router, encoding.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "csrsim/clock.hpp"
#include "csrsim/encoding.hpp"
#include "csrsim/http.hpp"
#include "csrsim/model.hpp"
#include "csrsim/scheduler.hpp"

using namespace csrsim;
using namespace std::chrono_literals;

TEST_CASE("field names match the SDKs' spellings: any case, trailing spaces ignored") {
  CHECK(CsrFieldByName("EndUserPIN") == CsrField::kEndUserPIN);
  CHECK(CsrFieldByName("endUserPassword") == CsrField::kEndUserPassword);  // Java
  CHECK(CsrFieldByName("WorkingOrBillingTelephoneNumber ") == CsrField::kWorkingOrBillingTelephoneNumber);
  CHECK(CsrFieldByName("EndUserPin") == CsrField::kEndUserPIN);        // Ruby's camelized :end_user_pin
  CHECK(CsrFieldByName("accountNumber") == CsrField::kAccountNumber);  // C#
  CHECK_FALSE(CsrFieldByName("Unknown"));
  CHECK_FALSE(CsrFieldByName(""));
}

TEST_CASE("merging request fields overwrites given fields and keeps the others") {
  CsrFields order;
  order.Set(CsrField::kWorkingOrBillingTelephoneNumber, "9198675309");
  order.Set(CsrField::kCity, "Raleigh");
  CsrFields update;
  update.Set(CsrField::kCity, "Durham");
  update.Set(CsrField::kEndUserPIN, "1234");
  order.MergeFrom(update);
  REQUIRE(order.Items().size() == 3);
  CHECK(*order.Get(CsrField::kCity) == "Durham");
  CHECK(*order.Get(CsrField::kEndUserPIN) == "1234");
  CHECK(*order.Get(CsrField::kWorkingOrBillingTelephoneNumber) == "9198675309");
  // Items stay in wire order whatever the insertion order.
  CHECK(order.Items().front().first == CsrField::kWorkingOrBillingTelephoneNumber);
}

TEST_CASE("statuses round-trip through their wire spelling and know which are terminal") {
  for (auto status : {OrderStatus::kReceived, OrderStatus::kProcessing, OrderStatus::kActionRequired,
                      OrderStatus::kComplete, OrderStatus::kFailed, OrderStatus::kCancelled}) {
    CHECK(ParseOrderStatus(ToString(status)) == status);
  }
  CHECK_FALSE(ParseOrderStatus("complete"));
  CHECK(IsTerminal(OrderStatus::kFailed));
  CHECK_FALSE(IsTerminal(OrderStatus::kActionRequired));
}

TEST_CASE("durations parse in the scenario units and reject garbage and negatives") {
  CHECK(ParseDuration("250ms") == Duration(250'000));
  CHECK(ParseDuration("2s") == Duration(2'000'000));
  CHECK(ParseDuration("1.5s") == Duration(1'500'000));
  CHECK(ParseDuration("5m") == Duration(300'000'000));
  CHECK(ParseDuration("1h") == Duration(3'600'000'000));
  CHECK(ParseDuration("0s") == Duration(0));
  for (const char* bad : {"", "s", "5", "-1s", "1d", "1.2.3s", "abc"}) {
    INFO(bad);
    CHECK_FALSE(ParseDuration(bad));
  }
  CHECK(FormatDuration(Duration(2'000'000)) == "2s");
  CHECK(FormatDuration(Duration(1'500'000)) == "1500ms");
}

TEST_CASE("clock specs: real, manual and scale=N; anything else is refused") {
  CHECK(MakeClock("real")->Describe() == "real");
  CHECK(MakeClock("manual")->IsManual());
  CHECK(MakeClock("scale=10")->Describe() == "scale=10");
  CHECK_FALSE(MakeClock("real")->IsManual());
  for (const char* bad : {"scale=0", "scale=-2", "scale=x", "scale=", "fast", ""}) {
    INFO(bad);
    CHECK(MakeClock(bad) == nullptr);
  }
}

TEST_CASE("a manual clock stands still until advanced and refuses to go back") {
  ManualClock clock;
  const SimTime start = clock.Now();
  CHECK(start == ManualClock::DefaultStart());
  CHECK(clock.Now() == start);
  CHECK(clock.Advance(5s));
  CHECK(clock.Now() == start + 5s);
  CHECK_FALSE(clock.Advance(Duration(-1)));
  CHECK(clock.Now() == start + 5s);
}

TEST_CASE("durations and the manual clock are bounded, so simulated time never overflows") {
  CHECK(ParseDuration("876600h") == kMaxDuration);  // 100 years
  CHECK_FALSE(ParseDuration("876601h"));
  CHECK_FALSE(ParseDuration("100000000000000000000s"));
  ManualClock clock;
  int moves = 0;
  while (clock.Advance(kMaxDuration) && moves < 10'000) ++moves;
  CHECK(moves < 10'000);
  CHECK(clock.Now() <= LatestSimTime());
  CHECK(LatestSimTime() - clock.Now() < kMaxDuration);
  for (const char* bad : {"scale=1e300", "scale=1e-300", "scale=inf", "scale=nan"}) {
    INFO(bad);
    CHECK(MakeClock(bad) == nullptr);
  }
}

TEST_CASE("waiting for a far-off simulated time aims at most a day ahead of the wall clock") {
  RealClock real;
  auto wall = real.WallTimeOf(LatestSimTime());
  REQUIRE(wall);
  CHECK(*wall - std::chrono::steady_clock::now() <= std::chrono::hours(24));
  ScaledClock scaled(0.001);
  auto scaled_wall = scaled.WallTimeOf(LatestSimTime());
  REQUIRE(scaled_wall);
  CHECK(*scaled_wall - std::chrono::steady_clock::now() <= std::chrono::hours(24));
}

TEST_CASE("a scaled clock runs N times faster than wall time") {
  ScaledClock clock(1000);
  const SimTime t = clock.Now() + 10s;
  auto wall = clock.WallTimeOf(t);
  REQUIRE(wall);
  // 10 simulated seconds are 10 wall milliseconds away (allow scheduling slack).
  CHECK(*wall - std::chrono::steady_clock::now() <= 10ms);
}

TEST_CASE("the scheduler runs due tasks in due order, then submission order, on the manual clock") {
  ManualClock clock;
  Scheduler scheduler(clock);
  std::vector<std::string> ran;
  scheduler.ScheduleAfter(2s, [&] { ran.push_back("b@2s"); });
  scheduler.ScheduleAfter(1s, [&] { ran.push_back("a@1s"); });
  scheduler.ScheduleAfter(2s, [&] { ran.push_back("c@2s"); });
  scheduler.ScheduleAfter(10s, [&] { ran.push_back("late"); });
  CHECK(scheduler.RunDue() == 0);
  REQUIRE(scheduler.Advance(2s));
  CHECK(ran == std::vector<std::string>{"a@1s", "b@2s", "c@2s"});
  CHECK(scheduler.pending() == 1);
}

TEST_CASE("advancing runs tasks that due tasks schedule when they fall due too") {
  ManualClock clock;
  Scheduler scheduler(clock);
  std::vector<int> ran;
  scheduler.ScheduleAfter(1s, [&] {
    ran.push_back(1);                                         // runs with the clock at its due time, 1s
    scheduler.ScheduleAfter(1s, [&] { ran.push_back(2); });   // due at 2s: runs
    scheduler.ScheduleAfter(10s, [&] { ran.push_back(3); });  // due at 11s: waits
  });
  const SimTime start = clock.Now();
  REQUIRE(scheduler.Advance(3s));
  CHECK(ran == std::vector<int>{1, 2});
  CHECK(clock.Now() == start + 3s);
  CHECK_FALSE(scheduler.Busy());
  CHECK(scheduler.pending() == 1);
}

TEST_CASE("the scheduler refuses to advance a clock that is not manual") {
  RealClock clock;
  Scheduler scheduler(clock);
  CHECK_FALSE(scheduler.Advance(1s));
}

TEST_CASE("the scheduler thread runs tasks due now without any advance") {
  ManualClock clock;
  Scheduler scheduler(clock);
  scheduler.Start();
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  scheduler.ScheduleAfter(0s, [&] {
    std::lock_guard lock(mu);
    done = true;
    done_cv.notify_all();
  });
  std::unique_lock lock(mu);
  CHECK(done_cv.wait_for(lock, 5s, [&] { return done; }));
  scheduler.Stop();
}

TEST_CASE("stopping the scheduler drops pending tasks and ignores new ones") {
  ManualClock clock;
  Scheduler scheduler(clock);
  scheduler.Start();
  bool ran = false;
  scheduler.ScheduleAfter(1s, [&] { ran = true; });
  scheduler.Stop();
  scheduler.ScheduleAfter(0s, [&] { ran = true; });
  CHECK(scheduler.pending() == 0);
  CHECK_FALSE(ran);
}

namespace {
HttpRequest Request(std::string method, std::string path) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}
}  // namespace

TEST_CASE("the router matches whole paths, captures wildcards and tells 405 from 404") {
  Router router;
  router.Add("GET", "/accounts/*/csrs/*",
             [](const HttpRequest& r) { return HttpResponse::Json(200, r.path_params[0] + "|" + r.path_params[1]); });
  router.Add("GET", "/accounts/*/csrs", [](const HttpRequest&) { return HttpResponse::Empty(204); });
  router.set_method_not_allowed([](const HttpRequest&) { return HttpResponse::Empty(405); });

  HttpRequest get = Request("GET", "/accounts/99/csrs/abc");
  auto found = router.Dispatch(get);
  REQUIRE(found);
  CHECK(found->body == "99|abc");

  HttpRequest list = Request("GET", "/accounts/99/csrs/");  // a trailing slash is the same path
  CHECK(router.Dispatch(list)->status == 204);

  HttpRequest wrong_method = Request("DELETE", "/accounts/99/csrs/abc");
  CHECK(router.Dispatch(wrong_method)->status == 405);

  HttpRequest unknown = Request("GET", "/accounts/99/orders/abc");
  CHECK_FALSE(router.Dispatch(unknown));
  HttpRequest too_long = Request("GET", "/accounts/99/csrs/abc/extra/more");
  CHECK_FALSE(router.Dispatch(too_long));
}

TEST_CASE("request headers are looked up case-insensitively") {
  HttpRequest request;
  request.headers.emplace("authorization", "Basic x");
  CHECK(request.Header("Authorization") == "Basic x");
  CHECK_FALSE(request.Header("Accept"));
}

TEST_CASE("base64 round-trips every length and rejects malformed text") {
  for (std::string text : {"", "u", "us", "use", "username:password"}) {
    CHECK(Base64Decode(Base64Encode(text)) == text);
  }
  CHECK(Base64Encode("username:password") == "dXNlcm5hbWU6cGFzc3dvcmQ=");
  for (const char* bad : {"abc", "a===", "ab=c", "%%%%", "dXNl cm5h"}) {
    INFO(bad);
    CHECK_FALSE(Base64Decode(bad));
  }
}

TEST_CASE("URL encoding keeps unreserved characters and round-trips through form decoding") {
  CHECK(UrlEncode("2020-01-01T00:00:00+00:00") == "2020-01-01T00%3A00%3A00%2B00%3A00");
  CHECK(UrlEncode("a b&c=d~_.") == "a%20b%26c%3Dd~_.");
  auto fields = ParseFormUrlEncoded("k=" + UrlEncode("x+y z&=%"));
  REQUIRE(fields.size() == 1);
  CHECK(fields[0].second == "x+y z&=%");
}

TEST_CASE("form bodies decode percent escapes and plus signs") {
  auto fields = ParseFormUrlEncoded("grant_type=client_credentials&client_id=a%2Bb&name=x+y&flag");
  REQUIRE(fields.size() == 4);
  CHECK(fields[0] == std::pair<std::string, std::string>{"grant_type", "client_credentials"});
  CHECK(fields[1].second == "a+b");
  CHECK(fields[2].second == "x y");
  CHECK(fields[3] == std::pair<std::string, std::string>{"flag", ""});
}

TEST_CASE("ASCII case folding: only A-Z fold; other bytes, UTF-8 included, compare as they are") {
  CHECK(AsciiLowerCopy("HTTP://Example.COM:80/Path") == "http://example.com:80/path");
  CHECK(AsciiLowerCopy("\xC3\x84@[`{") == "\xC3\x84@[`{");  // bytes beside A-Z and non-ASCII kept
  CHECK(EqualsIgnoreCase("Keep-Alive", "keep-ALIVE"));
  CHECK_FALSE(EqualsIgnoreCase("keep-alive", "keep-alive "));
  CHECK_FALSE(EqualsIgnoreCase("@", "`"));  // 0x40 and 0x60 differ by the case bit, but are not letters
  CHECK(StartsWithIgnoreCase("BEARER abc", "bearer "));
  CHECK_FALSE(StartsWithIgnoreCase("Bear", "bearer "));
}

TEST_CASE("equal SharedTexts share one copy, which lives while one of them does") {
  const std::size_t before = SharedText::InternedCount();
  {
    SharedText a("a text no other test uses: 7f3a");
    SharedText b(std::string("a text no other test uses: 7f3a"));
    CHECK(a == b);
    CHECK(&a.str() == &b.str());
    CHECK(SharedText::InternedCount() == before + 1);
    SharedText c = a;
    a = SharedText("another text: 7f3b");
    CHECK(c == b);
  }
  CHECK(SharedText::InternedCount() == before);
}
