#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <pugixml.hpp>

#include "csrsim/error.hpp"
#include "csrsim/wire.hpp"

namespace csrsim {
namespace {

using namespace std::chrono_literals;

constexpr const char* kProlog = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)";

// The create body of Bandwidth's public CSR lookup guide.
constexpr const char* kGuideCreateBody =
    "<Csr><CustomerOrderId>MyId5</CustomerOrderId>"
    "<WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber>"
    "<AccountNumber>123463</AccountNumber><AccountTelephoneNumber>9196191156</AccountTelephoneNumber>"
    "<EndUserName>Bandwidth User</EndUserName><AuthorizingUserName>Auth Bandwidth User</AuthorizingUserName>"
    "<CustomerCode>123</CustomerCode><EndUserPIN>123ASD</EndUserPIN>"
    "<EndUserPassword>supersecretpassword123</EndUserPassword>"
    "<AddressLine1>900 Main Campus Dr</AddressLine1><City>Raleigh</City><State>NC</State>"
    "<ZIPCode>27606</ZIPCode><TypeOfService>residential</TypeOfService></Csr>";

SimTime At(std::chrono::sys_days day, std::chrono::microseconds since_midnight) {
  return SimTime{day} + since_midnight;
}

// 2020-02-25T15:39:22.079Z, the spec's example timestamp.
const SimTime kExampleTime = At(std::chrono::sys_days{std::chrono::year{2020} / 2 / 25}, 15h + 39min + 22s + 79ms);

std::string FieldOf(const CsrFields& fields, CsrField field) {
  const std::string* value = fields.Get(field);
  return value ? *value : "<absent>";
}

// Names of the root's child elements, in document order.
std::vector<std::string> ChildNames(const std::string& xml, const char* path = nullptr) {
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  pugi::xml_node node = path ? doc.first_element_by_path(path) : doc.document_element();
  std::vector<std::string> names;
  for (pugi::xml_node child : node.children()) names.emplace_back(child.name());
  return names;
}

ErrorDetail DecodeError(void (*decode)(std::string_view), std::string_view body) {
  try {
    decode(body);
  } catch (const Error& error) {
    CHECK(error.kind() == ErrorKind::kInvalid);
    REQUIRE(error.details().size() == 1);
    return error.details().front();
  }
  FAIL("no Error thrown for: " << body);
  return {};
}

void DecodeCsrOnly(std::string_view body) { wire::DecodeCsr(body); }
void DecodeSubscriptionOnly(std::string_view body) { wire::DecodeSubscription(body); }

Order CompletedGuideOrder() {
  Order order;
  order.id = "18502ea7-b253-421c-80a0-f2d4d1bc5fa1";
  order.account_id = "9900000";
  order.last_modified_by = "username";
  order.created = kExampleTime;
  order.last_modified = kExampleTime + 3s;
  order.status = OrderStatus::kComplete;
  order.fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, "9198675309");
  order.fields.Set(CsrField::kCustomerOrderId, "MyId5");
  CsrData data;
  data.account_number = "123463";
  data.customer_name = "House of Mouse";
  data.service_address = {{"UnparsedAddress", "1234 Main ST Durham NC 27707"},
                          {"HouseNumber", "1234"},
                          {"StreetName", "Main"},
                          {"Zip", "27707"}};
  data.working_telephone_number = "9198675309";
  data.working_telephone_numbers_on_account = {"9198675309", "9198675310"};
  order.csr_data = std::make_shared<const CsrData>(data);
  return order;
}

Subscription CallbackSubscriptionWithPassword() {
  Subscription subscription;
  subscription.id = "6b8f2c0e-0c4f-4c64-9b7a-5d1f0e8a9c11";
  subscription.spec.order_type = "csrs";
  CallbackSubscription callback;
  callback.url = "https://example.test/hook?a=1&b=2";
  callback.basic = BasicCredentials{"hookuser", "hook-secret-password"};
  subscription.spec.callback = callback;
  subscription.expires_at = kExampleTime + 100s;
  subscription.last_status = "200 OK";
  return subscription;
}

// ---- decoding -----------------------------------------------------------------

