// The requests the Java, C#, Ruby, PHP and Python SDKs
// put on the wire, sent byte for byte, and the error bodies read the way
// those SDKs read them. Sources (Bandwidth's public repositories):
//   Java   java-bandwidth-iris  src/main/java/com/bandwidth/iris/sdk/model/Csr.java ("AccountId ",
//          "WorkingOrBillingTelephoneNumber ", "endUserPassword"; UpdateNote = POST notes/{id}),
//          .../model/Note.java, .../model/Subscription.java, .../model/CallbackSubscription.java,
//          .../sdk/utils/XmlUtils.java (JAXB, JAXB_FORMATTED_OUTPUT: prolog with standalone,
//          4-space indent), .../sdk/IrisClient.java (Apache DefaultHttpClient with a credentials
//          provider: Basic after a 401 challenge; path /v1.0/accounts/...; put() sends no entity).
//   C#     csharp-bandwidth-iris  Bandwidth.Iris/Model/Csr.cs ([XmlElement("accountId")], property
//          order), Model/Note.cs, Model/Subscription.cs, Client.cs (XmlSerializer into a UTF-8
//          StringWriter: utf-8 prolog, xmlns:xsi/xmlns:xsd, 2-space indent; Content-Type
//          application/xml; charset=utf-8; base path /v1.0/; UpdateNote = PUT; CheckResponse
//          reads ErrorCode/Description, else Error/Code, else Errors).
//   Ruby   ruby-bandwidth-iris  lib/bandwidth-iris/client.rb (Faraday, Accept: application/xml,
//          basic_auth, /v1.0 prefix, ActiveSupport Hash#to_xml with indent 0, keys camelized),
//          lib/bandwidth-iris/csr.rb, lib/bandwidth-iris/subscription.rb.
//   PHP    php-bandwidth-iris  core/Client.php (Guzzle, SimpleXMLElement("<?xml version=\"1.0\"?>
//          <Root></Root>") + addChild, asXML()), src/simpleModels/Csr.php; base URL .../api/.
//   Python python-bandwidth-iris  iris_sdk/utils/rest.py (requests with content-type
//          application/xml; on a non-2xx body it reads root[0][0] and root[0][1], i.e.
//          ResponseStatus/ErrorCode and Description); base URL .../api/. The body shape
//          (ElementTree, no prolog) follows the SDK's serializer and was not checked byte for byte.
//          It has no CSR or note model: only its subscription and error handling are the SDK's.
// Request shapes are written from each SDK's source; none of these SDKs was run here (the
// Node SDK is: client-tests/node-sdk).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccountId = "9900000";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// What one SDK sends for the five calls. "{URL}" in a body stands for the
// callback receiver's URL.
struct SdkRequests {
  std::string sdk;
  std::string prefix;        // before /accounts
  httplib::Headers headers;  // besides Authorization
  std::string content_type;
  std::string create_subscription;
  std::string create_csr;  // for TN 9195550001 (ACTION_REQUIRED until a PIN arrives)
  std::string update_csr;  // carries the EndUserPIN
  std::string add_note;
  std::string update_note;
  std::string note_update_method;             // PUT, or POST for Java
  std::map<std::string, std::string> echoed;  // fields the final GET must show
};

httplib::Result Send(httplib::Client& client, const std::string& method, const std::string& path,
                     const httplib::Headers& headers, const std::string& body, const std::string& content_type) {
  if (method == "POST") return client.Post(path.c_str(), headers, body, content_type.c_str());
  if (method == "PUT") return client.Put(path.c_str(), headers, body, content_type.c_str());
  return client.Get(path.c_str(), headers);
}

