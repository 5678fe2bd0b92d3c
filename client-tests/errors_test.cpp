// Every row of docs/wire-contract.md's error table and every kind of bad input,
// seen from a client: the status, the envelope the SDKs read, and that the
// bad request changed nothing.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccount = "/api/accounts/9900000";

// Two ordinary accounts, one without the CSR feature, one rate limited.
const std::string kAccountsYaml = R"(accounts:
  - id: "1001"
    users: [{username: alice, password: alice-pw}]
  - id: "2002"
    users: [{username: bob, password: bob-pw}]
  - id: "3003"
    csr_enabled: false
    users: [{username: carol, password: carol-pw}]
  - id: "4004"
    users: [{username: dave, password: dave-pw}]
    rate_limit: {requests: 2, per: 1s}
)";

std::vector<std::string> ConfiguredArgs() {
  return {"--clock", "manual",   "--log-level",
          "off",     "--config", WriteFile(MakeTempDir(), "accounts.yaml", kAccountsYaml)};
}

// The shape C#, PHP and Python read from a non-2xx body (docs/wire-contract.md, Error shapes): the
// endpoint's root, then ResponseStatus with ErrorCode and Description.
void CheckResponseStatus(const httplib::Result& response, int status, const std::string& root,
                         const std::string& code) {
  REQUIRE(response);
  INFO(response->body);
  CHECK(response->status == status);
  CHECK(response->get_header_value("Content-Type").find("application/xml") == 0);
  CHECK(XmlRoot(response->body) == root);
  CHECK(response->body.find("<" + root + "><ResponseStatus><ErrorCode>") != std::string::npos);
  CHECK(XmlText(response->body, "ErrorCode") == code);
  CHECK_FALSE(XmlText(response->body, "Description").value_or("").empty());
}

// A 400 on a /csrs route: <CsrOrderResponse><Errors><Error><Code/><Description/>.
void CheckCsrValidation(const httplib::Result& response, const std::string& code, const std::string& description_part) {
  REQUIRE(response);
  INFO(response->body);
  CHECK(response->status == 400);
  CHECK(XmlRoot(response->body) == "CsrOrderResponse");
  CHECK(response->body.find("<CsrOrderResponse><Errors><Error><Code>") != std::string::npos);
  CHECK(XmlText(response->body, "Code") == code);
  CHECK(XmlText(response->body, "Description").value_or("").find(description_part) != std::string::npos);
}

void CheckUnauthorized(const httplib::Result& response) {
  REQUIRE(response);
  CHECK(response->status == 401);
  CHECK(response->body.empty());
  CHECK(response->get_header_value("WWW-Authenticate").rfind("Basic realm=", 0) == 0);
}

std::string OrderCount(httplib::Client& api, const std::string& account = kAccount) {
  auto listed = api.Get((account + "/csrs").c_str());
  REQUIRE(listed);
  REQUIRE(listed->status == 200);
  return XmlText(listed->body, "TotalCount").value_or("?");
}