TEST_CASE("the guide's create body decodes to all fourteen fields") {
  wire::CsrRequest request = wire::DecodeCsr(kGuideCreateBody);
  CHECK(request.fields.Items().size() == kCsrFieldCount);
  CHECK(FieldOf(request.fields, CsrField::kCustomerOrderId) == "MyId5");
  CHECK(FieldOf(request.fields, CsrField::kWorkingOrBillingTelephoneNumber) == "9198675309");
  CHECK(FieldOf(request.fields, CsrField::kEndUserName) == "Bandwidth User");
  CHECK(FieldOf(request.fields, CsrField::kEndUserPassword) == "supersecretpassword123");
  CHECK(FieldOf(request.fields, CsrField::kAddressLine1) == "900 Main Campus Dr");
  CHECK(FieldOf(request.fields, CsrField::kTypeOfService) == "residential");
  CHECK_FALSE(request.requested_cancel);
  CHECK_FALSE(request.status);
}

TEST_CASE("a C# body with xsi/xsd namespaces and lower-case first letters decodes") {
  wire::CsrRequest request =
      wire::DecodeCsr(R"(<?xml version="1.0" encoding="utf-8"?>)"
                      R"(<Csr xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" )"
                      R"(xmlns:xsd="http://www.w3.org/2001/XMLSchema">)"
                      "<customerOrderId>abc</customerOrderId>"
                      "<workingOrBillingTelephoneNumber>9198675309</workingOrBillingTelephoneNumber>"
                      "<accountId>9900000</accountId></Csr>");
  CHECK(FieldOf(request.fields, CsrField::kCustomerOrderId) == "abc");
  CHECK(FieldOf(request.fields, CsrField::kWorkingOrBillingTelephoneNumber) == "9198675309");
  CHECK(request.fields.Items().size() == 2);
}

TEST_CASE("Java's trailing-space tag names and endUserPassword decode") {
  wire::CsrRequest request = wire::DecodeCsr(
      "<Csr><AccountId >9900000</AccountId >"
      "<WorkingOrBillingTelephoneNumber >9198675309</WorkingOrBillingTelephoneNumber >"
      "<endUserPassword>secret1</endUserPassword></Csr>");
  CHECK(FieldOf(request.fields, CsrField::kWorkingOrBillingTelephoneNumber) == "9198675309");
  CHECK(FieldOf(request.fields, CsrField::kEndUserPassword) == "secret1");
}

TEST_CASE("a pretty-printed, namespace-prefixed body with a prolog decodes with trimmed text") {
  wire::CsrRequest request = wire::DecodeCsr(
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<ns:Csr xmlns:ns=\"urn:bandwidth\">\n"
      "  <ns:City id=\"x\">\n    Raleigh  \n  </ns:City>\n"
      "  <State><![CDATA[NC]]></State>\n"
      "  <WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber>\n"
      "</ns:Csr>\n");
  CHECK(FieldOf(request.fields, CsrField::kCity) == "Raleigh");
  CHECK(FieldOf(request.fields, CsrField::kState) == "NC");
  CHECK(FieldOf(request.fields, CsrField::kWorkingOrBillingTelephoneNumber) == "9198675309");
}

TEST_CASE("unknown children from published PUT examples are ignored") {
  wire::CsrRequest request = wire::DecodeCsr(
      "<Csr><CsrServiceAddress><City>Durham</City></CsrServiceAddress>"
      "<BillingTelephoneNumber>9195551212</BillingTelephoneNumber>"
      "<CustomerName>House of Mouse</CustomerName><EndUserPIN>1234</EndUserPIN></Csr>");
  REQUIRE(request.fields.Items().size() == 1);
  CHECK(FieldOf(request.fields, CsrField::kEndUserPIN) == "1234");
}

TEST_CASE("an empty field element counts as absent") {
  wire::CsrRequest request = wire::DecodeCsr("<Csr><CustomerOrderId/><City>  </City><State>NC</State></Csr>");
  CHECK_FALSE(request.fields.Has(CsrField::kCustomerOrderId));
  CHECK_FALSE(request.fields.Has(CsrField::kCity));
  CHECK(request.fields.Has(CsrField::kState));
}