// The SDK's calls in the order a user makes them: subscribe, create, wait for
// ACTION_REQUIRED, update with the PIN, add and edit a note, see COMPLETE.
void RunSdkFlow(const SdkRequests& sdk) {
  INFO(sdk.sdk);
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  CallbackReceiver receiver;
  auto client = sim.Client();
  const std::string account = sdk.prefix + "/accounts/" + kAccountId;

  auto subscribed = Send(*client, "POST", account + "/subscriptions", sdk.headers,
                         Replace(sdk.create_subscription, "{URL}", receiver.Url()), sdk.content_type);
  REQUIRE(subscribed);
  INFO(subscribed->body);
  REQUIRE(subscribed->status == 201);
  const std::string subscription_id = LocationId(subscribed);
  CHECK(subscribed->get_header_value("Location") == sim.BaseUrl() + account + "/subscriptions/" + subscription_id);
  auto subscription = Send(*client, "GET", account + "/subscriptions/" + subscription_id, sdk.headers, "", "");
  REQUIRE(subscription);
  CHECK(subscription->status == 200);
  CHECK(XmlText(subscription->body, "URL") == receiver.Url());

  auto created = Send(*client, "POST", account + "/csrs", sdk.headers, sdk.create_csr, sdk.content_type);
  REQUIRE(created);
  INFO(created->body);
  REQUIRE(created->status == 200);
  CHECK(XmlText(created->body, "Status") == "RECEIVED");
  const std::string order_id = XmlText(created->body, "OrderId").value_or("");
  const std::string order = account + "/csrs/" + order_id;
  CHECK(created->get_header_value("Location") == sim.BaseUrl() + order);

  REQUIRE(AdvanceClock(sim, "2s"));
  REQUIRE(receiver.WaitForCount(1));
  CHECK(XmlText(receiver.Requests()[0].body, "Status") == "ACTION_REQUIRED");

  auto updated = Send(*client, "PUT", order, sdk.headers, sdk.update_csr, sdk.content_type);
  REQUIRE(updated);
  INFO(updated->body);
  CHECK(updated->status == 200);
  CHECK(XmlRoot(updated->body) == "CsrResponse");
  CHECK(XmlText(updated->body, "Status") == "PROCESSING");
  CHECK(XmlText(updated->body, "EndUserPIN") == "1234");

  auto noted = Send(*client, "POST", order + "/notes", sdk.headers, sdk.add_note, sdk.content_type);
  REQUIRE(noted);
  CHECK(noted->status == 201);
  const std::string note_id = LocationId(noted);
  REQUIRE(receiver.WaitForCount(2));  // the note's callback
  CHECK(XmlText(receiver.Requests()[1].body, "Note") == "First note");
  auto edited = Send(*client, sdk.note_update_method, order + "/notes/" + note_id, sdk.headers, sdk.update_note,
                     sdk.content_type);
  REQUIRE(edited);
  CHECK(edited->status == 200);
  auto notes = Send(*client, "GET", order + "/notes", sdk.headers, "", "");
  REQUIRE(notes);
  CHECK(XmlCount(notes->body, "Note") == 1);
  CHECK(XmlText(notes->body, "Description") == "Edited note");

  REQUIRE(AdvanceClock(sim, "2s"));
  REQUIRE(receiver.WaitForCount(3));
  CHECK(XmlText(receiver.Requests()[2].body, "Status") == "COMPLETE");
  auto fetched = Send(*client, "GET", order, sdk.headers, "", "");
  REQUIRE(fetched);
  INFO(fetched->body);
  CHECK(fetched->status == 200);
  CHECK(XmlText(fetched->body, "Status") == "COMPLETE");
  CHECK(XmlText(fetched->body, "WorkingOrBillingTelephoneNumber") == "9195550001");
  for (const auto& [field, value] : sdk.echoed) CHECK(XmlText(fetched->body, field) == value);
}