std::string CreateOrder(httplib::Client& api, const std::string& account = kAccount) {
  auto created = api.Post((account + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

std::string Repeat(char c, std::size_t n) { return std::string(n, c); }

std::string CsrWith(const std::string& fields) {
  return "<Csr><WorkingOrBillingTelephoneNumber>9195550100</WorkingOrBillingTelephoneNumber>" + fields + "</Csr>";
}

}  // namespace

TEST_CASE("missing wrong or malformed credentials get 401 with WWW-Authenticate and an empty body") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto anonymous = sim.Client("");
  CheckUnauthorized(anonymous->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml"));
  CheckUnauthorized(anonymous->Get((kAccount + "/subscriptions").c_str()));
  for (const std::string& authorization :
       {BasicAuthorization("username", "wrong"), BasicAuthorization("nobody", "password"),
        std::string("Basic !!!not-base64!!!"), std::string("Basic"), std::string("Basic dXNlcm5hbWU="),
        std::string("Bearer unknown-token"), std::string("Digest username=\"username\"")}) {
    INFO("Authorization: " << authorization);
    auto client = sim.Client(authorization);
    CheckUnauthorized(client->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml"));
    CheckUnauthorized(client->Get((kAccount + "/csrs").c_str()));
  }
  CHECK(OrderCount(*sim.Client()) == "0");
}

TEST_CASE("a user of one account gets 403 1001 Access Denied on another account") {
  SimulatorProcess sim(ConfiguredArgs());
  auto alice = sim.Client(BasicAuthorization("alice", "alice-pw"));
  auto bob = sim.Client(BasicAuthorization("bob", "bob-pw"));
  CreateOrder(*bob, "/api/accounts/2002");

  auto create = alice->Post("/api/accounts/2002/csrs", kGuideCsrBody, "application/xml");
  CheckResponseStatus(create, 403, "CsrResponse", "1001");
  CHECK(XmlText(create->body, "Description") == "Access Denied");
  CheckResponseStatus(alice->Get("/api/accounts/2002/csrs"), 403, "CsrResponse", "1001");
  CheckResponseStatus(alice->Get("/api/accounts/2002/subscriptions"), 403, "SubscriptionsResponse", "1001");
  // An account that is not in the file is someone else's too.
  CheckResponseStatus(alice->Get("/api/accounts/7777777/csrs"), 403, "CsrResponse", "1001");
  CHECK(OrderCount(*bob, "/api/accounts/2002") == "1");
}

TEST_CASE("an account without the CSR feature gets 403 12160 naming the account") {
  SimulatorProcess sim(ConfiguredArgs());
  auto carol = sim.Client(BasicAuthorization("carol", "carol-pw"));
  auto create = carol->Post("/api/accounts/3003/csrs", kGuideCsrBody, "application/xml");
  CheckResponseStatus(create, 403, "CsrResponse", "12160");
  CHECK(XmlText(create->body, "Description") ==
        "The operation could not be performed because Account 3003 does not have the CSR feature enabled.");
  CheckResponseStatus(carol->Get("/api/accounts/3003/csrs"), 403, "CsrResponse", "12160");
}

TEST_CASE("orders subscriptions and notes of one account are 404 and unlisted in another") {
  SimulatorProcess sim(ConfiguredArgs());
  auto alice = sim.Client(BasicAuthorization("alice", "alice-pw"));
  auto bob = sim.Client(BasicAuthorization("bob", "bob-pw"));
  const std::string order_id = CreateOrder(*alice, "/api/accounts/1001");
  auto note = alice->Post(("/api/accounts/1001/csrs/" + order_id + "/notes").c_str(),
                          "<Note><UserId>alice</UserId><Description>mine</Description></Note>", "application/xml");
  REQUIRE(note);
  REQUIRE(note->status == 201);
  auto subscribed = alice->Post("/api/accounts/1001/subscriptions",
                                SubscriptionRequest("http://127.0.0.1:9/alice").Xml(), "application/xml");
  REQUIRE(subscribed);
  REQUIRE(subscribed->status == 201);
  const std::string subscription_id = LocationId(subscribed);

  const std::string bobs = "/api/accounts/2002";
  CheckResponseStatus(bob->Get((bobs + "/csrs/" + order_id).c_str()), 404, "CsrResponse", "12002");
  CheckResponseStatus(
      bob->Put((bobs + "/csrs/" + order_id).c_str(), "<Csr><Status>REQUESTED_CANCEL</Status></Csr>", "application/xml"),
      404, "CsrResponse", "12002");
  CheckResponseStatus(bob->Get((bobs + "/csrs/" + order_id + "/notes").c_str()), 404, "NoteResponse", "12002");
  CheckResponseStatus(bob->Get((bobs + "/subscriptions/" + subscription_id).c_str()), 404, "SubscriptionsResponse",
                      "16000");
  CheckResponseStatus(bob->Delete((bobs + "/subscriptions/" + subscription_id).c_str()), 404, "SubscriptionsResponse",
                      "16000");
  CHECK(OrderCount(*bob, bobs) == "0");
  auto bobs_subscriptions = bob->Get((bobs + "/subscriptions").c_str());
  REQUIRE(bobs_subscriptions);
  CHECK(bobs_subscriptions->body.find("<Subscriptions/>") != std::string::npos);

  // Alice's data survived Bob's attempts.
  auto order = alice->Get(("/api/accounts/1001/csrs/" + order_id).c_str());
  REQUIRE(order);
  CHECK(order->status == 200);
  CHECK(XmlText(order->body, "Status") == "RECEIVED");
  CHECK(alice->Get(("/api/accounts/1001/subscriptions/" + subscription_id).c_str())->status == 200);
}

TEST_CASE("orders of one account are 404 in another account in open mode too") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string order_id = CreateOrder(*api, "/api/accounts/1");
  CheckResponseStatus(api->Get(("/api/accounts/2/csrs/" + order_id).c_str()), 404, "CsrResponse", "12002");
  CHECK(OrderCount(*api, "/api/accounts/2") == "0");
}

TEST_CASE("unknown or malformed ids get 404 with the endpoint's root and code") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string unknown_uuid = "0b9e8d7c-6a5b-4c3d-8e2f-1a0b9c8d7e6f";

  auto order = api->Get((kAccount + "/csrs/" + unknown_uuid).c_str());
  CheckResponseStatus(order, 404, "CsrResponse", "12002");
  CHECK(XmlText(order->body, "Description") == "The resource does not exist");
  CheckResponseStatus(api->Get((kAccount + "/csrs/not-a-uuid").c_str()), 404, "CsrResponse", "12002");
  CheckResponseStatus(api->Put((kAccount + "/csrs/" + unknown_uuid).c_str(), kGuideCsrBody, "application/xml"), 404,
                      "CsrResponse", "12002");

  auto subscription = api->Get((kAccount + "/subscriptions/" + unknown_uuid).c_str());
  CheckResponseStatus(subscription, 404, "SubscriptionsResponse", "16000");
  CHECK(XmlText(subscription->body, "Description") ==
        "Subscription " + unknown_uuid + " not found for accountId 9900000");
  CheckResponseStatus(api->Put((kAccount + "/subscriptions/" + unknown_uuid).c_str(),
                               SubscriptionRequest("http://127.0.0.1:9/x").Xml(), "application/xml"),
                      404, "SubscriptionsResponse", "16000");
  CheckResponseStatus(api->Delete((kAccount + "/subscriptions/not-a-uuid").c_str()), 404, "SubscriptionsResponse",
                      "16000");

  const std::string order_id = CreateOrder(*api);
  const std::string notes = kAccount + "/csrs/" + order_id + "/notes";
  const std::string note_body = "<Note><UserId>customer</UserId><Description>x</Description></Note>";
  auto note = api->Put((notes + "/424242").c_str(), note_body, "application/xml");
  CheckResponseStatus(note, 404, "NoteResponse", "5040");
  CHECK(XmlText(note->body, "Description") == "Note not found.");
  CheckResponseStatus(api->Put((notes + "/not-a-number").c_str(), note_body, "application/xml"), 404, "NoteResponse",
                      "5040");
  CheckResponseStatus(api->Post((kAccount + "/csrs/" + unknown_uuid + "/notes").c_str(), note_body, "application/xml"),
                      404, "NoteResponse", "12002");
  CHECK(api->Get(notes.c_str())->status == 204);  // the failed note calls added nothing
}

TEST_CASE("each CSR field constraint is a 400 naming the field and nothing is created") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  struct Case {
    std::string body;
    std::string code;
    std::string description_part;
  };
  const std::vector<Case> cases = {
      {"<Csr><CustomerOrderId>x</CustomerOrderId></Csr>", "1003", "WorkingOrBillingTelephoneNumber is required"},
      {"<Csr><WorkingOrBillingTelephoneNumber></WorkingOrBillingTelephoneNumber></Csr>", "1003",
       "WorkingOrBillingTelephoneNumber is required"},
      {"<Csr><WorkingOrBillingTelephoneNumber>919867530</WorkingOrBillingTelephoneNumber></Csr>", "5070",
       "WorkingOrBillingTelephoneNumber"},
      {"<Csr><WorkingOrBillingTelephoneNumber>919867530X</WorkingOrBillingTelephoneNumber></Csr>", "5070",
       "Telephone number is invalid"},
      {"<Csr><WorkingOrBillingTelephoneNumber>+29198675309</WorkingOrBillingTelephoneNumber></Csr>", "5070",
       "Telephone number is invalid"},
      {CsrWith("<CustomerOrderId>" + Repeat('a', 41) + "</CustomerOrderId>"), "1011",
       "CustomerOrderId is too long. Max length 40 characters"},
      {CsrWith("<CustomerOrderId>my_id</CustomerOrderId>"), "1010", "CustomerOrderId"},
      {CsrWith("<AccountNumber>" + Repeat('1', 21) + "</AccountNumber>"), "1011", "AccountNumber"},
      {CsrWith("<AccountNumber>12-34</AccountNumber>"), "1010", "AccountNumber"},
      {CsrWith("<AccountTelephoneNumber>" + Repeat('1', 11) + "</AccountTelephoneNumber>"), "1011",
       "AccountTelephoneNumber"},
      {CsrWith("<EndUserName>" + Repeat('n', 101) + "</EndUserName>"), "1011", "EndUserName"},
      {CsrWith("<AuthorizingUserName>" + Repeat('n', 101) + "</AuthorizingUserName>"), "1011", "AuthorizingUserName"},
      {CsrWith("<CustomerCode>12a</CustomerCode>"), "1010", "CustomerCode"},
      {CsrWith("<CustomerCode>1234</CustomerCode>"), "1011", "CustomerCode"},
      {CsrWith("<EndUserPIN>12 34</EndUserPIN>"), "1010", "EndUserPIN"},
      {CsrWith("<EndUserPIN>" + Repeat('1', 51) + "</EndUserPIN>"), "1011", "EndUserPIN"},
      {CsrWith("<EndUserPassword>pa$$word</EndUserPassword>"), "1010", "EndUserPassword"},
      {CsrWith("<EndUserPassword>" + Repeat('p', 101) + "</EndUserPassword>"), "1011", "EndUserPassword"},
      {CsrWith("<AddressLine1>" + Repeat('a', 201) + "</AddressLine1>"), "1011", "AddressLine1"},
      {CsrWith("<City>" + Repeat('c', 101) + "</City>"), "1011", "City"},
      {CsrWith("<State>N</State>"), "1010", "State"},
      {CsrWith("<State>N1</State>"), "1010", "State"},
      {CsrWith("<State>NCA</State>"), "1011", "State"},
      {CsrWith("<ZIPCode>27707_1234</ZIPCode>"), "1010", "ZIPCode"},
      {CsrWith("<ZIPCode>27707-12345</ZIPCode>"), "1011", "ZIPCode"},
      {CsrWith("<TypeOfService>residential1</TypeOfService>"), "1010", "TypeOfService"},
      {CsrWith("<TypeOfService>" + Repeat('r', 51) + "</TypeOfService>"), "1011", "TypeOfService"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    CheckCsrValidation(api->Post((kAccount + "/csrs").c_str(), c.body, "application/xml"), c.code, c.description_part);
  }
  CHECK(OrderCount(*api) == "0");
}

TEST_CASE("values at each CSR field's limit are accepted") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  auto created = api->Post(
      (kAccount + "/csrs").c_str(),
      CsrWith("<CustomerOrderId>" + Repeat('a', 38) + " -</CustomerOrderId><AccountNumber>" + Repeat('1', 20) +
              "</AccountNumber><AccountTelephoneNumber>9195550100</AccountTelephoneNumber><CustomerCode>123"
              "</CustomerCode><EndUserPIN>" +
              Repeat('9', 50) +
              "</EndUserPIN><State>nc</State><ZIPCode>27707-1234</ZIPCode>"
              "<TypeOfService>residential</TypeOfService>"),
      "application/xml");
  REQUIRE(created);
  INFO(created->body);
  CHECK(created->status == 200);
  CHECK(OrderCount(*api) == "1");
}