TEST_CASE("Status REQUESTED_CANCEL asks for cancellation; other Status text is kept") {
  wire::CsrRequest cancel = wire::DecodeCsr("<Csr><Status> REQUESTED_CANCEL </Status></Csr>");
  CHECK(cancel.requested_cancel);
  CHECK_FALSE(cancel.status);

  wire::CsrRequest other = wire::DecodeCsr("<Csr><status>COMPLETE</status></Csr>");
  CHECK_FALSE(other.requested_cancel);
  CHECK(other.status == "COMPLETE");
}

TEST_CASE("an empty body is rejected with 1003") {
  ErrorDetail error = DecodeError(DecodeCsrOnly, " \r\n ");
  CHECK(error.code == 1003);
  CHECK(error.description == "Request body is required");
}

TEST_CASE("malformed XML is rejected with 1002 naming the parser error and offset") {
  ErrorDetail error = DecodeError(DecodeCsrOnly, "<Csr><City>Raleigh</Csr>");
  CHECK(error.code == 1002);
  CHECK_THAT(error.description,
             Catch::StartsWith("Request body is not well-formed XML: ") && Catch::Contains(" at offset "));
  CHECK(DecodeError(DecodeCsrOnly, "<Csr/><Csr/>").description ==
        "Request body is not well-formed XML: more than one root element");
  CHECK(DecodeError(DecodeCsrOnly, "just text").code == 1002);
}

TEST_CASE("a wrong root element is rejected with 1002 naming both roots") {
  ErrorDetail error = DecodeError(DecodeCsrOnly, "<Note><UserId>u</UserId></Note>");
  CHECK(error.code == 1002);
  CHECK(error.description == "Expected root element <Csr>, got <Note>");
  CHECK(DecodeError(DecodeSubscriptionOnly, "<ns:Csr xmlns:ns='x'/>").description ==
        "Expected root element <Subscription>, got <Csr>");
}

TEST_CASE("a field holding child elements instead of text is rejected") {
  ErrorDetail error = DecodeError(DecodeCsrOnly, "<Csr><City><b>Raleigh</b></City></Csr>");
  CHECK(error.code == 1002);
  CHECK(error.description == "Element <City> must contain text, not child elements");
}

TEST_CASE("binary junk and very deep nesting are rejected without crashing") {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131) % 256);
  CHECK(DecodeError(DecodeCsrOnly, junk).code == 1002);

  std::string open;
  std::string close;
  for (int i = 0; i < 200000; ++i) {
    open += "<a>";
    close += "</a>";
  }
  CHECK(DecodeError(DecodeCsrOnly, open).code == 1002);
  CHECK(wire::DecodeCsr("<Csr>" + open + close + "</Csr>").fields.Empty());
}

TEST_CASE("a note body decodes UserId and Description") {
  wire::NoteRequest note = wire::DecodeNote("<Note><UserId>customer</UserId><Description>Test</Description></Note>");
  CHECK(note.user_id == "customer");
  CHECK(note.description == "Test");
  wire::NoteRequest empty = wire::DecodeNote("<Note><UserId/></Note>");
  CHECK_FALSE(empty.user_id);
  CHECK_FALSE(empty.description);
}

TEST_CASE("the spec's subscription request decodes with every part") {
  SubscriptionSpec spec = wire::DecodeSubscription(R"(
    <Subscription>
      <OrderType>csrs</OrderType>
      <OrderId>18502ea7-b253-421c-80a0-f2d4d1bc5fa1</OrderId>
      <EmailSubscription><Email>ops@example.test</Email><DigestRequested>DAILY</DigestRequested></EmailSubscription>
      <CallbackSubscription>
        <URL>https://example.test/hook</URL>
        <Expiry>3153600000</Expiry>
        <CallbackCredentials>
          <BasicAuthentication><Username>u</Username><Password>p</Password></BasicAuthentication>
          <PublicKey>MIIB</PublicKey>
        </CallbackCredentials>
      </CallbackSubscription>
    </Subscription>)");
  CHECK(spec.order_type == "csrs");
  CHECK_FALSE(spec.event_type);
  CHECK(spec.order_id == "18502ea7-b253-421c-80a0-f2d4d1bc5fa1");
  REQUIRE(spec.email);
  CHECK(*spec.email == EmailSubscription{"ops@example.test", "DAILY"});
  REQUIRE(spec.callback);
  CHECK(spec.callback->url == "https://example.test/hook");
  CHECK(spec.callback->expiry_seconds == 3153600000);
  CHECK(spec.callback->basic == BasicCredentials{"u", "p"});
  CHECK(spec.callback->public_key == "MIIB");
}