// Python (rest.py) raises "root[0][0].text Iris error: root[0][1].text": the
// root's first child must hold ErrorCode then Description, nothing before.
// C#, PHP and Ruby take the first ErrorCode and Description anywhere.
void CheckReadableBySdks(const httplib::Result& response, int status, const std::string& root,
                         const std::string& code) {
  REQUIRE(response);
  INFO(response->body);
  CHECK(response->status == status);
  static const std::regex kShape(R"(^(<\?xml[^>]*\?>)?\s*<(\w+)><ResponseStatus><ErrorCode>(\d+)</ErrorCode>)"
                                 R"(<Description>([^<]+)</Description></ResponseStatus></\2>\s*$)");
  std::smatch match;
  REQUIRE(std::regex_match(response->body, match, kShape));
  CHECK(match[2] == root);
  CHECK(match[3] == code);
  CHECK(XmlText(response->body, "ErrorCode") == code);  // the C#/PHP/Ruby descendant search agrees
}

}  // namespace

TEST_CASE("the Java SDK's requests are answered like Bandwidth answers them") {
  SdkRequests java;
  java.sdk = "Java";
  java.prefix = "/v1.0";
  java.headers = {{"User-Agent", "Apache-HttpClient/4.5.13 (Java/17.0.8)"}};
  java.content_type = "application/xml";
  java.create_subscription =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<Subscription>\n"
      "    <OrderType>csrs</OrderType>\n"
      "    <CallbackSubscription>\n"
      "        <URL>{URL}</URL>\n"
      "        <Expiry>3600</Expiry>\n"
      "        <CallbackCredentials>\n"
      "            <BasicAuthentication>\n"
      "                <Username>java-cb</Username>\n"
      "                <Password>java-pw</Password>\n"
      "            </BasicAuthentication>\n"
      "        </CallbackCredentials>\n"
      "    </CallbackSubscription>\n"
      "</Subscription>\n";
  java.create_csr =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<Csr>\n"
      "    <AccountId >9900000</AccountId >\n"
      "    <CustomerOrderId>java-order-1</CustomerOrderId>\n"
      "    <WorkingOrBillingTelephoneNumber >9195550001</WorkingOrBillingTelephoneNumber >\n"
      "    <endUserPassword>secret123</endUserPassword>\n"
      "</Csr>\n";
  // What Csr.Replace would marshal (see the next test for what IrisClient.put really sends).
  java.update_csr =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<Csr>\n"
      "    <EndUserPIN>1234</EndUserPIN>\n"
      "</Csr>\n";
  java.add_note =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<Note>\n"
      "    <UserId>javauser</UserId>\n"
      "    <Description>First note</Description>\n"
      "</Note>\n";
  java.update_note =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<Note>\n"
      "    <UserId>javauser</UserId>\n"
      "    <Description>Edited note</Description>\n"
      "</Note>\n";
  java.note_update_method = "POST";
  java.echoed = {{"CustomerOrderId", "java-order-1"}, {"EndUserPassword", "secret123"}};
  RunSdkFlow(java);
}

TEST_CASE("the Java SDK's challenge-first Basic auth and its body-less PUT get clear answers") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  const std::string csrs = "/v1.0/accounts/" + kAccountId + "/csrs";
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Csr>\n"
      "    <WorkingOrBillingTelephoneNumber >9198675309</WorkingOrBillingTelephoneNumber >\n</Csr>\n";
  // Apache's DefaultHttpClient sends nothing until challenged.
  auto challenge = sim.Client("")->Post(csrs.c_str(), body, "application/xml");
  REQUIRE(challenge);
  CHECK(challenge->status == 401);
  CHECK(challenge->get_header_value("WWW-Authenticate").rfind("Basic ", 0) == 0);
  auto client = sim.Client();
  auto created = client->Post(csrs.c_str(), body, "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  const std::string order = csrs + "/" + XmlText(created->body, "OrderId").value_or("");

  // IrisClient.put(uri, data) builds an HttpPut without an entity: the update
  // arrives empty. The simulator says so instead of failing silently.
  auto empty_put = client->Put(order.c_str(), "", "application/xml");
  REQUIRE(empty_put);
  INFO(empty_put->body);
  CHECK(empty_put->status == 400);
  CHECK(XmlText(empty_put->body, "Code") == "1003");
  CHECK(XmlText(empty_put->body, "Description") == "Request body is required");
  CHECK(XmlText(client->Get(order.c_str())->body, "Status") == "RECEIVED");
}