TEST_CASE("a CSR with several invalid fields lists every violation") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  auto response = api->Post((kAccount + "/csrs").c_str(),
                            "<Csr><WorkingOrBillingTelephoneNumber>123</WorkingOrBillingTelephoneNumber>"
                            "<State>North Carolina</State><CustomerCode>abcd</CustomerCode></Csr>",
                            "application/xml");
  REQUIRE(response);
  INFO(response->body);
  CHECK(response->status == 400);
  CHECK(XmlCount(response->body, "Error") >= 3);
  for (const char* field : {"WorkingOrBillingTelephoneNumber", "State", "CustomerCode"}) {
    CHECK(response->body.find(field) != std::string::npos);
  }
  CHECK(OrderCount(*api) == "0");
}

TEST_CASE("malformed XML a wrong root and an empty body are 400 in each endpoint's envelope") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string order_id = CreateOrder(*api);
  auto before = api->Get((kAccount + "/csrs/" + order_id).c_str());
  REQUIRE(before);

  for (const std::string& path : {kAccount + "/csrs", kAccount + "/csrs/" + order_id}) {
    INFO(path);
    auto send = [&](const std::string& body) {
      return path.find(order_id) == std::string::npos ? api->Post(path.c_str(), body, "application/xml")
                                                      : api->Put(path.c_str(), body, "application/xml");
    };
    CheckCsrValidation(send("<Csr><WorkingOrBillingTelephoneNumber>9198675309</Csr>"), "1002", "well-formed");
    CheckCsrValidation(send("not xml at all"), "1002", "well-formed");
    CheckCsrValidation(send("<Order><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber>"
                            "</Order>"),
                       "1002", "Expected root element");
    CheckCsrValidation(send(""), "1003", "Request body is required");
    CheckCsrValidation(send("  \n "), "1003", "Request body is required");
  }

  const std::string notes = kAccount + "/csrs/" + order_id + "/notes";
  CheckResponseStatus(api->Post(notes.c_str(), "<Note><UserId>x</Note>", "application/xml"), 400, "NoteResponse",
                      "1002");
  CheckResponseStatus(api->Post(notes.c_str(), "<Csr/>", "application/xml"), 400, "NoteResponse", "1002");
  CheckResponseStatus(api->Post(notes.c_str(), "", "application/xml"), 400, "NoteResponse", "1003");

  const std::string subscriptions = kAccount + "/subscriptions";
  CheckResponseStatus(api->Post(subscriptions.c_str(), "<Subscription><OrderType>csrs", "application/xml"), 400,
                      "SubscriptionsResponse", "1002");
  CheckResponseStatus(api->Post(subscriptions.c_str(), "<Csr/>", "application/xml"), 400, "SubscriptionsResponse",
                      "1002");
  CheckResponseStatus(api->Post(subscriptions.c_str(), "", "application/xml"), 400, "SubscriptionsResponse", "1003");

  // Nothing changed: one order, as it was, no notes, no subscriptions.
  CHECK(OrderCount(*api) == "1");
  auto after = api->Get((kAccount + "/csrs/" + order_id).c_str());
  REQUIRE(after);
  CHECK(after->body == before->body);
  CHECK(api->Get(notes.c_str())->status == 204);
  CHECK(api->Get(subscriptions.c_str())->body.find("<Subscriptions/>") != std::string::npos);
}

