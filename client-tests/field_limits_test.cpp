// Every free-text field a client stores is length-limited (README "Limits",
// docs/wire-contract.md): at its cap it is accepted, one character beyond it is
// a Bandwidth-shaped 400 with 1011 "<Field> is too long. Max length N
// characters", on every route that stores it (create and update), and the
// refused call changes nothing. Lengths count characters, not bytes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccount = "/api/accounts/9900000";

std::string Repeat(const std::string& unit, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) text += unit;
  return text;
}

std::string Csr(const std::string& fields) {
  return "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber>" + fields + "</Csr>";
}

// `root`: CsrOrderResponse (<Errors><Error><Code>), else <ResponseStatus><ErrorCode>.
void CheckTooLong(const httplib::Result& result, const std::string& root, const std::string& field, std::size_t max) {
  REQUIRE(result);
  INFO(result->status << " " << result->body);
  CHECK(result->status == 400);
  CHECK(XmlRoot(result->body) == root);
  CHECK(XmlText(result->body, root == "CsrOrderResponse" ? "Code" : "ErrorCode") == "1011");
  CHECK(XmlText(result->body, "Description") ==
        field + " is too long. Max length " + std::to_string(max) + " characters");
}

struct FieldCap {
  std::string field;
  std::size_t max;
  std::string unit;  // one character the field allows
};

// docs/wire-contract.md's create table (State is exactly 2 and the TN a
// number: checked in errors_test.cpp).
const std::vector<FieldCap> kCsrCaps = {
    {"CustomerOrderId", 40, "a"},
    {"AccountNumber", 20, "1"},
    {"AccountTelephoneNumber", 10, "1"},
    {"EndUserName", 100, "n"},
    {"EndUserName", 100, "\xC3\xA9"},  // é: 2 bytes, 1 character
    {"AuthorizingUserName", 100, "n"},
    {"CustomerCode", 3, "1"},
    {"EndUserPIN", 50, "1"},
    {"EndUserPassword", 100, "p"},
    {"AddressLine1", 200, "a"},
    {"City", 100, "c"},
    {"ZIPCode", 10, "2"},
    {"TypeOfService", 50, "r"},
};

}  // namespace

TEST_CASE("every CSR field is capped on create and on update, in characters") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto created = api->Post((kAccount + "/csrs").c_str(), Csr(""), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  const std::string order = kAccount + "/csrs/" + XmlText(created->body, "OrderId").value_or("");
  const std::string before = api->Get(order.c_str())->body;
  for (const auto& cap : kCsrCaps) {
    INFO(cap.field << " of " << cap.max << " x '" << cap.unit << "'");
    auto element = [&](std::size_t count) {
      return "<" + cap.field + ">" + Repeat(cap.unit, count) + "</" + cap.field + ">";
    };
    CheckTooLong(api->Post((kAccount + "/csrs").c_str(), Csr(element(cap.max + 1)), "application/xml"),
                 "CsrOrderResponse", cap.field, cap.max);
    CheckTooLong(api->Put(order.c_str(), "<Csr>" + element(cap.max + 1) + "</Csr>", "application/xml"),
                 "CsrOrderResponse", cap.field, cap.max);
    CHECK(api->Get(order.c_str())->body == before);  // a refused update changes nothing
    auto at_cap = api->Post((kAccount + "/csrs").c_str(), Csr(element(cap.max)), "application/xml");
    REQUIRE(at_cap);
    CHECK(at_cap->status == 200);
    const std::string other = kAccount + "/csrs/" + XmlText(at_cap->body, "OrderId").value_or("");
    auto updated = api->Put(other.c_str(), "<Csr>" + element(cap.max) + "</Csr>", "application/xml");
    REQUIRE(updated);
    CHECK(updated->status == 200);
  }
}