TEST_CASE("the Java SDK's subscription get, modify, update keeps the stored callback password") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  CallbackReceiver receiver;
  auto client = sim.Client();
  const std::string subscriptions = "/v1.0/accounts/" + kAccountId + "/subscriptions";
  auto subscription_xml = [](const std::string& url, const std::string& credentials) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Subscription>\n"
           "    <OrderType>csrs</OrderType>\n    <CallbackSubscription>\n        <URL>" +
           url +
           "</URL>\n        <Expiry>3600</Expiry>\n        <CallbackCredentials>\n"
           "            <BasicAuthentication>\n" +
           credentials +
           "            </BasicAuthentication>\n        </CallbackCredentials>\n"
           "    </CallbackSubscription>\n</Subscription>\n";
  };
  auto created = client->Post(subscriptions.c_str(),
                              subscription_xml(receiver.Url("/old"),
                                               "                <Username>java-cb</Username>\n"
                                               "                <Password>java-pw</Password>\n"),
                              "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  const std::string subscription = subscriptions + "/" + LocationId(created);

  // Subscription.get() then update(): the GET carries the Username and never
  // the Password, so the PUT sends the Username alone.
  auto fetched = client->Get(subscription.c_str());
  REQUIRE(fetched);
  CHECK(XmlText(fetched->body, "Username") == "java-cb");
  CHECK(XmlCount(fetched->body, "Password") == 0);
  auto updated = client->Put(subscription.c_str(),
                             subscription_xml(receiver.Url("/new"), "                <Username>java-cb</Username>\n"),
                             "application/xml");
  REQUIRE(updated);
  INFO(updated->body);
  CHECK(updated->status == 200);

  // The callback goes to the new URL with the stored password.
  auto order = client->Post(("/v1.0/accounts/" + kAccountId + "/csrs").c_str(),
                            "<Csr><WorkingOrBillingTelephoneNumber>9195550000</WorkingOrBillingTelephoneNumber></Csr>",
                            "application/xml");
  REQUIRE(order);
  REQUIRE(order->status == 200);
  REQUIRE(AdvanceClock(sim, "2s"));
  REQUIRE(receiver.WaitForCount(1));
  const auto delivered = receiver.Requests().front();
  CHECK(delivered.path == "/new");
  CHECK(delivered.Header("Authorization") == BasicAuthorization("java-cb", "java-pw"));

  // A different Username still needs its Password.
  auto renamed = client->Put(
      subscription.c_str(),
      subscription_xml(receiver.Url("/new"), "                <Username>someone-else</Username>\n"), "application/xml");
  REQUIRE(renamed);
  CHECK(renamed->status == 400);
  CHECK(XmlText(renamed->body, "ErrorCode") == "14505");
}