TEST_CASE("note validation answers 400 NoteResponse with 12501 or 1011") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string notes = kAccount + "/csrs/" + CreateOrder(*api) + "/notes";
  auto no_user = api->Post(notes.c_str(), "<Note><Description>Test</Description></Note>", "application/xml");
  CheckResponseStatus(no_user, 400, "NoteResponse", "12501");
  CHECK(XmlText(no_user->body, "Description") == "Username is required");
  CheckResponseStatus(
      api->Post(notes.c_str(), "<Note><UserId>u</UserId><Description>" + Repeat('d', 501) + "</Description></Note>",
                "application/xml"),
      400, "NoteResponse", "1011");
  auto at_limit =
      api->Post(notes.c_str(), "<Note><UserId>u</UserId><Description>" + Repeat('d', 500) + "</Description></Note>",
                "application/xml");
  REQUIRE(at_limit);
  CHECK(at_limit->status == 201);
  CHECK(XmlCount(api->Get(notes.c_str())->body, "Note") == 1);
}

TEST_CASE("subscription validation answers 400 SubscriptionsResponse with codes 14500 to 14508") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string subscriptions = kAccount + "/subscriptions";
  struct Case {
    std::string body;
    std::string code;
  };
  const std::string callback = "<CallbackSubscription><URL>http://127.0.0.1:9/cb</URL></CallbackSubscription>";
  const std::vector<Case> cases = {
      {"<Subscription><OrderType>csr</OrderType>" + callback + "</Subscription>", "14500"},
      {"<Subscription>" + callback + "</Subscription>", "14508"},
      {"<Subscription><OrderType>csrs</OrderType></Subscription>", "14501"},
      {"<Subscription><OrderType>csrs</OrderType><EmailSubscription><Email>a@example.com</Email>"
       "<DigestRequested>HOURLY</DigestRequested></EmailSubscription></Subscription>",
       "14502"},
      {"<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL></URL></CallbackSubscription>"
       "</Subscription>",
       "14503"},
      {"<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>http://127.0.0.1:9/cb</URL>"
       "<CallbackCredentials><PublicKey>!!! not base64 !!!</PublicKey></CallbackCredentials>"
       "</CallbackSubscription></Subscription>",
       "14504"},
      {"<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>http://127.0.0.1:9/cb</URL>"
       "<CallbackCredentials><BasicAuthentication><Username>u</Username></BasicAuthentication>"
       "</CallbackCredentials></CallbackSubscription></Subscription>",
       "14505"},
      {"<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>ftp://example.com/cb</URL>"
       "</CallbackSubscription></Subscription>",
       "14506"},
      {"<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>not a url</URL>"
       "</CallbackSubscription></Subscription>",
       "14506"},
      {"<Subscription><EventType>MESSAGING_FOUND</EventType>" + callback + "</Subscription>", "14507"},
      {"<Subscription><OrderType>csrs</OrderType><OrderId>not-a-uuid</OrderId>" + callback + "</Subscription>", "1008"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    CheckResponseStatus(api->Post(subscriptions.c_str(), c.body, "application/xml"), 400, "SubscriptionsResponse",
                        c.code);
  }
  CHECK(api->Get(subscriptions.c_str())->body.find("<Subscriptions/>") != std::string::npos);
}

