#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "csrsim/validation.hpp"

namespace csrsim {
namespace {

// The fields of the public guide's create body.
CsrFields GuideFields() {
  CsrFields fields;
  fields.Set(CsrField::kCustomerOrderId, "MyId5");
  fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, "9198675309");
  fields.Set(CsrField::kAccountNumber, "123463");
  fields.Set(CsrField::kAccountTelephoneNumber, "9196191156");
  fields.Set(CsrField::kEndUserName, "Bandwidth User");
  fields.Set(CsrField::kAuthorizingUserName, "Auth Bandwidth User");
  fields.Set(CsrField::kCustomerCode, "123");
  fields.Set(CsrField::kEndUserPIN, "123ASD");
  fields.Set(CsrField::kEndUserPassword, "supersecretpassword123");
  fields.Set(CsrField::kAddressLine1, "900 Main Campus Dr");
  fields.Set(CsrField::kCity, "Raleigh");
  fields.Set(CsrField::kState, "NC");
  fields.Set(CsrField::kZIPCode, "27606");
  fields.Set(CsrField::kTypeOfService, "residential");
  return fields;
}

SubscriptionSpec ValidCallbackSpec() {
  SubscriptionSpec spec;
  spec.order_type = "csrs";
  spec.callback = CallbackSubscription{"https://example.test/hook", 86400, BasicCredentials{"user", "pass"},
                                       "MIIBIjANBgkqhkiG9w0BAQ=="};
  return spec;
}

std::vector<int> Codes(const std::vector<ErrorDetail>& errors) {
  std::vector<int> codes;
  for (const ErrorDetail& error : errors) codes.push_back(error.code);
  return codes;
}

struct Violation {
  CsrField field;
  std::string value;
  ErrorDetail expected;
};

TEST_CASE("the guide's create body is valid") { CHECK(ValidateCsrFields(GuideFields(), true).empty()); }

TEST_CASE("a v2 E.164 telephone number is valid") {
  CsrFields fields;
  fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, "+19198675309");
  CHECK(ValidateCsrFields(fields, true).empty());
}

TEST_CASE("the telephone number is required on create but not on update") {
  CsrFields fields;
  fields.Set(CsrField::kEndUserPIN, "1234");
  std::vector<ErrorDetail> errors = ValidateCsrFields(fields, true);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == ErrorDetail{1003, "WorkingOrBillingTelephoneNumber is required"});
  CHECK(ValidateCsrFields(fields, false).empty());
}

TEST_CASE("each CSR field constraint reports its own code and names the field") {
  const std::string kTnInvalid =
      "Telephone number is invalid. WorkingOrBillingTelephoneNumber must be 10 digits "
      "(NPANXXXXXX) or +1 and 10 digits.";
  const std::vector<Violation> violations = {
      {CsrField::kCustomerOrderId,
       std::string(41, 'a'),
       {1011, "CustomerOrderId is too long. Max length 40 characters"}},
      {CsrField::kCustomerOrderId,
       "My_Id",
       {1010, "CustomerOrderId contains invalid characters. Allowed: letters, digits, dashes and spaces"}},
      {CsrField::kWorkingOrBillingTelephoneNumber, "919867530", {5070, kTnInvalid}},
      {CsrField::kWorkingOrBillingTelephoneNumber, "919-867-5309", {5070, kTnInvalid}},
      {CsrField::kWorkingOrBillingTelephoneNumber, "+29198675309", {5070, kTnInvalid}},
      {CsrField::kAccountNumber, std::string(21, '1'), {1011, "AccountNumber is too long. Max length 20 characters"}},
      {CsrField::kAccountNumber,
       "123-463",
       {1010, "AccountNumber contains invalid characters. Allowed: letters and digits"}},
      {CsrField::kAccountTelephoneNumber,
       "91961911567",
       {1011, "AccountTelephoneNumber is too long. Max length 10 characters"}},
      {CsrField::kAccountTelephoneNumber,
       "919 619",
       {1010, "AccountTelephoneNumber contains invalid characters. Allowed: letters and digits"}},
      {CsrField::kEndUserName, std::string(101, 'x'), {1011, "EndUserName is too long. Max length 100 characters"}},
      {CsrField::kAuthorizingUserName,
       std::string(101, 'x'),
       {1011, "AuthorizingUserName is too long. Max length 100 characters"}},
      {CsrField::kCustomerCode, "1234", {1011, "CustomerCode is too long. Max length 3 characters"}},
      {CsrField::kCustomerCode, "12a", {1010, "CustomerCode contains invalid characters. Allowed: digits"}},
      {CsrField::kEndUserPIN, std::string(51, '1'), {1011, "EndUserPIN is too long. Max length 50 characters"}},
      {CsrField::kEndUserPIN, "12 34", {1010, "EndUserPIN contains invalid characters. Allowed: letters and digits"}},
      {CsrField::kEndUserPassword,
       std::string(101, 'p'),
       {1011, "EndUserPassword is too long. Max length 100 characters"}},
      {CsrField::kEndUserPassword,
       "pass!word",
       {1010, "EndUserPassword contains invalid characters. Allowed: letters and digits"}},
      {CsrField::kAddressLine1, std::string(201, 'x'), {1011, "AddressLine1 is too long. Max length 200 characters"}},
      {CsrField::kCity, std::string(101, 'x'), {1011, "City is too long. Max length 100 characters"}},
      {CsrField::kState, "N", {1010, "State must be exactly 2 characters long"}},
      {CsrField::kState, "NCA", {1011, "State is too long. Max length 2 characters"}},
      {CsrField::kState, "N1", {1010, "State contains invalid characters. Allowed: letters"}},
      {CsrField::kZIPCode, "27606-12345", {1011, "ZIPCode is too long. Max length 10 characters"}},
      {CsrField::kZIPCode,
       "27606 1234",
       {1010, "ZIPCode contains invalid characters. Allowed: letters, digits and dashes"}},
      {CsrField::kTypeOfService, std::string(51, 'r'), {1011, "TypeOfService is too long. Max length 50 characters"}},
      {CsrField::kTypeOfService, "residential2", {1010, "TypeOfService contains invalid characters. Allowed: letters"}},
  };
  for (const Violation& violation : violations) {
    INFO(WireName(violation.field) << " = '" << violation.value << "'");
    CsrFields fields = GuideFields();
    fields.Set(violation.field, violation.value);
    CHECK(ValidateCsrFields(fields, true) == std::vector<ErrorDetail>{violation.expected});
  }
}