TEST_CASE("the C# SDK's requests are answered like Bandwidth answers them") {
  const std::string prolog = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n";
  const std::string ns =
      " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"";
  SdkRequests csharp;
  csharp.sdk = "C#";
  csharp.prefix = "/v1.0";
  // Bandwidth.Iris/Client.cs: USER_AGENT = "csharp-bandwidth-iris-" + the assembly version
  // (Properties/AssemblyInfo.cs: 2.3.1, which Version.ToString() prints as 2.3.1.0).
  csharp.headers = {{"User-Agent", "csharp-bandwidth-iris-2.3.1.0"}};
  csharp.content_type = "application/xml; charset=utf-8";
  // CallbackSubscription has no credentials in the C# model; Expiry is an int.
  csharp.create_subscription = prolog + "<Subscription" + ns +
                               ">\r\n"
                               "  <OrderType>csrs</OrderType>\r\n"
                               "  <CallbackSubscription>\r\n"
                               "    <URL>{URL}</URL>\r\n"
                               "    <Expiry>86400</Expiry>\r\n"
                               "  </CallbackSubscription>\r\n"
                               "</Subscription>";
  csharp.create_csr = prolog + "<Csr" + ns +
                      ">\r\n"
                      "  <accountId>9900000</accountId>\r\n"
                      "  <CustomerOrderId>csharp-order-1</CustomerOrderId>\r\n"
                      "  <EndUserName>Mickey Mouse</EndUserName>\r\n"
                      "  <State>NC</State>\r\n"
                      "  <WorkingOrBillingTelephoneNumber>9195550001</WorkingOrBillingTelephoneNumber>\r\n"
                      "</Csr>";
  csharp.update_csr = prolog + "<Csr" + ns +
                      ">\r\n"
                      "  <EndUserPIN>1234</EndUserPIN>\r\n"
                      "</Csr>";
  csharp.add_note = prolog + "<Note" + ns +
                    ">\r\n"
                    "  <UserId>csharpuser</UserId>\r\n"
                    "  <Description>First note</Description>\r\n"
                    "</Note>";
  csharp.update_note = prolog + "<Note" + ns +
                       ">\r\n"
                       "  <UserId>csharpuser</UserId>\r\n"
                       "  <Description>Edited note</Description>\r\n"
                       "</Note>";
  csharp.note_update_method = "PUT";
  csharp.echoed = {{"CustomerOrderId", "csharp-order-1"}, {"EndUserName", "Mickey Mouse"}, {"State", "NC"}};
  RunSdkFlow(csharp);
}

TEST_CASE("the Ruby SDK's requests are answered like Bandwidth answers them") {
  const std::string prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
  SdkRequests ruby;
  ruby.sdk = "Ruby";
  ruby.prefix = "/v1.0";
  // lib/bandwidth-iris/client.rb sets both on its Faraday connection.
  ruby.headers = {{"Accept", "application/xml"}, {"User-Agent", "Ruby-Bandwidth-Iris"}};
  ruby.content_type = "application/xml";
  ruby.create_subscription = prolog +
                             "<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>{URL}</URL>"
                             "<Expiry>3600</Expiry><CallbackCredentials><BasicAuthentication><Username>ruby-cb"
                             "</Username><Password>ruby-pw</Password></BasicAuthentication></CallbackCredentials>"
                             "</CallbackSubscription></Subscription>";
  ruby.create_csr = prolog +
                    "<Csr><CustomerOrderId>ruby-order-1</CustomerOrderId>"
                    "<WorkingOrBillingTelephoneNumber>9195550001</WorkingOrBillingTelephoneNumber></Csr>";
  // {:csr => {:end_user_pin => "1234"}}: Ruby camelizes the symbol to
  // <EndUserPin>; names match case-insensitively, so it resumes the order.
  ruby.update_csr = prolog + "<Csr><EndUserPin>1234</EndUserPin></Csr>";
  ruby.add_note = prolog + "<Note><UserId>rubyuser</UserId><Description>First note</Description></Note>";
  ruby.update_note = prolog + "<Note><UserId>rubyuser</UserId><Description>Edited note</Description></Note>";
  ruby.note_update_method = "PUT";
  ruby.echoed = {{"CustomerOrderId", "ruby-order-1"}};
  RunSdkFlow(ruby);
}

