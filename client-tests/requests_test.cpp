// The request journal (/_sim/requests) through real HTTP against the real
// binary: what a system under test sent, asserted without sleeping —
// exactly-once PUTs, a retried 503 on the simulated clock, validation
// reasons, secrets kept out, filters and cursor, count, long-poll, reset,
// capacity.
#include <catch2/catch.hpp>
#include <future>
#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

// GET or POST on /_sim expecting `status`, answering the parsed JSON.
Json SimCall(httplib::Client& client, const std::string& method, const std::string& path, int status = 200,
             const std::string& body = "") {
  auto result = method == "GET" ? client.Get(path.c_str()) : client.Post(path.c_str(), body, "application/json");
  REQUIRE(result);
  INFO(method << " " << path << " -> " << result->status << " " << result->body);
  REQUIRE(result->status == status);
  return Json::parse(result->body);
}

Json Requests(httplib::Client& client, const std::string& query = "") {
  return SimCall(client, "GET", "/_sim/requests" + query)["requests"];
}

std::string CreateOrder(httplib::Client& api, const std::string& account, const std::string& tn) {
  auto created = api.Post(("/api/accounts/" + account + "/csrs").c_str(), CsrBody(tn), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  return XmlText(created->body, "OrderId").value_or("");
}

}  // namespace

TEST_CASE("the request journal shows what the system sent: one PIN PUT, with its body and who sent it") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  const std::string order = CreateOrder(*api, "9900000", "9195550001");  // ACTION_REQUIRED at 2 s
  REQUIRE(AdvanceClock(sim, "2s"));
  auto put = api->Put(("/api/accounts/9900000/csrs/" + order).c_str(),
                      CsrBody("9195550001", "<EndUserPIN>1234</EndUserPIN>"), "application/xml");
  REQUIRE(put);
  REQUIRE(put->status == 200);
  REQUIRE(api->Get(("/api/accounts/9900000/csrs/" + order).c_str()));

  Json puts = Requests(*control, "?route=PUT%20/csrs/*");
  REQUIRE(puts.size() == 1);
  const Json& pin = puts[0];
  CHECK(pin["method"] == "PUT");
  CHECK(pin["path"] == "/api/accounts/9900000/csrs/" + order);
  CHECK(pin["route"] == "PUT /csrs/*");
  CHECK(pin["account"] == "9900000");
  CHECK(pin["auth"] == "basic:username");
  CHECK(pin["headers"]["Authorization"] == "Basic ***");
  CHECK(pin["body"].get<std::string>().find("<EndUserPIN>1234</EndUserPIN>") != std::string::npos);
  CHECK(pin["bodyTruncated"] == false);
  CHECK(pin["status"] == 200);
  CHECK(XmlText(pin["responseBody"].get<std::string>(), "OrderId") == order);
  CHECK(pin["receivedAt"] == "2026-01-01T00:00:02.000Z");
  CHECK(pin["receivedWallTime"].get<std::string>().size() == 24);
  CHECK(pin["errorCode"].is_null());
  CHECK(pin["fault"].is_null());
  CHECK(pin["latencyUs"].get<std::int64_t>() >= 0);

  Json all = SimCall(*control, "GET", "/_sim/requests");
  CHECK(all["requests"].size() == 3);  // POST, PUT, GET in arrival order; control calls are not journaled
  CHECK(all["requests"][0]["route"] == "POST /csrs");
  CHECK(all["requests"][2]["route"] == "GET /csrs/*");
  CHECK(all["requests"][0]["id"].get<int>() < all["requests"][1]["id"].get<int>());
  CHECK(all["next"].is_null());
  CHECK(all["dropped"] == 0);
  CHECK(SimCall(*control, "GET", "/_sim/requests/count?route=PUT%20/csrs/*&account=9900000")["count"] == 1);
  // The Basic credentials appear nowhere.
  CHECK(all.dump().find("dXNlcm5hbWU6cGFzc3dvcmQ=") == std::string::npos);
}