TEST_CASE("subscription defaults: Expiry 86400, DigestRequested NONE, empty ids absent") {
  SubscriptionSpec spec = wire::DecodeSubscription(
      "<Subscription><EventType>MESSAGING_LOST</EventType><OrderId/>"
      "<EmailSubscription><Email>a@b.test</Email></EmailSubscription>"
      "<CallbackSubscription><URL>http://h</URL><CallbackCredentials>"
      "<BasicAuthentication><Username/><Password/></BasicAuthentication>"
      "</CallbackCredentials></CallbackSubscription></Subscription>");
  CHECK(spec.event_type == "MESSAGING_LOST");
  CHECK_FALSE(spec.order_type);
  CHECK_FALSE(spec.order_id);
  REQUIRE(spec.email);
  CHECK(spec.email->digest_requested == "NONE");
  REQUIRE(spec.callback);
  CHECK(spec.callback->expiry_seconds == 86400);
  CHECK_FALSE(spec.callback->basic);
  CHECK_FALSE(spec.callback->public_key);
}

TEST_CASE("a non-integer subscription Expiry is rejected with 14501 naming Expiry") {
  for (const char* expiry : {"soon", "1.5", "99999999999999999999999", "12abc"}) {
    ErrorDetail error =
        DecodeError(DecodeSubscriptionOnly,
                    std::string("<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>http://h"
                                "</URL><Expiry>") +
                        expiry + "</Expiry></CallbackSubscription></Subscription>");
    CHECK(error.code == 14501);
    CHECK_THAT(error.description, Catch::StartsWith("Subscription object is invalid: Expiry '"));
  }
  SubscriptionSpec negative = wire::DecodeSubscription(
      "<Subscription><CallbackSubscription><Expiry>-5</Expiry></CallbackSubscription>"
      "</Subscription>");
  CHECK(negative.callback->expiry_seconds == -5);  // validation reports it
}

// ---- encoding -----------------------------------------------------------------

TEST_CASE("a created order answers with OrderId and Status only") {
  Order order;
  order.id = "18502ea7-b253-421c-80a0-f2d4d1bc5fa1";
  CHECK(wire::EncodeCsrCreated(order) == std::string(kProlog) +
                                             "<CsrResponse><OrderId>18502ea7-b253-421c-80a0-f2d4d1bc5fa1</OrderId>"
                                             "<Status>RECEIVED</Status></CsrResponse>");
}

TEST_CASE("a completed order encodes in the spec's element order") {
  Order order = CompletedGuideOrder();
  order.fields.Set(CsrField::kEndUserPIN, "123ASD");
  std::string xml = wire::EncodeCsrResponse(order);
  CHECK_THAT(xml, Catch::StartsWith(std::string(kProlog) + "<CsrResponse><CustomerOrderId>MyId5<"));
  CHECK(ChildNames(xml) == std::vector<std::string>{"CustomerOrderId", "LastModifiedBy", "OrderCreateDate", "AccountId",
                                                    "OrderId", "LastModifiedDate", "Status",
                                                    "WorkingOrBillingTelephoneNumber", "EndUserPIN", "CsrData"});
  CHECK(ChildNames(xml, "CsrResponse/CsrData") == std::vector<std::string>{"AccountNumber", "CustomerName",
                                                                           "ServiceAddress", "WorkingTelephoneNumber",
                                                                           "WorkingTelephoneNumbersOnAccount"});
  CHECK(ChildNames(xml, "CsrResponse/CsrData/ServiceAddress") ==
        std::vector<std::string>{"UnparsedAddress", "HouseNumber", "StreetName", "Zip"});
  CHECK_THAT(xml, Catch::Contains("<LastModifiedBy>username</LastModifiedBy>"
                                  "<OrderCreateDate>2020-02-25T15:39:22.079Z</OrderCreateDate>"
                                  "<AccountId>9900000</AccountId>"));
  CHECK_THAT(xml, Catch::Contains("<LastModifiedDate>2020-02-25T15:39:25.079Z</LastModifiedDate>"
                                  "<Status>COMPLETE</Status>"));
  CHECK_THAT(xml, Catch::Contains("<WorkingTelephoneNumbersOnAccount>"
                                  "<TelephoneNumber>9198675309</TelephoneNumber>"
                                  "<TelephoneNumber>9198675310</TelephoneNumber>"
                                  "</WorkingTelephoneNumbersOnAccount></CsrData></CsrResponse>"));
}