TEST_CASE("the PHP SDK's requests are answered like Bandwidth answers them") {
  const std::string prolog = "<?xml version=\"1.0\"?>\n";
  SdkRequests php;
  php.sdk = "PHP";
  php.prefix = "/api";
  php.headers = {{"User-Agent", "PHP-Bandwidth-Iris"}};  // core/Client.php, on every Guzzle request
  php.content_type = "application/xml";
  php.create_subscription = prolog +
                            "<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>{URL}</URL>"
                            "<Expiry>3600</Expiry><CallbackCredentials><BasicAuthentication><Username>php-cb"
                            "</Username><Password>php-pw</Password></BasicAuthentication></CallbackCredentials>"
                            "</CallbackSubscription></Subscription>\n";
  php.create_csr = prolog +
                   "<Csr><CustomerOrderId>php-order-1</CustomerOrderId>"
                   "<WorkingOrBillingTelephoneNumber>9195550001</WorkingOrBillingTelephoneNumber>"
                   "<ZIPCode>27707</ZIPCode></Csr>\n";
  php.update_csr = prolog + "<Csr><EndUserPIN>1234</EndUserPIN></Csr>\n";
  php.add_note = prolog + "<Note><UserId>phpuser</UserId><Description>First note</Description></Note>\n";
  php.update_note = prolog + "<Note><UserId>phpuser</UserId><Description>Edited note</Description></Note>\n";
  php.note_update_method = "PUT";
  php.echoed = {{"CustomerOrderId", "php-order-1"}, {"ZIPCode", "27707"}};
  RunSdkFlow(php);
}

TEST_CASE("the Python SDK's requests are answered like Bandwidth answers them") {
  SdkRequests python;
  python.sdk = "Python";
  python.prefix = "/api";
  // iris_sdk/utils/rest.py sets only content-type: the rest are the requests library's defaults.
  // The Python SDK has no CSR or CSR-note API at all: its CSR and note requests below are
  // what a user of its generic RestClient would send, not calls the SDK makes.
  python.headers = {{"User-Agent", "python-requests/2.31.0"}, {"Accept", "*/*"}, {"Accept-Encoding", "gzip, deflate"}};
  python.content_type = "application/xml";
  python.create_subscription =
      "<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>{URL}</URL><Expiry>3600</Expiry>"
      "<CallbackCredentials><BasicAuthentication><Username>py-cb</Username><Password>py-pw</Password>"
      "</BasicAuthentication></CallbackCredentials></CallbackSubscription></Subscription>";
  python.create_csr =
      "<Csr><CustomerOrderId>python-order-1</CustomerOrderId>"
      "<WorkingOrBillingTelephoneNumber>9195550001</WorkingOrBillingTelephoneNumber></Csr>";
  python.update_csr = "<Csr><EndUserPIN>1234</EndUserPIN></Csr>";
  python.add_note = "<Note><UserId>pyuser</UserId><Description>First note</Description></Note>";
  python.update_note = "<Note><UserId>pyuser</UserId><Description>Edited note</Description></Note>";
  python.note_update_method = "PUT";
  python.echoed = {{"CustomerOrderId", "python-order-1"}};
  RunSdkFlow(python);
}

