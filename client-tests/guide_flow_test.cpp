// The public CSR guide's flow, end to end against the real binary: a
// downstream system subscribes, orders, receives the callback and fetches the
// result; plus the list, notes and subscription calls around it.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccount = "/api/accounts/9900000";

// Creates an order for `tn` under `account` and returns its id.
std::string CreateOrder(httplib::Client& api, const std::string& tn, const std::string& account = kAccount) {
  auto created = api.Post((account + "/csrs").c_str(), CsrBody(tn), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  auto order_id = XmlText(created->body, "OrderId");
  REQUIRE(order_id);
  return *order_id;
}

std::string CreateSubscription(httplib::Client& api, const SubscriptionRequest& request) {
  auto created = api.Post((kAccount + "/subscriptions").c_str(), request.Xml(), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  return LocationId(created);
}

}  // namespace

TEST_CASE("the guide's order completes with House of Mouse data after the clock moves 3 s") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  auto created = api->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(created);
  CHECK(created->status == 200);
  CHECK(XmlText(created->body, "Status") == "RECEIVED");
  auto order_id = XmlText(created->body, "OrderId");
  REQUIRE(order_id);
  CHECK(created->get_header_value("Location").find(kAccount + "/csrs/" + *order_id) != std::string::npos);

  REQUIRE(AdvanceClock(sim, "3s"));

  auto fetched = api->Get((kAccount + "/csrs/" + *order_id).c_str());
  REQUIRE(fetched);
  CHECK(fetched->status == 200);
  CHECK(XmlText(fetched->body, "Status") == "COMPLETE");
  CHECK(XmlText(fetched->body, "CustomerName") == "House of Mouse");
  CHECK(XmlText(fetched->body, "UnparsedAddress") == "1234 Main ST Durham NC 27707");
  CHECK(XmlText(fetched->body, "CustomerOrderId") == "MyId5");
}

TEST_CASE("the guide's whole flow delivers a COMPLETE notification with the subscription's credentials") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  CallbackReceiver receiver;
  auto api = sim.Client();
  const std::string subscription_id =
      CreateSubscription(*api, SubscriptionRequest(receiver.Url()).WithCredentials("guide-cb", "s3cret"));
  REQUIRE_FALSE(subscription_id.empty());

  auto created = api->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  const std::string order_id = XmlText(created->body, "OrderId").value_or("");

  REQUIRE(AdvanceClock(sim, "3s"));
  REQUIRE(receiver.WaitForCount(1));
  auto requests = receiver.Requests();
  REQUIRE(requests.size() == 1);  // PROCESSING is silent; COMPLETE is notified once
  const auto& callback = requests.front();
  CHECK(callback.method == "POST");
  CHECK(callback.path == "/callbacks");
  CHECK(callback.Header("Authorization") == BasicAuthorization("guide-cb", "s3cret"));
  CHECK(callback.Header("Content-Type").value_or("").find("application/xml") == 0);
  CHECK(XmlRoot(callback.body) == "Notification");
  CHECK(XmlText(callback.body, "Status") == "COMPLETE");
  CHECK(XmlText(callback.body, "SubscriptionId") == subscription_id);
  CHECK(XmlText(callback.body, "OrderId") == order_id);
  CHECK(XmlText(callback.body, "OrderType") == "csrs");
  CHECK(XmlText(callback.body, "CustomerOrderId") == "MyId5");
  CHECK(XmlText(callback.body, "Message") == "The CSR request is complete.");

  auto fetched = api->Get((kAccount + "/csrs/" + order_id).c_str());
  REQUIRE(fetched);
  CHECK(fetched->status == 200);
  CHECK(XmlText(fetched->body, "CustomerName") == "House of Mouse");
  CHECK(XmlText(fetched->body, "WorkingTelephoneNumber") == "9198675309");
}

TEST_CASE("every accepted path prefix creates and reads orders and Location echoes the prefix") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  for (const char* prefix : {"", "/api", "/api/v1", "/api/v2", "/v1.0", "/api/v1.0"}) {
    INFO("prefix '" << prefix << "'");
    const std::string account = std::string(prefix) + "/accounts/9900000";
    auto created = api->Post((account + "/csrs").c_str(), kGuideCsrBody, "application/xml");
    REQUIRE(created);
    CHECK(created->status == 200);
    const std::string order_id = XmlText(created->body, "OrderId").value_or("");
    REQUIRE_FALSE(order_id.empty());
    CHECK(created->get_header_value("Location") == sim.BaseUrl() + account + "/csrs/" + order_id);

    auto fetched = api->Get((account + "/csrs/" + order_id).c_str());
    REQUIRE(fetched);
    CHECK(fetched->status == 200);
    CHECK(XmlText(fetched->body, "OrderId") == order_id);
    CHECK(XmlText(fetched->body, "AccountId") == "9900000");
  }
  // One store behind all prefixes: the list holds all six orders.
  auto listed = api->Get("/accounts/9900000/csrs");
  REQUIRE(listed);
  CHECK(XmlText(listed->body, "TotalCount") == "6");
}