TEST_CASE("a FAILED order encodes its errors first, as the CSR guide shows it, and a CsrData with only the TN") {
  Order order;
  order.id = "o1";
  order.account_id = "1";
  order.last_modified_by = "u";
  order.created = kExampleTime;
  order.last_modified = kExampleTime;
  order.status = OrderStatus::kFailed;
  order.fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, "9195550000");
  CsrData data;
  data.working_telephone_number = "9195550000";
  order.csr_data = std::make_shared<const CsrData>(data);
  order.errors = {{26500, "CSR is not available for this TN"}};
  CHECK(wire::EncodeCsrResponse(order) ==
        std::string(kProlog) +
            "<CsrResponse><Errors><Error><Code>26500</Code><Description>CSR is not available for this TN"
            "</Description></Error></Errors><LastModifiedBy>u</LastModifiedBy>"
            "<OrderCreateDate>2020-02-25T15:39:22.079Z</OrderCreateDate><AccountId>1</AccountId>"
            "<OrderId>o1</OrderId><LastModifiedDate>2020-02-25T15:39:22.079Z</LastModifiedDate>"
            "<Status>FAILED</Status>"
            "<WorkingOrBillingTelephoneNumber>9195550000</WorkingOrBillingTelephoneNumber>"
            "<CsrData><WorkingTelephoneNumber>9195550000</WorkingTelephoneNumber></CsrData></CsrResponse>");
}

TEST_CASE("an encoded order round-trips through DecodeCsr's field names") {
  Order order = CompletedGuideOrder();
  order.fields = wire::DecodeCsr(kGuideCreateBody).fields;
  std::string xml = wire::EncodeCsrResponse(order);
  // Re-reading the response as a <Csr> body yields the same fields.
  std::string as_request = "<Csr>" + xml.substr(xml.find("<CsrResponse>") + 13);
  as_request.replace(as_request.rfind("</CsrResponse>"), 14, "</Csr>");
  CHECK(wire::DecodeCsr(as_request).fields == order.fields);
}

TEST_CASE("a CSR list carries the count, escaped links and full CsrResponse entries") {
  Order order = CompletedGuideOrder();
  wire::ListLinks links{"/api/accounts/1/csrs?page=1&size=3", "/api/accounts/1/csrs?page=2&size=3"};
  std::string xml = wire::EncodeCsrList(4, links, {order, order});
  CHECK_THAT(xml, Catch::StartsWith(std::string(kProlog) +
                                    "<CsrResponses><TotalCount>4</TotalCount><Links>"
                                    "<first>Link=&lt;/api/accounts/1/csrs?page=1&amp;size=3&gt;;rel=\"first\";"
                                    "</first>"
                                    "<next>Link=&lt;/api/accounts/1/csrs?page=2&amp;size=3&gt;;rel=\"next\";"
                                    "</next></Links><CsrResponse>"));
  std::string single = wire::EncodeCsrResponse(order);
  std::string entry = single.substr(std::string(kProlog).size());
  CHECK(xml.find(entry) != std::string::npos);
  CHECK(xml.find(entry, xml.find(entry) + 1) != std::string::npos);

  std::string last_page = wire::EncodeCsrList(0, {"/csrs?page=1&size=3", std::nullopt}, {});
  CHECK(ChildNames(last_page, "CsrResponses/Links") == std::vector<std::string>{"first"});
}