TEST_CASE("every ResponseStatus error row reads as code and description in the C# PHP Python and Ruby SDKs") {
  const std::string config = WriteFile(MakeTempDir(), "accounts.yaml",
                                       "accounts:\n"
                                       "  - id: \"1001\"\n"
                                       "    users: [{username: alice, password: alice-pw}]\n"
                                       "  - id: \"2002\"\n"
                                       "    users: [{username: bob, password: bob-pw}]\n"
                                       "  - id: \"3003\"\n"
                                       "    csr_enabled: false\n"
                                       "    users: [{username: carol, password: carol-pw}]\n");
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--config", config, "--max-body-bytes", "4096"});
  auto alice = sim.Client(BasicAuthorization("alice", "alice-pw"));
  auto carol = sim.Client(BasicAuthorization("carol", "carol-pw"));
  const std::string account = "/api/accounts/1001";
  const std::string unknown = "0b9e8d7c-6a5b-4c3d-8e2f-1a0b9c8d7e6f";
  auto created = alice->Post((account + "/csrs").c_str(),
                             "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>",
                             "application/xml");
  REQUIRE(created);
  const std::string order = account + "/csrs/" + XmlText(created->body, "OrderId").value_or("");
  const std::string subscription = SubscriptionRequest("http://127.0.0.1:9/cb").Xml();
  REQUIRE(alice->Post((account + "/subscriptions").c_str(), subscription, "application/xml")->status == 201);

  CheckReadableBySdks(alice->Get("/api/accounts/2002/csrs"), 403, "CsrResponse", "1001");
  CheckReadableBySdks(carol->Get("/api/accounts/3003/csrs"), 403, "CsrResponse", "12160");
  CheckReadableBySdks(alice->Get((account + "/csrs/" + unknown).c_str()), 404, "CsrResponse", "12002");
  CheckReadableBySdks(alice->Get((account + "/subscriptions/" + unknown).c_str()), 404, "SubscriptionsResponse",
                      "16000");
  CheckReadableBySdks(alice->Put((order + "/notes/99").c_str(), "<Note><UserId>u</UserId></Note>", "application/xml"),
                      404, "NoteResponse", "5040");
  CheckReadableBySdks(
      alice->Post((order + "/notes").c_str(), "<Note><Description>x</Description></Note>", "application/xml"), 400,
      "NoteResponse", "12501");
  CheckReadableBySdks(alice->Post((account + "/subscriptions").c_str(), subscription, "application/xml"), 409,
                      "SubscriptionsResponse", "16008");
  CheckReadableBySdks(alice->Post((account + "/subscriptions").c_str(),
                                  "<Subscription><OrderType>nope</OrderType></Subscription>", "application/xml"),
                      400, "SubscriptionsResponse", "14500");
  CheckReadableBySdks(alice->Post((account + "/csrs").c_str(), std::string(8192, ' '), "application/xml"), 413,
                      "CsrResponse", "1011");
}

TEST_CASE("CSR validation errors read as Error Code and Description in the C# and Ruby SDKs") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto response = sim.Client()->Post("/api/accounts/9900000/csrs",
                                     "<Csr><WorkingOrBillingTelephoneNumber>12</WorkingOrBillingTelephoneNumber></Csr>",
                                     "application/xml");
  REQUIRE(response);
  INFO(response->body);
  CHECK(response->status == 400);
  // C#: no ErrorCode anywhere, so Descendants("Error").First() gives Code and Description.
  CHECK_FALSE(XmlText(response->body, "ErrorCode"));
  static const std::regex kShape(
      R"(^(<\?xml[^>]*\?>)?<CsrOrderResponse><Errors>)"
      R"((<Error><Code>\d+</Code><Description>[^<]+</Description></Error>)+</Errors></CsrOrderResponse>$)");
  CHECK(std::regex_match(response->body, kShape));
  CHECK(XmlText(response->body, "Code") == "5070");
}

TEST_CASE("empty-bodied errors leave every SDK with the HTTP status") {
  const std::string config = WriteFile(MakeTempDir(), "accounts.yaml",
                                       "accounts:\n"
                                       "  - id: \"4004\"\n"
                                       "    users: [{username: dave, password: dave-pw}]\n"
                                       "    rate_limit: {requests: 1, per: 1m}\n");
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--config", config});
  auto unauthorized = sim.Client("")->Get("/v1.0/accounts/4004/csrs");
  REQUIRE(unauthorized);
  CHECK(unauthorized->status == 401);
  CHECK(unauthorized->body.empty());  // Python re-raises the HTTPError, C# finds nothing to parse
  auto dave = sim.Client(BasicAuthorization("dave", "dave-pw"));
  REQUIRE(dave->Get("/v1.0/accounts/4004/csrs")->status == 200);
  auto limited = dave->Get("/v1.0/accounts/4004/csrs");
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(limited->body.empty());
  CHECK(limited->has_header("X-RateLimit-Reset"));
}