TEST_CASE("an unknown path prefix is not a Bandwidth route") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto response = sim.Client()->Post("/api/v3/accounts/9900000/csrs", kGuideCsrBody, "application/xml");
  REQUIRE(response);
  CHECK(response->status == 404);
}

TEST_CASE("the order list filters by status and modification date and pages with Links") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  CreateOrder(*api, "9195550100");  // generated-complete
  CreateOrder(*api, "9195550101");  // generated-complete
  CreateOrder(*api, "9195550002");  // never-completes: stays PROCESSING
  REQUIRE(AdvanceClock(sim, "3s"));

  auto complete = api->Get((kAccount + "/csrs?status=COMPLETE").c_str());
  REQUIRE(complete);
  CHECK(complete->status == 200);
  CHECK(XmlRoot(complete->body) == "CsrResponses");
  CHECK(XmlText(complete->body, "TotalCount") == "2");
  CHECK(XmlCount(complete->body, "CsrResponse") == 2);

  auto processing = api->Get((kAccount + "/csrs?status=PROCESSING").c_str());
  REQUIRE(processing);
  CHECK(XmlText(processing->body, "TotalCount") == "1");
  CHECK(XmlText(processing->body, "WorkingOrBillingTelephoneNumber") == "9195550002");

  auto first_page = api->Get((kAccount + "/csrs?page=1&size=2").c_str());
  REQUIRE(first_page);
  CHECK(XmlText(first_page->body, "TotalCount") == "3");
  CHECK(XmlCount(first_page->body, "CsrResponse") == 2);
  const std::string list_url = sim.BaseUrl() + kAccount + "/csrs";
  CHECK(XmlText(first_page->body, "first") == "Link=&lt;" + list_url + "?page=1&amp;size=2&gt;;rel=\"first\";");
  CHECK(XmlText(first_page->body, "next").value_or("").find("page=2&amp;size=2") != std::string::npos);

  auto last_page = api->Get((kAccount + "/csrs?page=2&size=2").c_str());
  REQUIRE(last_page);
  CHECK(XmlCount(last_page->body, "CsrResponse") == 1);
  CHECK_FALSE(XmlText(last_page->body, "next"));

  REQUIRE(AdvanceClock(sim, "10s"));
  const std::string late_id = CreateOrder(*api, "9195550102");
  auto late = api->Get((kAccount + "/csrs/" + late_id).c_str());
  REQUIRE(late);
  const std::string late_modified = XmlText(late->body, "LastModifiedDate").value_or("");
  REQUIRE_FALSE(late_modified.empty());
  auto since = api->Get((kAccount + "/csrs?modifiedDateFrom=" + late_modified).c_str());
  REQUIRE(since);
  CHECK(XmlText(since->body, "TotalCount") == "1");
  CHECK(XmlText(since->body, "OrderId") == late_id);
  auto before = api->Get((kAccount + "/csrs?modifiedDateTo=" + late_modified).c_str());
  REQUIRE(before);
  CHECK(XmlText(before->body, "TotalCount").value_or("") != "0");
}

TEST_CASE("notes answer 204 when empty then 201 with a numeric id and update with PUT or Java's POST") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string order_id = CreateOrder(*api, "9198675309");
  const std::string notes = kAccount + "/csrs/" + order_id + "/notes";

  auto empty = api->Get(notes.c_str());
  REQUIRE(empty);
  CHECK(empty->status == 204);
  CHECK(empty->body.empty());

  auto added = api->Post(notes.c_str(), "<Note><UserId>customer</UserId><Description>Test</Description></Note>",
                         "application/xml");
  REQUIRE(added);
  CHECK(added->status == 201);
  CHECK(added->body.empty());
  const std::string note_id = LocationId(added);
  REQUIRE_FALSE(note_id.empty());
  CHECK(note_id.find_first_not_of("0123456789") == std::string::npos);
  CHECK(added->get_header_value("Location") == sim.BaseUrl() + notes + "/" + note_id);

  auto listed = api->Get(notes.c_str());
  REQUIRE(listed);
  CHECK(listed->status == 200);
  CHECK(XmlRoot(listed->body) == "Notes");
  CHECK(XmlCount(listed->body, "Note") == 1);
  CHECK(XmlText(listed->body, "Id") == note_id);
  CHECK(XmlText(listed->body, "UserId") == "customer");
  CHECK(XmlText(listed->body, "Description") == "Test");
  CHECK(XmlText(listed->body, "LastDateModifier").value_or("").size() == 24);  // 2014-11-20T07:08:47.000Z

  auto put = api->Put((notes + "/" + note_id).c_str(),
                      "<Note><UserId>customer</UserId><Description>Edited</Description></Note>", "application/xml");
  REQUIRE(put);
  CHECK(put->status == 200);
  CHECK(put->body.empty());
  CHECK(XmlText(api->Get(notes.c_str())->body, "Description") == "Edited");

  auto java_update =
      api->Post((notes + "/" + note_id).c_str(),
                "<Note><UserId>customer</UserId><Description>Java edit</Description></Note>", "application/xml");
  REQUIRE(java_update);
  CHECK(java_update->status == 200);
  auto after = api->Get(notes.c_str());
  REQUIRE(after);
  CHECK(XmlCount(after->body, "Note") == 1);  // updated in place, not added
  CHECK(XmlText(after->body, "Description") == "Java edit");
}

