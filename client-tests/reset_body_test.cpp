// POST /_sim/reset reads its body (docs/control-api.md): {"account":"ID"} resets
// that account only, like ?account=ID; unknown keys, a body that is not a JSON
// object and an account given twice differently are 400 JSON errors that reset nothing.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

std::size_t Orders(httplib::Client& api, const std::string& account) {
  auto listed = api.Get(("/api/accounts/" + account + "/csrs").c_str());
  REQUIRE(listed);
  return std::stoul(XmlText(listed->body, "TotalCount").value_or("0"));
}

}  // namespace

TEST_CASE("POST /_sim/reset: a body names the account; a bad body is a 400 that resets nothing") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  auto control = sim.Client("");
  for (const std::string account : {"9900000", "9900001"}) {
    auto created = api->Post(("/api/accounts/" + account + "/csrs").c_str(), kGuideCsrBody, "application/xml");
    REQUIRE(created);
    REQUIRE(created->status == 200);
  }
  const std::vector<std::pair<std::string, std::string>> refused = {
      {R"({"acount":"9900000"})", "unknown key"},
      {R"({"account":"9900000")", "malformed JSON body"},
      {R"(["9900000"])", "JSON object"},
      {R"({"account":""})", "must not be empty"},
      {R"({"account":7})", "account"},
  };
  for (const auto& [body, error] : refused) {
    INFO(body);
    auto answer = control->Post("/_sim/reset", body, "application/json");
    REQUIRE(answer);
    CHECK(answer->status == 400);
    CHECK(answer->get_header_value("Content-Type") == "application/json");
    CHECK(answer->body.find(error) != std::string::npos);
  }
  auto twice = control->Post("/_sim/reset?account=9900001", R"({"account":"9900000"})", "application/json");
  REQUIRE(twice);
  CHECK(twice->status == 400);
  CHECK(Orders(*api, "9900000") == 1);
  CHECK(Orders(*api, "9900001") == 1);

  auto one = control->Post("/_sim/reset", R"({"account":"9900000"})", "application/json");
  REQUIRE(one);
  CHECK(one->status == 200);
  CHECK(one->body == R"({"reset":"9900000"})");
  CHECK(Orders(*api, "9900000") == 0);
  CHECK(Orders(*api, "9900001") == 1);
  auto same = control->Post("/_sim/reset?account=9900001", R"({"account":"9900001"})", "application/json");
  REQUIRE(same);
  CHECK(same->status == 200);
  CHECK(Orders(*api, "9900001") == 0);
}