TEST_CASE("a FAILED order's 200 body is the single Error the Node SDK raises as BandwidthError") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  auto created = api->Post("/api/accounts/9900000/csrs",
                           "<Csr><WorkingOrBillingTelephoneNumber>9195550000</WorkingOrBillingTelephoneNumber></Csr>",
                           "application/xml");
  REQUIRE(created);
  REQUIRE(AdvanceClock(sim, "2s"));
  auto fetched = api->Get(("/api/accounts/9900000/csrs/" + XmlText(created->body, "OrderId").value_or("")).c_str());
  REQUIRE(fetched);
  INFO(fetched->body);
  CHECK(fetched->status == 200);
  CHECK_FALSE(XmlText(fetched->body, "ErrorCode"));  // else Node would read that first
  CHECK(XmlCount(fetched->body, "Error") == 1);      // two sibling <Error>s raise nothing in Node
  CHECK(XmlText(fetched->body, "Code") == "26500");
  CHECK(XmlText(fetched->body, "Description") == "CSR is not available for this TN");
  // The CSR guide's FAILED example: <Errors> first, then the order's fields.
  CHECK(fetched->body.find("<CsrResponse><Errors><Error><Code>26500</Code>") != std::string::npos);
  CHECK(fetched->body.find("</Errors><LastModifiedBy>") != std::string::npos);
}

TEST_CASE("spellings only SDKs use are accepted, journaled on each request and logged once per account") {
  SimulatorProcess sim({"--clock", "manual"});
  auto api = sim.Client();
  auto create = [&api](const std::string& account) {
    // The Ruby SDK camelizes EndUserPIN as EndUserPin.
    auto created = api->Post(("/v1.0/accounts/" + account + "/csrs").c_str(),
                             "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber>"
                             "<EndUserPin>1234</EndUserPin></Csr>",
                             "application/xml");
    REQUIRE(created);
    REQUIRE(created->status == 200);
    return XmlText(created->body, "OrderId").value_or("");
  };
  const std::string order = create("9900000");
  create("9900000");
  create("9900001");
  // The Java SDK updates a note by POST.
  const std::string notes = "/v1.0/accounts/9900000/csrs/" + order + "/notes";
  auto added =
      api->Post(notes.c_str(), "<Note><UserId>u</UserId><Description>first</Description></Note>", "application/xml");
  REQUIRE(added);
  REQUIRE(added->status == 201);
  auto updated = api->Post((notes + "/" + LocationId(added)).c_str(),
                           "<Note><UserId>u</UserId><Description>edited</Description></Note>", "application/xml");
  REQUIRE(updated);
  CHECK(updated->status == 200);

  auto journal = sim.Client("")->Get("/_sim/requests?route=POST%20/csrs");
  REQUIRE(journal);
  const auto requests = nlohmann::json::parse(journal->body)["requests"];
  REQUIRE(requests.size() == 3);
  for (const auto& request : requests) {
    CHECK(request["leniencies"] == nlohmann::json::array({"accepted <EndUserPin> as EndUserPIN"}));
  }
  auto note_update = sim.Client("")->Get("/_sim/requests?route=POST%20/csrs/*/notes/*");
  REQUIRE(note_update);
  CHECK(nlohmann::json::parse(note_update->body)["requests"][0]["leniencies"][0] ==
        "accepted POST as the update of a note (documented: PUT)");

  sim.Stop();
  const std::string log = sim.Stderr();
  auto count = [&log](const std::string& line) {
    std::size_t n = 0;
    for (auto at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) ++n;
    return n;
  };
  CHECK(count(" info leniency account=9900000 accepted=\"accepted <EndUserPin> as EndUserPIN\" ") == 1);
  CHECK(count(" info leniency account=9900001 accepted=\"accepted <EndUserPin> as EndUserPIN\" ") == 1);
  CHECK(count(" info leniency account=9900000 accepted=\"accepted POST as the update of a note") == 1);
}