TEST_CASE("a duplicate subscription is 409 16008 and the first one stays alone") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string subscriptions = kAccount + "/subscriptions";
  const std::string body = SubscriptionRequest("http://127.0.0.1:9/cb").Xml();
  auto first = api->Post(subscriptions.c_str(), body, "application/xml");
  REQUIRE(first);
  REQUIRE(first->status == 201);
  CheckResponseStatus(api->Post(subscriptions.c_str(), body, "application/xml"), 409, "SubscriptionsResponse", "16008");
  // Same target with other credentials is still the same subscription.
  CheckResponseStatus(
      api->Post(subscriptions.c_str(), SubscriptionRequest("http://127.0.0.1:9/cb").WithCredentials("x", "y").Xml(),
                "application/xml"),
      409, "SubscriptionsResponse", "16008");
  // A second csrs subscription with another URL is allowed.
  auto other =
      api->Post(subscriptions.c_str(), SubscriptionRequest("http://127.0.0.1:9/other").Xml(), "application/xml");
  REQUIRE(other);
  CHECK(other->status == 201);
  CHECK(XmlCount(api->Get(subscriptions.c_str())->body, "Subscription") == 2);
}

TEST_CASE("a body over --max-body-bytes is 413 with ResponseStatus and creates nothing") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--max-body-bytes", "2048"});
  auto api = sim.Client();
  const std::string oversize = CsrWith("<EndUserName>" + Repeat('n', 4096) + "</EndUserName>");
  CheckResponseStatus(api->Post((kAccount + "/csrs").c_str(), oversize, "application/xml"), 413, "CsrResponse", "1011");
  CheckResponseStatus(api->Post((kAccount + "/subscriptions").c_str(),
                                "<Subscription>" + Repeat(' ', 4096) + "</Subscription>", "application/xml"),
                      413, "SubscriptionsResponse", "1011");
  CHECK(OrderCount(*api) == "0");
}

