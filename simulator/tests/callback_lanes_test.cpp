// The lanes as a plain data structure: order, limits, fairness, dropping.
#include <catch2/catch.hpp>

#include "csrsim/callback_lanes.hpp"

using namespace csrsim;

namespace {

PendingDelivery Pending(const std::string& account, const std::string& order, const std::string& url,
                        const std::string& body = "") {
  PendingDelivery pending;
  pending.delivery.account_id = account;
  pending.delivery.order_id = order;
  pending.delivery.subscription_id = "sub";
  pending.delivery.url = url;
  pending.delivery.body = body.empty() ? order : body;
  return pending;
}

std::vector<PendingDelivery> One(PendingDelivery pending) {
  std::vector<PendingDelivery> batch;
  batch.push_back(std::move(pending));
  return batch;
}

}  // namespace

TEST_CASE("lanes: one lane hands out its deliveries one turn at a time, in order") {
  CallbackLanes lanes({4, 4, 8});
  lanes.Enqueue(One(Pending("a", "o1", "http://h/cb", "first")));
  lanes.Enqueue(One(Pending("a", "o1", "http://h/cb", "second")));
  auto turn = lanes.Take();
  REQUIRE(turn);
  CHECK(turn->pending.delivery.body == "first");
  CHECK_FALSE(lanes.Take());  // the lane is busy
  lanes.EndAttempt(turn->lane);
  lanes.Release(turn->lane);
  auto next = lanes.Take();
  REQUIRE(next);
  CHECK(next->pending.delivery.body == "second");
  lanes.EndAttempt(next->lane);
  lanes.Release(next->lane);
  CHECK(lanes.Idle());
}

TEST_CASE("lanes: every port of a host shares the account's per-host limit") {
  CallbackLanes lanes({2, 2, 8});
  for (int port = 1; port <= 4; ++port) {
    lanes.Enqueue(One(Pending("a", "o" + std::to_string(port), "http://Dead.test:" + std::to_string(port) + "/")));
  }
  lanes.Enqueue(One(Pending("a", "o9", "http://other.test/")));
  lanes.Enqueue(One(Pending("b", "o10", "http://dead.test:1/")));
  std::vector<std::string> taken;
  while (auto turn = lanes.Take()) taken.push_back(turn->pending.delivery.order_id);
  CHECK_THAT(taken, Catch::Matchers::UnorderedEquals(std::vector<std::string>{"o1", "o2", "o9", "o10"}));
  CHECK_FALSE(lanes.CanTake());
}

TEST_CASE("lanes: one port of a host leaves the rest of the host's budget to its other ports") {
  CallbackLanes lanes({1, 4, 8});
  lanes.Enqueue(One(Pending("a", "o1", "http://h:1/")));
  lanes.Enqueue(One(Pending("a", "o2", "http://h:1/")));
  lanes.Enqueue(One(Pending("a", "o3", "http://h:2/")));
  std::vector<std::string> taken;
  while (auto turn = lanes.Take()) taken.push_back(turn->pending.delivery.order_id);
  CHECK(taken == std::vector<std::string>{"o1", "o3"});
}

TEST_CASE("lanes: turns alternate between accounts, and an account stops at its limit") {
  CallbackLanes lanes({8, 8, 2});
  for (int i = 0; i < 4; ++i) lanes.Enqueue(One(Pending("a", "a" + std::to_string(i), "http://h/")));
  for (int i = 0; i < 2; ++i) lanes.Enqueue(One(Pending("b", "b" + std::to_string(i), "http://h/")));
  std::vector<std::string> taken;
  while (auto turn = lanes.Take()) taken.push_back(turn->pending.delivery.order_id);
  CHECK(taken == std::vector<std::string>{"a0", "b0", "a1", "b1"});
  CHECK(lanes.in_flight() == 4);
}

TEST_CASE("lanes: a finished attempt frees its place for the host's next lane") {
  CallbackLanes lanes({1, 1, 8});
  lanes.Enqueue(One(Pending("a", "o1", "http://h:1/")));
  lanes.Enqueue(One(Pending("a", "o2", "http://h:2/")));
  auto first = lanes.Take();
  REQUIRE(first);
  CHECK_FALSE(lanes.CanTake());
  CHECK(lanes.EndAttempt(first->lane));  // a ready lane waited for that place
  lanes.Release(first->lane);
  auto second = lanes.Take();
  REQUIRE(second);
  CHECK(second->pending.delivery.order_id == "o2");
}

TEST_CASE("lanes: Resume puts a retry back at the head of its lane") {
  CallbackLanes lanes({4, 4, 8});
  lanes.Enqueue(One(Pending("a", "o1", "http://h/", "first")));
  lanes.Enqueue(One(Pending("a", "o1", "http://h/", "second")));
  auto turn = lanes.Take();
  REQUIRE(turn);
  lanes.EndAttempt(turn->lane);
  CHECK_FALSE(lanes.Take());  // waiting for its retry, the lane stays busy
  REQUIRE(lanes.Resume(turn->lane, std::move(turn->pending)));
  auto again = lanes.Take();
  REQUIRE(again);
  CHECK(again->pending.delivery.body == "first");
}

TEST_CASE("lanes: holds stay aside until taken back; Drop and Clear count what they drop") {
  CallbackLanes lanes({4, 4, 8});
  lanes.Hold(Pending("a", "o1", "http://h/", "held"));
  CHECK(lanes.Idle());
  CHECK_FALSE(lanes.CanTake());
  lanes.Enqueue(One(Pending("a", "o2", "http://h/")));
  lanes.Enqueue(One(Pending("b", "o3", "http://h/")));
  CHECK(lanes.Drop([](const PendingDelivery& p) { return p.delivery.account_id == "a"; }) == 2);
  CHECK(lanes.TakeHeld(Pending("a", "o1", "http://h/").delivery).empty());
  lanes.Hold(Pending("b", "o3", "http://h/", "held"));
  CHECK(lanes.TakeHeld(Pending("b", "o3", "http://h/").delivery).size() == 1);
  lanes.Hold(Pending("b", "o4", "http://h/", "held"));
  CHECK(lanes.Clear() == 2);
  CHECK(lanes.Idle());
}

TEST_CASE("lanes: a reserved lane holds its later deliveries until the resumed one went first") {
  CallbackLanes lanes({4, 4, 8});
  const PendingDelivery waiting = Pending("a", "o1", "http://h/cb", "retry");
  const std::string lane = lanes.Reserve(waiting.delivery);  // as a retry waiting after a restart
  lanes.Enqueue(One(Pending("a", "o1", "http://h/cb", "later")));
  CHECK_FALSE(lanes.Take());
  CHECK(lanes.Idle());  // nothing ready or in flight: an advance does not wait for it
  REQUIRE(lanes.Resume(lane, waiting));
  auto first = lanes.Take();
  REQUIRE(first);
  CHECK(first->pending.delivery.body == "retry");
  lanes.EndAttempt(first->lane);
  lanes.Release(first->lane);
  auto second = lanes.Take();
  REQUIRE(second);
  CHECK(second->pending.delivery.body == "later");
}
