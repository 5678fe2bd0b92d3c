// From a downstream system's side: each magic number of the default
// scenarios, callbacks to real local receivers (failing, dead, challenging),
// and scenario files as a user writes them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccount = "/api/accounts/9900000";

std::vector<std::string> ManualClock(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--clock", "manual", "--log-level", "off"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string CreateOrder(httplib::Client& api, const std::string& tn) {
  auto created = api.Post((kAccount + "/csrs").c_str(),
                          "<Csr><CustomerOrderId>cb-test</CustomerOrderId><WorkingOrBillingTelephoneNumber>" + tn +
                              "</WorkingOrBillingTelephoneNumber></Csr>",
                          "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

std::string Subscribe(httplib::Client& api, const SubscriptionRequest& request) {
  auto created = api.Post((kAccount + "/subscriptions").c_str(), request.Xml(), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  return LocationId(created);
}

// The subscription's CallbackSubscription/Status: the last delivery's outcome.
std::string SubscriptionStatus(httplib::Client& api, const std::string& subscription_id) {
  auto fetched = api.Get((kAccount + "/subscriptions/" + subscription_id).c_str());
  REQUIRE(fetched);
  REQUIRE(fetched->status == 200);
  return XmlText(fetched->body, "Status").value_or("");
}

std::vector<std::string> Statuses(const std::vector<CallbackReceiver::Received>& requests) {
  std::vector<std::string> statuses;
  for (const auto& request : requests) statuses.push_back(XmlText(request.body, "Status").value_or("?"));
  return statuses;
}

std::string ScenariosDir() { return std::string(CSRSIM_SOURCE_DIR) + "/scenarios"; }

}  // namespace

TEST_CASE("a TN ending in 0000 fails with a 26500 callback and a 200 GET carrying the error") {
  SimulatorProcess sim(ManualClock());
  CallbackReceiver receiver;
  auto api = sim.Client();
  Subscribe(*api, SubscriptionRequest(receiver.Url()));
  const std::string order_id = CreateOrder(*api, "9195550000");

  REQUIRE(AdvanceClock(sim, "2s"));
  REQUIRE(receiver.WaitForCount(1));
  auto requests = receiver.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(XmlText(requests[0].body, "Status") == "FAILED");
  CHECK(XmlText(requests[0].body, "Message") == "26500: CSR is not available for this TN");
  CHECK(XmlText(requests[0].body, "OrderId") == order_id);

  auto fetched = api->Get((kAccount + "/csrs/" + order_id).c_str());
  REQUIRE(fetched);
  CHECK(fetched->status == 200);
  CHECK(XmlText(fetched->body, "Status") == "FAILED");
  CHECK(fetched->body.find("<Errors><Error><Code>26500</Code><Description>CSR is not available for this TN"
                           "</Description></Error></Errors>") != std::string::npos);
  CHECK(XmlText(fetched->body, "WorkingTelephoneNumber") == "9195550000");
  CHECK_FALSE(XmlText(fetched->body, "CustomerName"));
}

TEST_CASE("a TN ending in 0001 waits in ACTION_REQUIRED until a PUT brings the EndUserPIN") {
  SimulatorProcess sim(ManualClock());
  CallbackReceiver receiver;
  auto api = sim.Client();
  Subscribe(*api, SubscriptionRequest(receiver.Url()));
  const std::string order = kAccount + "/csrs/" + CreateOrder(*api, "9195550001");

  REQUIRE(AdvanceClock(sim, "2s"));
  REQUIRE(receiver.WaitForCount(1));
  CHECK(XmlText(receiver.Requests()[0].body, "Status") == "ACTION_REQUIRED");
  CHECK(XmlText(receiver.Requests()[0].body, "Message") == "End user PIN is required");
  CHECK(XmlText(api->Get(order.c_str())->body, "Status") == "ACTION_REQUIRED");

  // Time alone does not move it, nor a PUT without the PIN.
  REQUIRE(AdvanceClock(sim, "1m"));
  auto without_pin = api->Put(order.c_str(), "<Csr><CustomerCode>123</CustomerCode></Csr>", "application/xml");
  REQUIRE(without_pin);
  CHECK(without_pin->status == 200);
  CHECK(XmlText(without_pin->body, "Status") == "ACTION_REQUIRED");
  CHECK(XmlText(without_pin->body, "CustomerCode") == "123");
  CHECK(receiver.Requests().size() == 1);

  auto with_pin = api->Put(order.c_str(), "<Csr><EndUserPIN>1234</EndUserPIN></Csr>", "application/xml");
  REQUIRE(with_pin);
  CHECK(with_pin->status == 200);
  CHECK(XmlRoot(with_pin->body) == "CsrResponse");
  CHECK(XmlText(with_pin->body, "Status") == "PROCESSING");
  CHECK(XmlText(with_pin->body, "EndUserPIN") == "1234");

  REQUIRE(AdvanceClock(sim, "2s"));
  REQUIRE(receiver.WaitForCount(2));
  // PROCESSING is silent by default (docs/scenarios.md): the subscriber sees
  // ACTION_REQUIRED then COMPLETE, in that order.
  CHECK(Statuses(receiver.Requests()) == std::vector<std::string>{"ACTION_REQUIRED", "COMPLETE"});
  auto completed = api->Get(order.c_str());
  REQUIRE(completed);
  CHECK(XmlText(completed->body, "Status") == "COMPLETE");
  CHECK_FALSE(XmlText(completed->body, "CustomerName").value_or("").empty());
  CHECK(XmlText(completed->body, "EndUserPIN") == "1234");
  CHECK(XmlText(completed->body, "CustomerCode") == "123");
}

TEST_CASE("a PUT with REQUESTED_CANCEL ends the order in CANCELLED with a callback") {
  SimulatorProcess sim(ManualClock());
  CallbackReceiver receiver;
  auto api = sim.Client();
  Subscribe(*api, SubscriptionRequest(receiver.Url()));
  const std::string order = kAccount + "/csrs/" + CreateOrder(*api, "9195550002");
  REQUIRE(AdvanceClock(sim, "1s"));
  CHECK(XmlText(api->Get(order.c_str())->body, "Status") == "PROCESSING");

  auto cancelled = api->Put(order.c_str(), "<Csr><Status>REQUESTED_CANCEL</Status></Csr>", "application/xml");
  REQUIRE(cancelled);
  CHECK(cancelled->status == 200);
  CHECK(XmlText(cancelled->body, "Status") == "CANCELLED");
  REQUIRE(AdvanceClock(sim, "0s"));
  REQUIRE(receiver.WaitForCount(1));
  CHECK(Statuses(receiver.Requests()) == std::vector<std::string>{"CANCELLED"});

  auto again = api->Put(order.c_str(), "<Csr><Status>REQUESTED_CANCEL</Status></Csr>", "application/xml");
  REQUIRE(again);
  CHECK(again->status == 400);
  CHECK(XmlText(again->body, "Code") == "12165");
}

TEST_CASE("an order-id subscription receives that order's callbacks only") {
  SimulatorProcess sim(ManualClock());
  CallbackReceiver receiver;
  auto api = sim.Client();
  const std::string watched = CreateOrder(*api, "9195550100");
  const std::string other = CreateOrder(*api, "9195550101");
  const std::string subscription_id = Subscribe(*api, SubscriptionRequest(receiver.Url()).ForOrder(watched));

  REQUIRE(AdvanceClock(sim, "3s"));
  REQUIRE(receiver.WaitForCount(1));
  auto requests = receiver.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(XmlText(requests[0].body, "OrderId") == watched);
  CHECK(XmlText(requests[0].body, "SubscriptionId") == subscription_id);
  CHECK(XmlText(requests[0].body, "Status") == "COMPLETE");
  CHECK(XmlText(api->Get((kAccount + "/csrs/" + other).c_str())->body, "Status") == "COMPLETE");
}

TEST_CASE("an expired subscription receives nothing while a live one does") {
  SimulatorProcess sim(ManualClock());
  CallbackReceiver expired_receiver;
  CallbackReceiver live_receiver;
  auto api = sim.Client();
  const std::string expired = Subscribe(*api, SubscriptionRequest(expired_receiver.Url()).WithExpiry(1));
  Subscribe(*api, SubscriptionRequest(live_receiver.Url()));
  CreateOrder(*api, "9195550100");

  REQUIRE(AdvanceClock(sim, "2s"));  // the subscription expired at 1 s; the order is PROCESSING
  auto listed = api->Get((kAccount + "/subscriptions/" + expired).c_str());
  REQUIRE(listed);
  CHECK(listed->status == 200);  // still listed
  CHECK(XmlText(listed->body, "Expiry") == "0");

  REQUIRE(AdvanceClock(sim, "1s"));  // COMPLETE
  REQUIRE(live_receiver.WaitForCount(1));
  CHECK(expired_receiver.Requests().empty());
  CHECK(SubscriptionStatus(*api, expired) == "READY");
}

TEST_CASE("a receiver answering 500 and one not listening are recorded and harm no other subscriber") {
  SimulatorProcess sim(ManualClock());
  CallbackReceiver failing;
  failing.SetStatus(500);
  CallbackReceiver healthy;
  std::string dead_url;
  {
    CallbackReceiver gone;  // bound, then closed: nothing listens on its port
    dead_url = gone.Url();
  }
  auto api = sim.Client();
  const std::string failing_id = Subscribe(*api, SubscriptionRequest(failing.Url()));
  const std::string dead_id = Subscribe(*api, SubscriptionRequest(dead_url));
  const std::string healthy_id = Subscribe(*api, SubscriptionRequest(healthy.Url()));
  const std::string first = CreateOrder(*api, "9195550100");
  const std::string second = CreateOrder(*api, "9195550000");

  REQUIRE(AdvanceClock(sim, "3s"));
  REQUIRE(healthy.WaitForCount(2));
  REQUIRE(failing.WaitForCount(2));
  std::vector<std::string> healthy_orders;
  for (const auto& request : healthy.Requests()) {
    healthy_orders.push_back(XmlText(request.body, "OrderId").value_or(""));
  }
  CHECK_THAT(healthy_orders, Catch::Matchers::UnorderedEquals(std::vector<std::string>{first, second}));
  CHECK(failing.Requests().size() == 2);  // no retry by default

  CHECK(SubscriptionStatus(*api, healthy_id) == "200 OK");
  CHECK(SubscriptionStatus(*api, failing_id) == "500 Internal Server Error");
  const std::string dead_status = SubscriptionStatus(*api, dead_id);
  INFO(dead_status);
  CHECK(dead_status != "READY");
  CHECK(dead_status.rfind("2", 0) == std::string::npos);
  CHECK_FALSE(dead_status.empty());

  // The API still answers and the journal has every attempt.
  auto journal = sim.Client("")->Get(("/_sim/callbacks?orderId=" + first).c_str());
  REQUIRE(journal);
  CHECK(journal->status == 200);
  CHECK(journal->body.find(dead_id) != std::string::npos);
  CHECK(journal->body.find(failing_id) != std::string::npos);
  CHECK(XmlText(api->Get((kAccount + "/csrs/" + first).c_str())->body, "Status") == "COMPLETE");
}

TEST_CASE("challenge callback auth posts without credentials first and again with them after a 401") {
  SimulatorProcess sim(ManualClock({"--callback-auth", "challenge"}));
  CallbackReceiver receiver;
  receiver.SetResponder([](const httplib::Request& request, httplib::Response& response) {
    if (request.has_header("Authorization")) {
      response.status = 200;
    } else {
      response.status = 401;
      response.set_header("WWW-Authenticate", "Basic realm=\"callbacks\"");
    }
  });
  auto api = sim.Client();
  const std::string subscription_id =
      Subscribe(*api, SubscriptionRequest(receiver.Url()).WithCredentials("challenged", "pw123"));
  CreateOrder(*api, "9198675309");

  REQUIRE(AdvanceClock(sim, "3s"));
  REQUIRE(receiver.WaitForCount(2));
  auto requests = receiver.Requests();
  REQUIRE(requests.size() == 2);
  CHECK_FALSE(requests[0].Header("Authorization"));
  CHECK(requests[1].Header("Authorization") == BasicAuthorization("challenged", "pw123"));
  CHECK(requests[0].body == requests[1].body);
  CHECK(XmlText(requests[1].body, "Status") == "COMPLETE");
  CHECK(SubscriptionStatus(*api, subscription_id) == "200 OK");
}

TEST_CASE("preemptive callback auth sends the credentials with the only request") {
  SimulatorProcess sim(ManualClock());
  CallbackReceiver receiver;
  auto api = sim.Client();
  Subscribe(*api, SubscriptionRequest(receiver.Url()).WithCredentials("upfront", "pw456"));
  CreateOrder(*api, "9198675309");
  REQUIRE(AdvanceClock(sim, "3s"));
  REQUIRE(receiver.WaitForCount(1));
  REQUIRE(receiver.Requests().size() == 1);
  CHECK(receiver.Requests()[0].Header("Authorization") == BasicAuthorization("upfront", "pw456"));
}

TEST_CASE("adding a note fires a callback carrying the note") {
  SimulatorProcess sim(ManualClock());
  CallbackReceiver receiver;
  auto api = sim.Client();
  Subscribe(*api, SubscriptionRequest(receiver.Url()));
  const std::string order_id = CreateOrder(*api, "9195550002");
  auto added =
      api->Post((kAccount + "/csrs/" + order_id + "/notes").c_str(),
                "<Note><UserId>customer</UserId><Description>Please hurry</Description></Note>", "application/xml");
  REQUIRE(added);
  REQUIRE(added->status == 201);
  REQUIRE(AdvanceClock(sim, "0s"));
  REQUIRE(receiver.WaitForCount(1));
  auto requests = receiver.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(XmlRoot(requests[0].body) == "Notification");
  CHECK(XmlText(requests[0].body, "Note") == "Please hurry");
  CHECK(XmlText(requests[0].body, "OrderId") == order_id);
  CHECK(XmlText(requests[0].body, "OrderType") == "csrs");
  CHECK(XmlText(requests[0].body, "CustomerOrderId") == "cb-test");
}

TEST_CASE("validate accepts the bundled scenarios and points at the line of a broken file") {
  auto bundled = RunBinary({"validate", ScenariosDir(), ScenariosDir() + "/examples"});
  INFO(bundled.out << bundled.err);
  CHECK(bundled.exit_code == 0);
  CHECK(bundled.out.find("ok") != std::string::npos);

  const std::string broken = WriteFile(MakeTempDir(), "broken.yaml",
                                       "scenarios:\n"
                                       "  - name: slow\n"
                                       "    steps:\n"
                                       "      - after: soon\n"
                                       "        status: COMPLETE\n");
  auto result = RunBinary({"validate", broken});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 1);
  CHECK(result.err.find(broken + ":4:16:") != std::string::npos);
  CHECK(result.err.find("soon") != std::string::npos);

  auto mixed = RunBinary({"validate", ScenariosDir(), broken});
  CHECK(mixed.exit_code == 1);
}

TEST_CASE("a custom scenarios file changes what an order does") {
  const std::string file = WriteFile(MakeTempDir(), "mine.yaml",
                                     "scenarios:\n"
                                     "  - name: carrier-down\n"
                                     "    match: { tn_prefix: \"212\" }\n"
                                     "    steps:\n"
                                     "      - after: 5s\n"
                                     "        status: FAILED\n"
                                     "        errors: [{ code: 26501, description: Carrier is unreachable }]\n"
                                     "  - name: instant\n"
                                     "    steps:\n"
                                     "      - after: 0s\n"
                                     "        status: COMPLETE\n"
                                     "        csr: { CustomerName: Custom Co }\n");
  SimulatorProcess sim(ManualClock({"--scenarios", file}));
  CallbackReceiver receiver;
  auto api = sim.Client();
  Subscribe(*api, SubscriptionRequest(receiver.Url()));
  const std::string down = CreateOrder(*api, "2125550100");
  const std::string instant = CreateOrder(*api, "9198675309");  // House of Mouse in the default file

  REQUIRE(AdvanceClock(sim, "0s"));
  auto completed = api->Get((kAccount + "/csrs/" + instant).c_str());
  REQUIRE(completed);
  CHECK(XmlText(completed->body, "Status") == "COMPLETE");
  CHECK(XmlText(completed->body, "CustomerName") == "Custom Co");
  CHECK(XmlText(api->Get((kAccount + "/csrs/" + down).c_str())->body, "Status") == "RECEIVED");

  REQUIRE(AdvanceClock(sim, "5s"));
  auto failed = api->Get((kAccount + "/csrs/" + down).c_str());
  REQUIRE(failed);
  CHECK(XmlText(failed->body, "Status") == "FAILED");
  CHECK(XmlText(failed->body, "Code") == "26501");
  REQUIRE(receiver.WaitForCount(2));
  CHECK(Statuses(receiver.Requests()) == std::vector<std::string>{"COMPLETE", "FAILED"});
  CHECK(XmlText(receiver.Requests()[1].body, "Message") == "26501: Carrier is unreachable");
}

TEST_CASE("a broken scenarios file stops start-up with exit 2 and file line and column") {
  const std::string broken = WriteFile(MakeTempDir(), "typo.yaml",
                                       "scenarios:\n"
                                       "  - name: typo\n"
                                       "    steps:\n"
                                       "      - afterr: 1s\n"
                                       "        status: COMPLETE\n");
  auto result = RunBinary({"--port", "0", "--host", "127.0.0.1", "--scenarios", broken});
  INFO(result.out << result.err);
  CHECK(result.exit_code == 2);
  CHECK(result.err.find(broken + ":4:9:") != std::string::npos);
  CHECK(result.err.find("afterr") != std::string::npos);
  CHECK(result.out.find("listening") == std::string::npos);
}