TEST_CASE("a body over the default 1 MiB limit is 413") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string oversize = CsrWith("<EndUserName>" + Repeat('n', 1024 * 1024) + "</EndUserName>");
  CheckResponseStatus(api->Post((kAccount + "/csrs").c_str(), oversize, "application/xml"), 413, "CsrResponse", "1011");
  CHECK(OrderCount(*api) == "0");
}

TEST_CASE("a PUT on a COMPLETE order is 400 12165 and leaves the order as it was") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  const std::string order = kAccount + "/csrs/" + CreateOrder(*api);
  REQUIRE(AdvanceClock(sim, "3s"));
  auto before = api->Get(order.c_str());
  REQUIRE(before);
  REQUIRE(XmlText(before->body, "Status") == "COMPLETE");

  auto update = api->Put(order.c_str(), "<Csr><EndUserPIN>1234</EndUserPIN></Csr>", "application/xml");
  CheckCsrValidation(update, "12165", "COMPLETE");
  CheckCsrValidation(api->Put(order.c_str(), "<Csr><Status>REQUESTED_CANCEL</Status></Csr>", "application/xml"),
                     "12165", "COMPLETE");
  auto after = api->Get(order.c_str());
  REQUIRE(after);
  CHECK(after->body == before->body);
}

TEST_CASE("a rate-limited account gets 429 with X-RateLimit-Reset until the window passes") {
  SimulatorProcess sim(ConfiguredArgs());
  auto dave = sim.Client(BasicAuthorization("dave", "dave-pw"));
  const std::string csrs = "/api/accounts/4004/csrs";
  REQUIRE(dave->Post(csrs.c_str(), kGuideCsrBody, "application/xml")->status == 200);
  REQUIRE(dave->Get(csrs.c_str())->status == 200);

  auto limited = dave->Post(csrs.c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(limited->body.empty());
  const std::string reset = limited->get_header_value("X-RateLimit-Reset");
  REQUIRE_FALSE(reset.empty());
  CHECK(reset.find_first_not_of("0123456789") == std::string::npos);
  auto clock = sim.Client("")->Get("/_sim/clock");
  REQUIRE(clock);
  const auto now_seconds = nlohmann::json::parse(clock->body).at("epoch_ms").get<long long>() / 1000;
  CHECK(std::stoll(reset) > now_seconds);
  CHECK(std::stoll(reset) <= now_seconds + 1);

  // Other accounts are not limited.
  auto alice = sim.Client(BasicAuthorization("alice", "alice-pw"));
  for (int i = 0; i < 4; ++i) CHECK(alice->Get("/api/accounts/1001/csrs")->status == 200);

  REQUIRE(AdvanceClock(sim, "1s"));
  auto listed = dave->Get(csrs.c_str());
  REQUIRE(listed);
  CHECK(listed->status == 200);
  CHECK(XmlText(listed->body, "TotalCount") == "1");  // the limited POST created nothing
}

TEST_CASE("a TN ending in 0503 makes POST /csrs answer 503 and creates nothing") {
  SimulatorProcess sim({"--log-level", "off"});
  auto api = sim.Client();
  auto refused = api->Post((kAccount + "/csrs").c_str(),
                           "<Csr><WorkingOrBillingTelephoneNumber>9195550503</WorkingOrBillingTelephoneNumber></Csr>",
                           "application/xml");
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->body.empty());
  auto list = api->Get((kAccount + "/csrs").c_str());
  REQUIRE(list);
  CHECK(XmlText(list->body, "TotalCount") == "0");
}