TEST_CASE("values at their maximum length are valid, counted in characters") {
  CsrFields fields = GuideFields();
  fields.Set(CsrField::kCustomerOrderId, std::string(40, 'a'));
  fields.Set(CsrField::kZIPCode, "27606-1234");
  fields.Set(
      CsrField::kCity, std::string(50, 'x') + [] {
        std::string umlauts;
        for (int i = 0; i < 50; ++i) umlauts += "\xC3\xBC";  // 'ü', two bytes each
        return umlauts;
      }());
  CHECK(ValidateCsrFields(fields, true).empty());
}

TEST_CASE("every violation of a request is returned, not just the first") {
  CsrFields fields;
  fields.Set(CsrField::kState, "North Carolina");
  fields.Set(CsrField::kCustomerCode, "abcd");
  CHECK(Codes(ValidateCsrFields(fields, true)) == std::vector<int>{1003, 1011, 1010, 1011, 1010});
}

TEST_CASE("a note needs a UserId and at most 500 characters of Description") {
  CHECK(ValidateNote("customer", std::string(500, 'd')).empty());
  CHECK(ValidateNote(std::nullopt, "Test") == std::vector<ErrorDetail>{{12501, "Username is required"}});
  CHECK(ValidateNote("  ", std::nullopt) == std::vector<ErrorDetail>{{12501, "Username is required"}});
  CHECK(ValidateNote("customer", std::string(501, 'd')) ==
        std::vector<ErrorDetail>{{1011, "Description is too long. Max length 500 characters"}});
}

TEST_CASE("a complete callback subscription and an email subscription are valid") {
  CHECK(ValidateSubscription(ValidCallbackSpec()).empty());
  SubscriptionSpec email;
  email.order_type = "portins";
  email.order_id = "18502EA7-B253-421C-80A0-F2D4D1BC5FA1";
  email.email = EmailSubscription{"ops@example.test", "DAILY"};
  CHECK(ValidateSubscription(email).empty());
  SubscriptionSpec event = ValidCallbackSpec();
  event.order_type.reset();
  event.event_type = "MESSAGING_LOST";
  event.callback->url = "http://127.0.0.1:8080/cb?x=1";
  CHECK(ValidateSubscription(event).empty());
}