TEST_CASE("notes encode with Id, UserId, Description and LastDateModifier") {
  Note note{11299, "customer", "Test & <more>", kExampleTime};
  CHECK(wire::EncodeNotes({note}) ==
        std::string(kProlog) +
            "<Notes><Note><Id>11299</Id><UserId>customer</UserId>"
            "<Description>Test &amp; &lt;more&gt;</Description>"
            "<LastDateModifier>2020-02-25T15:39:22.079Z</LastDateModifier></Note></Notes>");
}

TEST_CASE("an empty subscription list still holds an empty Subscriptions element") {
  std::string xml = wire::EncodeSubscriptions({}, kExampleTime);
  CHECK(xml == std::string(kProlog) + "<SubscriptionsResponse><Subscriptions/></SubscriptionsResponse>");
}

TEST_CASE("a callback subscription encodes seconds left and never the password") {
  Subscription subscription = CallbackSubscriptionWithPassword();
  std::string xml = wire::EncodeSubscriptions({subscription}, kExampleTime + 40s + 500ms);
  CHECK(xml == std::string(kProlog) +
                   "<SubscriptionsResponse><Subscriptions><Subscription>"
                   "<SubscriptionId>6b8f2c0e-0c4f-4c64-9b7a-5d1f0e8a9c11</SubscriptionId>"
                   "<OrderType>csrs</OrderType><CallbackSubscription>"
                   "<URL>https://example.test/hook?a=1&amp;b=2</URL><Expiry>59</Expiry>"
                   "<Status>200 OK</Status><CallbackCredentials><BasicAuthentication>"
                   "<Username>hookuser</Username></BasicAuthentication></CallbackCredentials>"
                   "</CallbackSubscription></Subscription></Subscriptions></SubscriptionsResponse>");
  CHECK(xml.find("hook-secret-password") == std::string::npos);
  CHECK(xml.find("Password") == std::string::npos);
}

TEST_CASE("an expired subscription is listed with Expiry 0") {
  Subscription subscription = CallbackSubscriptionWithPassword();
  std::string xml = wire::EncodeSubscriptions({subscription}, kExampleTime + 1h);
  CHECK_THAT(xml, Catch::Contains("<Expiry>0</Expiry>"));
}

TEST_CASE("an order-scoped email subscription with an event type encodes in order") {
  Subscription subscription;
  subscription.id = "s1";
  subscription.spec.event_type = "MESSAGING_LOST";
  subscription.spec.order_id = "o1";
  subscription.spec.email = EmailSubscription{"ops@example.test", "NONE"};
  subscription.spec.callback = CallbackSubscription{"http://h", 60, std::nullopt, "MIIB"};
  std::string xml = wire::EncodeSubscriptions({subscription}, SimTime{});
  CHECK(
      ChildNames(xml, "SubscriptionsResponse/Subscriptions/Subscription") ==
      std::vector<std::string>{"SubscriptionId", "EventType", "OrderId", "EmailSubscription", "CallbackSubscription"});
  CHECK_THAT(xml, Catch::Contains("<EmailSubscription><Email>ops@example.test</Email>"
                                  "<DigestRequested>NONE</DigestRequested></EmailSubscription>"));
  CHECK(ChildNames(xml, "SubscriptionsResponse/Subscriptions/Subscription/CallbackSubscription") ==
        std::vector<std::string>{"URL", "Expiry", "Status"});
}

TEST_CASE("a notification encodes the spec's elements and omits absent ones") {
  wire::NotificationContent content;
  content.status = OrderStatus::kComplete;
  content.subscription_id = "s1";
  content.message = "The CSR request is complete.";
  content.order_id = "o1";
  CHECK(wire::EncodeNotification(content) ==
        std::string(kProlog) +
            "<Notification><Status>COMPLETE</Status><SubscriptionId>s1</SubscriptionId>"
            "<Message>The CSR request is complete.</Message><OrderId>o1</OrderId>"
            "<OrderType>csrs</OrderType></Notification>");
  content.customer_order_id = "MyId5";
  content.note = "hello";
  content.last_modified = kExampleTime;
  CHECK(ChildNames(wire::EncodeNotification(content)) ==
        std::vector<std::string>{"Status", "SubscriptionId", "Message", "OrderId", "OrderType", "CustomerOrderId",
                                 "Note", "LastModifiedDate"});
}

