// Unit tests of the Bandwidth API pipeline, in-process through Simulator::Handle
// (no sockets): prefixes, auth, account checks, error envelopes, body limits.
#include <catch2/catch.hpp>

#include <pugixml.hpp>

#include "csrsim/encoding.hpp"
#include "in_process.hpp"

using namespace csrsim;

namespace {

using csrsim::testing::InProcessSimulator;
using csrsim::testing::kGuideAuthorization;
using csrsim::testing::kGuideTn;
using csrsim::testing::ManualConfig;

const std::string kCreateBody = csrsim::testing::CreateBody();

// A Bandwidth API request, with the guide's credentials unless told otherwise.
HttpRequest Request(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& authorization = kGuideAuthorization) {
  return csrsim::testing::MakeRequest(method, path, body, authorization);
}

HttpResponse Send(InProcessSimulator& sim, HttpRequest request) { return sim.Handle(std::move(request)); }

std::optional<std::string> HeaderOf(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

// Text at an XPath like "/CsrResponse/ResponseStatus/ErrorCode".
std::string XPath(const std::string& xml, const char* path) {
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  return doc.select_node(path).node().text().as_string();
}

Config TwoAccounts() {
  Config config = ManualConfig();
  config.accounts = {
      {"1", true, {{"alice", "a-pass"}}, {{"alice-app", "a-secret"}}, RateLimit{2, std::chrono::seconds(1)}},
      {"2", false, {{"bob", "b-pass"}}, {}, std::nullopt},
  };
  return config;
}

}  // namespace

TEST_CASE("every accepted prefix reaches the same routes and Location echoes it") {
  InProcessSimulator sim(ManualConfig(), false);
  for (std::string prefix : {"", "/api", "/api/v1", "/api/v2", "/v1.0", "/api/v1.0"}) {
    INFO(prefix);
    auto created = Send(sim, Request("POST", prefix + "/accounts/9900000/csrs", kCreateBody));
    REQUIRE(created.status == 200);
    CHECK(created.content_type == "application/xml");
    const std::string id = XPath(created.body, "/CsrResponse/OrderId");
    CHECK(HeaderOf(created, "Location") == "http://sim.test" + prefix + "/accounts/9900000/csrs/" + id);
    CHECK(Send(sim, Request("GET", prefix + "/accounts/9900000/csrs/" + id)).status == 200);
  }
  CHECK(Send(sim, Request("GET", "/api/v3/accounts/9900000/csrs")).status == 404);
}

TEST_CASE("POST /csrs can answer 201 as the OpenAPI spec says, when configured") {
  Config config = ManualConfig();
  config.create_status = 201;
  InProcessSimulator sim(config, false);
  CHECK(Send(sim, Request("POST", "/api/accounts/1/csrs", kCreateBody)).status == 201);
}

TEST_CASE("missing, malformed and wrong credentials get 401 with WWW-Authenticate and no body") {
  InProcessSimulator sim(ManualConfig(), false);
  for (std::string authorization :
       {std::string(), std::string("Basic"), std::string("Basic !!!"), "Basic " + Base64Encode("username:wrong"),
        "Basic " + Base64Encode("nocolon"), std::string("Bearer unknown-token"), std::string("Digest x")}) {
    INFO(authorization);
    auto response = Send(sim, Request("GET", "/api/accounts/9900000/csrs", "", authorization));
    CHECK(response.status == 401);
    CHECK(response.body.empty());
    CHECK(HeaderOf(response, "WWW-Authenticate") == "Basic realm=\"Bandwidth\"");
  }
}

TEST_CASE("a user of another account gets 403 1001 and cannot see its orders") {
  InProcessSimulator sim(TwoAccounts(), false);
  const std::string alice = "Basic " + Base64Encode("alice:a-pass");
  const std::string bob = "Basic " + Base64Encode("bob:b-pass");
  auto created = Send(sim, Request("POST", "/api/accounts/1/csrs", kCreateBody, alice));
  REQUIRE(created.status == 200);
  const std::string id = XPath(created.body, "/CsrResponse/OrderId");

  auto denied = Send(sim, Request("GET", "/api/accounts/1/csrs/" + id, "", bob));
  CHECK(denied.status == 403);
  CHECK(XPath(denied.body, "/CsrResponse/ResponseStatus/ErrorCode") == "1001");
  CHECK(XPath(denied.body, "/CsrResponse/ResponseStatus/Description") == "Access Denied");
  CHECK(Send(sim, Request("GET", "/api/accounts/3/csrs", "", alice)).status == 403);                // unlisted account
  CHECK(Send(sim, Request("GET", "/api/accounts/1/csrs", "", kGuideAuthorization)).status == 401);  // no open mode
}

TEST_CASE("an account without the CSR feature gets 403 12160 on CSR routes only") {
  InProcessSimulator sim(TwoAccounts(), false);
  const std::string bob = "Basic " + Base64Encode("bob:b-pass");
  auto response = Send(sim, Request("POST", "/api/accounts/2/csrs", kCreateBody, bob));
  CHECK(response.status == 403);
  CHECK(XPath(response.body, "/CsrResponse/ResponseStatus/ErrorCode") == "12160");
  CHECK(XPath(response.body, "/CsrResponse/ResponseStatus/Description") ==
        "The operation could not be performed because Account 2 does not have the CSR feature enabled.");
  CHECK(Send(sim, Request("GET", "/api/accounts/2/subscriptions", "", bob)).status == 200);
}

TEST_CASE("the rate limit answers 429 with X-RateLimit-Reset until the window passes") {
  InProcessSimulator sim(TwoAccounts(), false);
  const std::string alice = "Basic " + Base64Encode("alice:a-pass");
  CHECK(Send(sim, Request("GET", "/api/accounts/1/csrs", "", alice)).status == 200);
  CHECK(Send(sim, Request("GET", "/api/accounts/1/csrs", "", alice)).status == 200);
  auto limited = Send(sim, Request("GET", "/api/accounts/1/csrs", "", alice));
  CHECK(limited.status == 429);
  CHECK(limited.body.empty());
  auto reset = HeaderOf(limited, "X-RateLimit-Reset");
  REQUIRE(reset);
  // The manual clock starts at 2026-01-01T00:00:00Z; the window ends a second later.
  CHECK(*reset == "1767225601");
}

TEST_CASE("OAuth2 client credentials give a Bearer token that works until it expires") {
  InProcessSimulator sim(TwoAccounts(), false);
  HttpRequest token_request = Request("POST", "/api/v1/oauth2/token", "grant_type=client_credentials",
                                      "Basic " + Base64Encode("alice-app:a-secret"));
  auto token = Send(sim, token_request);
  REQUIRE(token.status == 200);
  CHECK(token.content_type == "application/json");
  CHECK(token.body.find("\"token_type\":\"Bearer\"") != std::string::npos);
  CHECK(token.body.find("\"expires_in\":3600") != std::string::npos);
  auto start = token.body.find("\"access_token\":\"") + 16;
  const std::string access_token = token.body.substr(start, token.body.find('"', start) - start);

  CHECK(Send(sim, Request("GET", "/api/accounts/1/subscriptions", "", "Bearer " + access_token)).status == 200);
  CHECK(Send(sim, Request("GET", "/api/accounts/2/subscriptions", "", "Bearer " + access_token)).status == 403);

  auto wrong_secret = Send(sim, Request("POST", "/api/v1/oauth2/token", "grant_type=client_credentials",
                                        "Basic " + Base64Encode("alice-app:nope")));
  CHECK(wrong_secret.status == 401);
  CHECK(wrong_secret.body.find("invalid_client") != std::string::npos);
  auto wrong_grant = Send(sim, Request("POST", "/api/v1/oauth2/token", "grant_type=password",
                                       "Basic " + Base64Encode("alice-app:a-secret")));
  CHECK(wrong_grant.status == 400);
}

TEST_CASE("under --auth oauth Basic is refused, under --auth basic Bearer is refused") {
  Config oauth = ManualConfig();
  oauth.auth = AuthMode::kOAuth;
  InProcessSimulator oauth_sim(oauth, false);
  CHECK(Send(oauth_sim, Request("GET", "/api/accounts/1/csrs")).status == 401);
  auto token = Send(oauth_sim, Request("POST", "/api/v1/oauth2/token", "grant_type=client_credentials",
                                       "Basic " + Base64Encode("clientId:clientSecret")));
  REQUIRE(token.status == 200);
  auto start = token.body.find("\"access_token\":\"") + 16;
  const std::string bearer = "Bearer " + token.body.substr(start, token.body.find('"', start) - start);
  CHECK(Send(oauth_sim, Request("GET", "/api/accounts/1/csrs", "", bearer)).status == 200);

  Config basic = ManualConfig();
  basic.auth = AuthMode::kBasic;
  InProcessSimulator basic_sim(basic, false);
  CHECK(Send(basic_sim, Request("GET", "/api/accounts/1/csrs", "", bearer)).status == 401);
  CHECK(Send(basic_sim, Request("GET", "/api/accounts/1/csrs")).status == 200);
}

TEST_CASE("CSR validation errors list every violation in CsrOrderResponse and store nothing") {
  InProcessSimulator sim(ManualConfig(), false);
  auto response = Send(sim, Request("POST", "/api/accounts/1/csrs",
                                    "<Csr><WorkingOrBillingTelephoneNumber>123</WorkingOrBillingTelephoneNumber>"
                                    "<State>N1</State><CustomerCode>12a</CustomerCode></Csr>"));
  CHECK(response.status == 400);
  pugi::xml_document doc;
  REQUIRE(doc.load_string(response.body.c_str()));
  auto errors = doc.select_nodes("/CsrOrderResponse/Errors/Error");
  CHECK(errors.size() == 3);
  CHECK(XPath(response.body, "/CsrOrderResponse/Errors/Error/Code") == "5070");
  auto list = Send(sim, Request("GET", "/api/accounts/1/csrs"));
  CHECK(XPath(list.body, "/CsrResponses/TotalCount") == "0");
}

TEST_CASE("malformed XML, a wrong root and an empty body are 400s with the endpoint's envelope") {
  InProcessSimulator sim(ManualConfig(), false);
  CHECK(XPath(Send(sim, Request("POST", "/api/accounts/1/csrs", "<Csr><oops></Csr>")).body,
              "/CsrOrderResponse/Errors/Error/Code") == "1002");
  CHECK(XPath(Send(sim, Request("POST", "/api/accounts/1/csrs", "<Order/>")).body,
              "/CsrOrderResponse/Errors/Error/Code") == "1002");
  CHECK(XPath(Send(sim, Request("POST", "/api/accounts/1/csrs", "")).body, "/CsrOrderResponse/Errors/Error/Code") ==
        "1003");
  auto subscription = Send(sim, Request("POST", "/api/accounts/1/subscriptions", "<Subscription>"));
  CHECK(subscription.status == 400);
  CHECK(XPath(subscription.body, "/SubscriptionsResponse/ResponseStatus/ErrorCode") == "1002");
  const std::string id = sim.CreateOrder(kGuideTn, "1");
  auto note =
      Send(sim, Request("POST", "/api/accounts/1/csrs/" + id + "/notes", "<Note><Description>x</Description></Note>"));
  CHECK(note.status == 400);
  CHECK(XPath(note.body, "/NoteResponse/ResponseStatus/ErrorCode") == "12501");
}

TEST_CASE("a body over the size limit gets 413 with the envelope and creates nothing") {
  Config config = ManualConfig();
  config.max_body_bytes = 1024;
  InProcessSimulator sim(config, false);
  std::string big = "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber><City>" +
                    std::string(2000, 'a') + "</City></Csr>";
  auto response = Send(sim, Request("POST", "/api/accounts/1/csrs", big));
  CHECK(response.status == 413);
  CHECK(XPath(response.body, "/CsrResponse/ResponseStatus/ErrorCode") == "1011");
  CHECK(XPath(Send(sim, Request("GET", "/api/accounts/1/csrs")).body, "/CsrResponses/TotalCount") == "0");
}

TEST_CASE("unknown ids are 404s in each route family's envelope") {
  InProcessSimulator sim(ManualConfig(), false);
  auto order = Send(sim, Request("GET", "/api/accounts/1/csrs/6179c724-a763-48bf-9a9c-b15110b099fa"));
  CHECK(order.status == 404);
  CHECK(XPath(order.body, "/CsrResponse/ResponseStatus/Description") == "The resource does not exist");
  CHECK(Send(sim, Request("GET", "/api/accounts/1/csrs/not-a-uuid")).status == 404);
  auto subscription = Send(sim, Request("DELETE", "/api/accounts/1/subscriptions/nope"));
  CHECK(subscription.status == 404);
  CHECK(XPath(subscription.body, "/SubscriptionsResponse/ResponseStatus/ErrorCode") == "16000");
  const std::string id = sim.CreateOrder(kGuideTn, "1");
  auto note = Send(sim, Request("PUT", "/api/accounts/1/csrs/" + id + "/notes/abc",
                                "<Note><UserId>u</UserId><Description>d</Description></Note>"));
  CHECK(note.status == 404);
  CHECK(XPath(note.body, "/NoteResponse/ResponseStatus/ErrorCode") == "5040");
}

TEST_CASE("a known path with an unsupported method is a 405") {
  InProcessSimulator sim(ManualConfig(), false);
  CHECK(Send(sim, Request("DELETE", "/api/accounts/1/csrs")).status == 405);
  CHECK(Send(sim, Request("GET", "/api/v1/oauth2/token")).status == 405);
}

TEST_CASE("list links keep the filters, URL-encoded, and page on") {
  InProcessSimulator sim(ManualConfig(), false);
  sim.CreateOrder();
  sim.CreateOrder();
  HttpRequest request = Request("GET", "/api/accounts/9900000/csrs");
  request.query = {{"status", "RECEIVED"}, {"modifiedDateFrom", "2020-01-01T00:00:00 00:00"}, {"size", "1"}};
  auto response = Send(sim, request);
  REQUIRE(response.status == 200);
  CHECK(XPath(response.body, "/CsrResponses/TotalCount") == "2");
  CHECK(XPath(response.body, "/CsrResponses/Links/next") ==
        "Link=<http://sim.test/api/accounts/9900000/csrs?modifiedDateFrom=2020-01-01T00%3A00%3A00%2000%3A00&"
        "status=RECEIVED&page=2&size=1>;rel=\"next\";");
}

TEST_CASE("notes: 204 when none, 201 with a numeric Location, then listed") {
  InProcessSimulator sim(ManualConfig(), false);
  const std::string id = sim.CreateOrder();
  const std::string notes = "/api/accounts/9900000/csrs/" + id + "/notes";
  CHECK(Send(sim, Request("GET", notes)).status == 204);
  auto added =
      Send(sim, Request("POST", notes, "<Note><UserId>customer</UserId><Description>Test</Description></Note>"));
  CHECK(added.status == 201);
  CHECK(added.body.empty());
  auto location = HeaderOf(added, "Location");
  REQUIRE(location);
  const std::string note_id = location->substr(location->rfind('/') + 1);
  CHECK(note_id.find_first_not_of("0123456789") == std::string::npos);
  auto listed = Send(sim, Request("GET", notes));
  CHECK(listed.status == 200);
  CHECK(XPath(listed.body, "/Notes/Note/Id") == note_id);
  CHECK(XPath(listed.body, "/Notes/Note/UserId") == "customer");
}