TEST_CASE("the request journal shows a 503 answered by a fault and its retry at least 1 s later") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  SimCall(*control, "POST", "/_sim/faults", 201,
          R"({"target":"api","route":"POST /csrs","action":"status","status":503,"count":1})");
  auto refused = api->Post("/api/accounts/9900000/csrs", CsrBody("9198675309"), "application/xml");
  REQUIRE(refused);
  REQUIRE(refused->status == 503);
  REQUIRE(AdvanceClock(sim, "1500ms"));  // the system's back-off
  CreateOrder(*api, "9900000", "9198675309");

  Json creates = Requests(*control, "?route=POST%20/csrs");
  REQUIRE(creates.size() == 2);
  CHECK(creates[0]["status"] == 503);
  CHECK(creates[0]["fault"] == "status 503 (fault-1)");
  CHECK(creates[1]["status"] == 200);
  CHECK(creates[1]["fault"].is_null());
  CHECK(creates[0]["receivedAt"] == "2026-01-01T00:00:00.000Z");
  CHECK(creates[1]["receivedAt"] == "2026-01-01T00:00:01.500Z");
  CHECK(Requests(*control, "?status=5xx").size() == 1);
  CHECK(Requests(*control, "?status=200").size() == 1);
}

TEST_CASE("the request journal gives the reason of a 4xx: the validation rule, bad credentials, no route") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  auto invalid = api->Post("/api/accounts/9900000/csrs", CsrBody("12"), "application/xml");
  REQUIRE(invalid);
  REQUIRE(invalid->status == 400);
  auto wrong = sim.Client(BasicAuthorization("username", "nope"))->Get("/api/accounts/9900000/csrs");
  REQUIRE(wrong);
  REQUIRE(wrong->status == 401);
  auto nowhere = api->Get("/api/accounts/9900000/nothing-here");
  REQUIRE(nowhere);
  REQUIRE(nowhere->status == 404);

  Json four = Requests(*control, "?status=4xx");
  REQUIRE(four.size() == 3);
  CHECK(four[0]["errorCode"] == 5070);
  CHECK(four[0]["errorDescription"].get<std::string>().find("WorkingOrBillingTelephoneNumber") != std::string::npos);
  CHECK(four[0]["reason"] == four[0]["errorDescription"]);
  CHECK(four[1]["auth"] == "basic:username");
  CHECK(four[1]["reason"] == "unknown user or wrong password");
  CHECK(four[1]["errorCode"].is_null());
  CHECK(four[2]["route"].is_null());
  CHECK(four[2]["account"] == "9900000");
  CHECK(Requests(*control, "?route=none").size() == 1);
  CHECK(Requests(*control, "?method=GET").size() == 2);
}

TEST_CASE("the request journal names the OAuth client and never holds its secret or token") {
  SimulatorProcess sim(kManual);
  auto control = sim.Client("");
  auto anonymous = sim.Client("");
  auto issued = anonymous->Post("/api/v1/oauth2/token",
                                "grant_type=client_credentials&client_id=clientId&client_secret=clientSecret",
                                "application/x-www-form-urlencoded");
  REQUIRE(issued);
  REQUIRE(issued->status == 200);
  const std::string token = Json::parse(issued->body)["access_token"];
  auto listed = sim.Client("Bearer " + token)->Get("/api/accounts/9900000/subscriptions");
  REQUIRE(listed);
  REQUIRE(listed->status == 200);

  Json all = SimCall(*control, "GET", "/_sim/requests");
  REQUIRE(all["requests"].size() == 2);
  CHECK(all["requests"][0]["route"] == "POST /api/v1/oauth2/token");
  CHECK(all["requests"][0]["body"] == "grant_type=client_credentials&client_id=clientId&client_secret=***");
  CHECK(all["requests"][0]["responseBody"].get<std::string>().find(R"("access_token":"***")") != std::string::npos);
  CHECK(all["requests"][1]["auth"] == "bearer:clientId");
  CHECK(all["requests"][1]["headers"]["Authorization"] == "Bearer ***");
  CHECK(all.dump().find(token) == std::string::npos);
  CHECK(all.dump().find("clientSecret") == std::string::npos);
}