TEST_CASE("each subscription rule reports its Bandwidth code") {
  auto codes_after = [](auto change) {
    SubscriptionSpec spec = ValidCallbackSpec();
    change(spec);
    return Codes(ValidateSubscription(spec));
  };
  CHECK(codes_after([](SubscriptionSpec& s) { s.order_type = "CSRS"; }) == std::vector<int>{14500});
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback.reset(); }) == std::vector<int>{14501});
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback->expiry_seconds = -1; }) == std::vector<int>{14501});
  // Beyond 10,000 years the simulated clock could not add it without overflow.
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback->expiry_seconds = INT64_MAX; }) == std::vector<int>{14501});
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback->expiry_seconds = 3'153'600'000; }).empty());
  CHECK(codes_after([](SubscriptionSpec& s) {
          s.email = EmailSubscription{"a@b.test", "WEEKLY"};
        }) == std::vector<int>{14502});
  CHECK(codes_after([](SubscriptionSpec& s) { s.email = EmailSubscription{"", "NONE"}; }) == std::vector<int>{1003});
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback->url = ""; }) == std::vector<int>{14503});
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback->public_key = "not base64!"; }) == std::vector<int>{14504});
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback->public_key = "QUJD="; }) == std::vector<int>{14504});
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback->basic->password = ""; }) == std::vector<int>{14505});
  CHECK(codes_after([](SubscriptionSpec& s) { s.callback->basic->username = ""; }) == std::vector<int>{14505});
  // Also what the dispatcher could never deliver to: user info, ports out of range.
  for (const char* url : {"ftp://example.test", "example.test/hook", "https://", "https:///path", "http://host:port/",
                          "http://exa mple.test", "http://u:p@127.0.0.1:9/cb", "http://127.0.0.1:99999/cb",
                          "http://127.0.0.1:0/cb", "http://[::1]:/cb"}) {
    INFO(url);
    CHECK(codes_after([&](SubscriptionSpec& s) { s.callback->url = url; }) == std::vector<int>{14506});
  }
  CHECK(codes_after([](SubscriptionSpec& s) {
          s.order_type.reset();
          s.event_type = "MESSAGE_LOST";
        }) == std::vector<int>{14507});
  CHECK(codes_after([](SubscriptionSpec& s) { s.order_type.reset(); }) == std::vector<int>{14508});
  CHECK(codes_after([](SubscriptionSpec& s) { s.order_id = "order-1"; }) == std::vector<int>{1008});
}

TEST_CASE("subscription errors describe the offending value") {
  SubscriptionSpec spec = ValidCallbackSpec();
  spec.order_type = "csr";
  spec.order_id = "order-1";
  spec.callback->url = "ftp://x";
  std::vector<ErrorDetail> errors = ValidateSubscription(spec);
  REQUIRE(errors.size() == 3);
  CHECK_THAT(errors[0].description, Catch::StartsWith("Incorrect OrderType 'csr'. Valid values: portins, orders,"));
  CHECK(errors[1].description == "'order-1' is not a valid UUID (OrderId)");
  CHECK(errors[2].description == "Callback URL 'ftp://x' is invalid: expected http:// or https:// followed by a host");
}

TEST_CASE("IsUuid accepts 8-4-4-4-12 hex in either case and nothing else") {
  CHECK(IsUuid("18502ea7-b253-421c-80a0-f2d4d1bc5fa1"));
  CHECK(IsUuid("18502EA7-B253-421C-80A0-F2D4D1BC5FA1"));
  CHECK_FALSE(IsUuid(""));
  CHECK_FALSE(IsUuid("18502ea7b253421c80a0f2d4d1bc5fa1"));
  CHECK_FALSE(IsUuid("18502ea7-b253-421c-80a0-f2d4d1bc5fa"));
  CHECK_FALSE(IsUuid("18502ea7-b253-421c-80a0-f2d4d1bc5fag"));
  CHECK_FALSE(IsUuid("18502ea7-b253-421c-80a0_f2d4d1bc5fa1"));
}

}  // namespace
}  // namespace csrsim

namespace csrsim {
namespace {

TEST_CASE("a callback URL pointing at the simulator's own listener is refused with 14506") {
  SubscriptionSpec spec;
  spec.order_type = "csrs";
  spec.callback = CallbackSubscription{};
  const OwnListener self{"127.0.0.1", 8080};
  for (const char* url : {"http://127.0.0.1:8080/_sim/reset", "http://localhost:8080/x", "http://[::1]:8080/",
                          "http://127.1:8080/_sim/reset", "http://0.0.0.0:8080/"}) {
    INFO(url);
    spec.callback->url = url;
    auto errors = ValidateSubscription(spec, self);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].code == 14506);
    CHECK(errors[0].description.find("points at the simulator itself") != std::string::npos);
    CHECK(ValidateSubscription(spec).empty());  // listener unknown: nothing to compare with
  }
  for (const char* url : {"http://127.0.0.1:8081/_sim/reset", "http://example.test:8080/_sim/reset"}) {
    INFO(url);
    spec.callback->url = url;
    CHECK(ValidateSubscription(spec, self).empty());
  }
  spec.callback->url = "http://sim.example.test:8080/cb";
  CHECK(ValidateSubscription(spec, {"Sim.Example.Test", 8080}).size() == 1);
}

}  // namespace
}  // namespace csrsim