TEST_CASE("subscriptions list get replace and delete with Bandwidth's exact nesting") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string subscriptions = kAccount + "/subscriptions";

  auto empty = api->Get(subscriptions.c_str());
  REQUIRE(empty);
  CHECK(empty->status == 200);
  CHECK(empty->body.find("<SubscriptionsResponse><Subscriptions/></SubscriptionsResponse>") != std::string::npos);

  const std::string account_wide =
      CreateSubscription(*api, SubscriptionRequest("http://127.0.0.1:9/account").WithExpiry(3600));
  const std::string order_id = CreateOrder(*api, "9195550002");
  const std::string for_order =
      CreateSubscription(*api, SubscriptionRequest("http://127.0.0.1:9/order").ForOrder(order_id));

  auto one = api->Get((subscriptions + "/" + account_wide).c_str());
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(one->body.find("<SubscriptionsResponse><Subscriptions><Subscription><SubscriptionId>" + account_wide +
                       "</SubscriptionId>") != std::string::npos);
  CHECK(XmlCount(one->body, "Subscription") == 1);
  CHECK(XmlText(one->body, "OrderType") == "csrs");
  CHECK(XmlText(one->body, "URL") == "http://127.0.0.1:9/account");
  CHECK(XmlText(one->body, "Expiry") == "3600");
  CHECK(XmlText(one->body, "Status") == "READY");
  CHECK(XmlText(one->body, "Username") == "cb-user");
  CHECK_FALSE(XmlText(one->body, "Password"));
  CHECK(one->body.find("cb-pass") == std::string::npos);

  auto all = api->Get(subscriptions.c_str());
  REQUIRE(all);
  CHECK(XmlCount(all->body, "Subscription") == 2);
  CHECK(all->body.find("cb-pass") == std::string::npos);
  auto csrs = api->Get((subscriptions + "?orderType=csrs").c_str());
  REQUIRE(csrs);
  CHECK(XmlCount(csrs->body, "Subscription") == 2);
  auto portins = api->Get((subscriptions + "?orderType=portins").c_str());
  REQUIRE(portins);
  CHECK(portins->body.find("<Subscriptions/>") != std::string::npos);
  auto by_order = api->Get((subscriptions + "?orderId=" + order_id).c_str());
  REQUIRE(by_order);
  CHECK(XmlCount(by_order->body, "Subscription") == 1);
  CHECK(XmlText(by_order->body, "SubscriptionId") == for_order);

  REQUIRE(AdvanceClock(sim, "100s"));
  CHECK(XmlText(api->Get((subscriptions + "/" + account_wide).c_str())->body, "Expiry") == "3500");

  // Full replace: Expiry and credentials left out are reset, not kept.
  auto replaced =
      api->Put((subscriptions + "/" + account_wide).c_str(),
               SubscriptionRequest("http://127.0.0.1:9/replaced").WithCredentials("", "").Xml(), "application/xml");
  REQUIRE(replaced);
  CHECK(replaced->status == 200);
  CHECK(replaced->body.empty());
  auto after_replace = api->Get((subscriptions + "/" + account_wide).c_str());
  REQUIRE(after_replace);
  CHECK(XmlText(after_replace->body, "URL") == "http://127.0.0.1:9/replaced");
  CHECK(XmlText(after_replace->body, "Expiry") == "86400");
  CHECK_FALSE(XmlText(after_replace->body, "Username"));

  auto deleted = api->Delete((subscriptions + "/" + account_wide).c_str());
  REQUIRE(deleted);
  CHECK(deleted->status == 200);
  CHECK(deleted->body.empty());
  auto gone = api->Get((subscriptions + "/" + account_wide).c_str());
  REQUIRE(gone);
  CHECK(gone->status == 404);
  CHECK(XmlText(gone->body, "ErrorCode") == "16000");
  CHECK(XmlCount(api->Get(subscriptions.c_str())->body, "Subscription") == 1);
}

TEST_CASE("the simulator exits 0 on SIGTERM") {
  SimulatorProcess sim({"--log-level", "off"});
  CHECK(sim.Stop() == 0);
}