TEST_CASE("error bodies use the ResponseStatus and CsrOrderResponse shapes") {
  CHECK(wire::EncodeResponseStatus("NoteResponse", {12501, "Username is required"}) ==
        std::string(kProlog) +
            "<NoteResponse><ResponseStatus><ErrorCode>12501</ErrorCode>"
            "<Description>Username is required</Description></ResponseStatus></NoteResponse>");
  CHECK(wire::EncodeCsrOrderErrors({{1003, "WorkingOrBillingTelephoneNumber is required"},
                                    {1011, "City is too long. Max length 100 characters"}}) ==
        std::string(kProlog) +
            "<CsrOrderResponse><Errors>"
            "<Error><Code>1003</Code><Description>WorkingOrBillingTelephoneNumber is required"
            "</Description></Error>"
            "<Error><Code>1011</Code><Description>City is too long. Max length 100 characters"
            "</Description></Error></Errors></CsrOrderResponse>");
}

TEST_CASE("control characters in stored text never make the output ill-formed") {
  Note note{1, "user\x01", "line1\nline2\x1f", kExampleTime};
  std::string xml = wire::EncodeNotes({note});
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  CHECK(std::string(doc.first_element_by_path("Notes/Note/UserId").text().get()) == "user");
  CHECK(std::string(doc.first_element_by_path("Notes/Note/Description").text().get()) == "line1\nline2");
}

// ---- timestamps ---------------------------------------------------------------

TEST_CASE("timestamps format as UTC with truncated milliseconds") {
  CHECK(wire::FormatTimestamp(kExampleTime + 999us) == "2020-02-25T15:39:22.079Z");
  CHECK(wire::FormatTimestamp(SimTime{}) == "1970-01-01T00:00:00.000Z");
  CHECK(wire::FormatTimestamp(At(std::chrono::sys_days{std::chrono::year{2024} / 2 / 29}, 23h + 59min + 59s + 999ms)) ==
        "2024-02-29T23:59:59.999Z");
}

TEST_CASE("timestamps parse with or without millis, with offsets and as plain dates") {
  CHECK(wire::ParseTimestamp("2020-02-25T15:39:22.079Z") == kExampleTime);
  CHECK(wire::ParseTimestamp("2020-02-25T15:39:22Z") == kExampleTime - 79ms);
  CHECK(wire::ParseTimestamp("2020-02-25T15:39:22.079+00:00") == kExampleTime);
  CHECK(wire::ParseTimestamp("2020-02-25T17:39:22.079+02:00") == kExampleTime);
  CHECK(wire::ParseTimestamp("2020-02-25T10:39:22.079-0500") == kExampleTime);
  CHECK(wire::ParseTimestamp("2020-02-25T15:39:22.079") == kExampleTime);
  CHECK(wire::ParseTimestamp("2020-02-25T15:39:22.0791234Z") == kExampleTime + 123us);
  CHECK(wire::ParseTimestamp("2020-02-25") == SimTime{std::chrono::sys_days{std::chrono::year{2020} / 2 / 25}});
  CHECK(wire::ParseTimestamp(wire::FormatTimestamp(kExampleTime)) == kExampleTime);
}

TEST_CASE("garbage timestamps are rejected") {
  for (const char* text :
       {"", "yesterday", "2020-02-30", "2020-13-01", "2020-2-25", "2020-02-25T25:00:00Z", "2020-02-25T15:39Z",
        "2020-02-25T15:39:22.Z", "2020-02-25T15:39:22Zjunk", "2020-02-25T15:39:22+2", "20200225"}) {
    INFO(text);
    CHECK_FALSE(wire::ParseTimestamp(text));
  }
}

}  // namespace
}  // namespace csrsim