TEST_CASE("a PUT's refused Status is echoed bounded") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto created = api->Post((kAccount + "/csrs").c_str(), Csr(""), "application/xml");
  REQUIRE(created);
  const std::string order = kAccount + "/csrs/" + XmlText(created->body, "OrderId").value_or("");
  auto refused =
      api->Put(order.c_str(), "<Csr><Status>" + std::string(100'000, 'S') + "</Status></Csr>", "application/xml");
  REQUIRE(refused);
  CHECK(refused->status == 400);
  CHECK(XmlText(refused->body, "Code") == "12166");
  CHECK(refused->body.size() < 1'000);
}

TEST_CASE("note UserId and Description are capped on add and on update") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto created = api->Post((kAccount + "/csrs").c_str(), Csr(""), "application/xml");
  REQUIRE(created);
  const std::string notes = kAccount + "/csrs/" + XmlText(created->body, "OrderId").value_or("") + "/notes";
  auto body = [](const std::string& user, const std::string& description) {
    return "<Note><UserId>" + user + "</UserId><Description>" + description + "</Description></Note>";
  };
  CheckTooLong(api->Post(notes.c_str(), body(Repeat("u", 101), "d"), "application/xml"), "NoteResponse", "UserId", 100);
  CheckTooLong(api->Post(notes.c_str(), body("u", Repeat("\xC3\xA9", 501)), "application/xml"), "NoteResponse",
               "Description", 500);
  auto added = api->Post(notes.c_str(), body(Repeat("\xC3\xA9", 100), Repeat("\xC3\xA9", 500)), "application/xml");
  REQUIRE(added);
  REQUIRE(added->status == 201);
  const std::string note = notes + "/" + LocationId(added);
  const std::string before = api->Get(notes.c_str())->body;
  CheckTooLong(api->Put(note.c_str(), body(Repeat("u", 101), "d"), "application/xml"), "NoteResponse", "UserId", 100);
  CheckTooLong(api->Put(note.c_str(), body("u", Repeat("d", 501)), "application/xml"), "NoteResponse", "Description",
               500);
  CHECK(api->Get(notes.c_str())->body == before);
  auto edited = api->Put(note.c_str(), body(Repeat("u", 100), Repeat("d", 500)), "application/xml");
  REQUIRE(edited);
  CHECK(edited->status == 200);
  CHECK(XmlText(api->Get(notes.c_str())->body, "UserId") == Repeat("u", 100));
}

TEST_CASE("subscription URL, Email, Username, Password and PublicKey are capped on create and on replace") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  const std::string subscriptions = kAccount + "/subscriptions";
  auto callback = [](const std::string& url, const std::string& credentials) {
    return "<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>" + url + "</URL>" + credentials +
           "</CallbackSubscription></Subscription>";
  };
  auto basic = [](const std::string& user, const std::string& password) {
    return "<CallbackCredentials><BasicAuthentication><Username>" + user + "</Username><Password>" + password +
           "</Password></BasicAuthentication></CallbackCredentials>";
  };
  auto key = [](const std::string& text) {
    return "<CallbackCredentials><PublicKey>" + text + "</PublicKey></CallbackCredentials>";
  };
  auto email = [](const std::string& address) {
    return "<Subscription><OrderType>csrs</OrderType><EmailSubscription><Email>" + address +
           "</Email><DigestRequested>NONE</DigestRequested></EmailSubscription></Subscription>";
  };
  const std::string url = "http://127.0.0.1:9/";
  struct Case {
    std::string field;
    std::size_t max;
    std::string over;
    std::string at;
  };
  const std::vector<Case> cases = {
      {"URL", 2048, callback(url + Repeat("p", 2049 - url.size()), ""),
       callback(url + Repeat("p", 2048 - url.size()), "")},
      {"Email", 254, email(Repeat("e", 243) + "@example.com"), email(Repeat("e", 242) + "@example.com")},
      {"Username", 100, callback(url + "u", basic(Repeat("u", 101), "p")),
       callback(url + "u", basic(Repeat("u", 100), "p"))},
      {"Password", 100, callback(url + "w", basic("u", Repeat("p", 101))),
       callback(url + "w", basic("u", Repeat("p", 100)))},
      {"PublicKey", 16384, callback(url + "k", key(Repeat("A", 16385))), callback(url + "k", key(Repeat("A", 16384)))},
  };
  auto first = api->Post(subscriptions.c_str(), callback(url + "first", ""), "application/xml");
  REQUIRE(first);
  REQUIRE(first->status == 201);
  const std::string replaced = subscriptions + "/" + LocationId(first);
  const std::string before = api->Get(replaced.c_str())->body;
  for (const auto& c : cases) {
    INFO(c.field);
    CheckTooLong(api->Post(subscriptions.c_str(), c.over, "application/xml"), "SubscriptionsResponse", c.field, c.max);
    CheckTooLong(api->Put(replaced.c_str(), c.over, "application/xml"), "SubscriptionsResponse", c.field, c.max);
    CHECK(api->Get(replaced.c_str())->body == before);
    auto at_cap = api->Post(subscriptions.c_str(), c.at, "application/xml");
    REQUIRE(at_cap);
    CHECK(at_cap->status == 201);
  }
}

TEST_CASE("a forced transition's message and error descriptions are capped at 256 characters") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  auto created = api->Post((kAccount + "/csrs").c_str(), Csr(""), "application/xml");
  REQUIRE(created);
  const std::string id = XmlText(created->body, "OrderId").value_or("");
  const std::string transition = "/_sim/orders/" + id + "/transition";
  auto force = [&](const std::string& body) { return control->Post(transition.c_str(), body, "application/json"); };
  auto long_message = force(R"({"status":"FAILED","message":")" + Repeat("m", 257) + R"("})");
  REQUIRE(long_message);
  CHECK(long_message->status == 400);
  CHECK(long_message->body.find("'message' is longer than 256 characters") != std::string::npos);
  auto long_description =
      force(R"({"status":"FAILED","errors":[{"code":1,"description":")" + Repeat("d", 257) + R"("}]})");
  REQUIRE(long_description);
  CHECK(long_description->status == 400);
  std::string many = R"({"status":"FAILED","errors":[)";
  for (int i = 0; i < 17; ++i) many += std::string(i ? "," : "") + R"({"code":1,"description":"x"})";
  auto too_many = force(many + "]}");
  REQUIRE(too_many);
  CHECK(too_many->status == 400);
  CHECK(api->Get((kAccount + "/csrs/" + id).c_str())->body.find("RECEIVED") != std::string::npos);
  // 256 characters of two bytes each are accepted.
  auto at_cap = force(R"({"status":"FAILED","message":")" + Repeat("\xC3\xA9", 256) + R"("})");
  REQUIRE(at_cap);
  CHECK(at_cap->status == 200);
}