TEST_CASE("the request journal pages with limit and next, and reset clears one account or all") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  for (int i = 0; i < 3; ++i) REQUIRE(api->Get("/api/accounts/1111/csrs"));
  for (int i = 0; i < 2; ++i) REQUIRE(api->Get("/api/accounts/2222/csrs"));

  Json first = SimCall(*control, "GET", "/_sim/requests?account=1111&limit=2");
  REQUIRE(first["requests"].size() == 2);
  REQUIRE(first["next"].is_number());
  Json rest = SimCall(*control, "GET", "/_sim/requests?account=1111&limit=2&since=" + first["next"].dump());
  CHECK(rest["requests"].size() == 1);
  CHECK(rest["next"].is_null());
  CHECK(rest["requests"][0]["id"].get<int>() > first["requests"][1]["id"].get<int>());

  SimCall(*control, "POST", "/_sim/reset?account=1111");
  CHECK(SimCall(*control, "GET", "/_sim/requests/count")["count"] == 2);
  CHECK(SimCall(*control, "GET", "/_sim/requests/count?account=1111")["count"] == 0);
  SimCall(*control, "POST", "/_sim/reset");
  CHECK(SimCall(*control, "GET", "/_sim/requests/count")["count"] == 0);

  CHECK(SimCall(*control, "GET", "/_sim/requests?limit=0", 400)["error"] ==
        "'limit' must be a whole number from 1 to 10000");
  CHECK(SimCall(*control, "GET", "/_sim/requests?status=abc", 400).contains("error"));
  CHECK(SimCall(*control, "GET", "/_sim/requests?orderId=1", 400).contains("error"));
}

TEST_CASE("the request journal keeps the latest --request-journal-capacity requests and counts the rest") {
  std::vector<std::string> args = kManual;
  args.insert(args.end(), {"--request-journal-capacity", "2"});
  SimulatorProcess sim(args);
  auto api = sim.Client();
  auto control = sim.Client("");
  for (int i = 0; i < 3; ++i) REQUIRE(api->Get("/api/accounts/9900000/csrs"));
  Json all = SimCall(*control, "GET", "/_sim/requests");
  CHECK(all["requests"].size() == 2);
  CHECK(all["dropped"] == 1);
  CHECK(all["capacity"] == 2);
}

TEST_CASE("/_sim/requests/wait answers once N matching requests arrived, or 408 with what did") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  REQUIRE(api->Get("/api/accounts/9900000/csrs"));  // before the wait: counts too
  auto waiting = std::async(std::launch::async, [&sim] {
    auto waiter = sim.Client("");
    auto result = waiter->Get("/_sim/requests/wait?account=9900000&method=GET&count=3&timeout=30s");
    return result ? std::make_pair(result->status, result->body) : std::make_pair(0, std::string());
  });
  REQUIRE(api->Get("/api/accounts/9900000/csrs"));
  REQUIRE(api->Post("/api/accounts/9900000/csrs", CsrBody("9198675309"), "application/xml"));  // not a GET
  REQUIRE(api->Get("/api/accounts/9900000/subscriptions"));
  auto [status, body] = waiting.get();
  REQUIRE(status == 200);
  Json answer = Json::parse(body);
  CHECK(answer["count"] == 3);
  CHECK(answer["requests"].size() == 3);
  CHECK(answer["requests"][2]["route"] == "GET /subscriptions");

  Json timed_out = SimCall(*control, "GET", "/_sim/requests/wait?method=DELETE&timeout=10ms", 408);
  CHECK(timed_out["count"] == 0);
  CHECK(timed_out["error"] == "0 of 1 matching requests within 10ms");
}
