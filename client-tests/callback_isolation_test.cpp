// Callback isolation from a downstream system's side: receivers that accept
// TCP connections but never answer cost only their own deliveries.
#include <catch2/catch.hpp>

#include <fstream>
#include <future>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ports.hpp"
#include "support.hpp"

using namespace csrsim::testing;
using namespace std::chrono_literals;

namespace {

std::string CreateOrder(httplib::Client& api, const std::string& account) {
  auto created = api.Post(("/api/accounts/" + account + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

void Subscribe(httplib::Client& api, const std::string& account, const std::string& url) {
  auto created = api.Post(("/api/accounts/" + account + "/subscriptions").c_str(), SubscriptionRequest(url).Xml(),
                          "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 201);
}

nlohmann::json JournalOf(const SimulatorProcess& sim, const std::string& account) {
  auto listed = sim.Client("")->Get(("/_sim/callbacks?account=" + account).c_str());
  REQUIRE(listed);
  REQUIRE(listed->status == 200);
  return nlohmann::json::parse(listed->body)["entries"];
}

}  // namespace

TEST_CASE("8 receivers on one host that accept but never answer hold back only their own account") {
  const std::string dead_account = "9900001";
  const std::string healthy_account = "9900000";
  // Dead attempts outlive the test: they end when the ports close, not by time-out.
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--callback-timeout", "60s"});
  std::vector<std::unique_ptr<DeadPort>> dead;
  for (int i = 0; i < 8; ++i) dead.push_back(std::make_unique<DeadPort>());
  CallbackReceiver healthy;

  auto api = sim.Client();
  for (const auto& port : dead) Subscribe(*api, dead_account, port->Url());
  Subscribe(*api, healthy_account, healthy.Url());
  // 8 orders x 8 dead receivers: far more hanging deliveries than callback workers.
  for (int i = 0; i < 8; ++i) CreateOrder(*api, dead_account);
  std::vector<std::string> healthy_orders;
  for (int i = 0; i < 4; ++i) healthy_orders.push_back(CreateOrder(*api, healthy_account));

  // The advance settles only once every attempt at 3 s (COMPLETE) ended, so
  // it runs on its own thread until the dead ports close.
  std::future<bool> advanced = std::async(std::launch::async, [&sim] { return AdvanceClock(sim, "3s"); });

  // Every healthy COMPLETE callback arrives while the dead ones still hang.
  REQUIRE(healthy.WaitForCount(healthy_orders.size()));
  for (const auto& order_id : healthy_orders) {  // journaled once the answer is read
    auto waited = sim.Client("")->Get(("/_sim/callbacks/wait?timeout=10s&orderId=" + order_id).c_str());
    REQUIRE(waited);
    CHECK(waited->status == 200);
  }
  CHECK(JournalOf(sim, healthy_account).size() == healthy_orders.size());
  CHECK(JournalOf(sim, dead_account).empty());
  CHECK(advanced.wait_for(0s) == std::future_status::timeout);

  for (auto& port : dead) port->Close();
  REQUIRE(advanced.get());
  auto entries = JournalOf(sim, dead_account);
  CHECK(entries.size() == 64);
  for (const auto& entry : entries) CHECK_FALSE(entry["succeeded"].get<bool>());
}

TEST_CASE("a callback URL the dispatcher could not deliver to is refused at create with 14506") {
  SimulatorProcess sim({"--log-level", "off"});
  auto api = sim.Client();
  auto created = api->Post("/api/accounts/9900000/subscriptions", SubscriptionRequest("http://[::1]:/cb").Xml(),
                           "application/xml");
  REQUIRE(created);
  CHECK(created->status == 400);
  CHECK(XmlText(created->body, "ErrorCode") == "14506");
}

TEST_CASE("a callback URL pointing at the simulator's own listener is refused with 14506, state intact") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string order_id = CreateOrder(*api, "9900000");
  const std::string port = std::to_string(sim.port());
  for (const char* host :
       {"127.0.0.1", "localhost", "LocalHost.", "127.1", "2130706433", "[::1]", "[::ffff:127.0.0.1]", "0.0.0.0"}) {
    for (const char* path : {"/_sim/reset", "/%5Fsim/reset", "/api/accounts/9900000/csrs"}) {
      const std::string url = std::string("http://") + host + ":" + port + path;
      INFO(url);
      auto created =
          api->Post("/api/accounts/9900000/subscriptions", SubscriptionRequest(url).Xml(), "application/xml");
      REQUIRE(created);
      CHECK(created->status == 400);
      CHECK(XmlText(created->body, "ErrorCode") == "14506");
    }
  }
  // Neither a subscription nor a reset happened: the order is still there, alone.
  auto listed = api->Get("/api/accounts/9900000/subscriptions");
  REQUIRE(listed);
  CHECK(XmlCount(listed->body, "Subscription") == 0);
  REQUIRE(AdvanceClock(sim, "3s"));
  auto order = api->Get(("/api/accounts/9900000/csrs/" + order_id).c_str());
  REQUIRE(order);
  CHECK(order->status == 200);
}

TEST_CASE("SIGTERM with callbacks and steps pending logs one line with the counts and removes the port file") {
  const std::string port_file = MakeTempDir() + "/port";
  SimulatorProcess sim({"--clock", "manual", "--log-level", "warn", "--port-file", port_file});
  CallbackReceiver receiver;
  auto api = sim.Client();
  Subscribe(*api, "9900000", receiver.Url());
  for (int i = 0; i < 3; ++i) CreateOrder(*api, "9900000");
  // The COMPLETE callbacks wait an hour of simulated time; two later orders' steps stay pending.
  auto fault = sim.Client("")->Post("/_sim/faults", R"({"target":"callback","fault":"delay","delay":"1h","count":3})",
                                    "application/json");
  REQUIRE(fault);
  REQUIRE(fault->status == 201);
  REQUIRE(AdvanceClock(sim, "3s"));
  CHECK(receiver.Requests().empty());
  for (int i = 0; i < 2; ++i) CreateOrder(*api, "9900000");

  CHECK(sim.Stop() == 0);
  const std::string err = sim.Stderr();
  INFO(err);
  CHECK(err.find(" warn shutdown signal=SIGTERM dropped_callbacks=3 callbacks_queued=0 callbacks_on_clock=3 "
                 "dropped_steps=2 ") != std::string::npos);
  CHECK_FALSE(std::ifstream(port_file).good());
}
