// Durable state (--state FILE, README.md "Durable state"): a write that fails —
// a full disk, here a file capped by the test-only CSRSIM_TEST_STATE_MAX_PAGES —
// answers 503 with a Bandwidth-shaped body, leaves nothing of the call in the
// file, and the simulator keeps serving.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccount = "/api/accounts/9900000";

std::vector<std::string> StateArgs(const std::string& file) {
  return {"--clock", "manual", "--log-level", "off", "--state", file};
}

httplib::Result Create(const SimulatorProcess& sim) {
  return sim.Client()->Post((kAccount + "/csrs").c_str(),
                            "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>",
                            "application/xml");
}

std::string TotalCount(const SimulatorProcess& sim) {
  auto listed = sim.Client()->Get((kAccount + "/csrs").c_str());
  REQUIRE(listed);
  REQUIRE(listed->status == 200);
  return XmlText(listed->body, "TotalCount").value_or("");
}

}  // namespace

TEST_CASE("a full state file: the create answers 503 with a body, nothing half-written, the simulator goes on") {
  const std::string file = MakeTempDir() + "/state.db";
  std::vector<std::string> acknowledged;
  {
    ::setenv("CSRSIM_TEST_STATE_MAX_PAGES", "64", 1);  // 256 KiB: a few hundred orders
    SimulatorProcess sim(StateArgs(file));
    ::unsetenv("CSRSIM_TEST_STATE_MAX_PAGES");
    std::optional<httplib::Response> refused;
    for (int i = 0; i < 10000 && !refused; ++i) {
      auto created = Create(sim);
      REQUIRE(created);
      if (created->status == 200) {
        acknowledged.push_back(XmlText(created->body, "OrderId").value_or(""));
      } else {
        refused = *created;
      }
    }
    REQUIRE(refused);
    CHECK(refused->status == 503);
    INFO(refused->body);
    CHECK(XmlRoot(refused->body) == "CsrResponse");
    CHECK(XmlText(refused->body, "ErrorCode") == "1018");
    CHECK(XmlText(refused->body, "Description").value_or("").find("state file could not be written") !=
          std::string::npos);
    REQUIRE(acknowledged.size() > 10);
    // The refused create left no order behind, and the simulator still serves.
    CHECK(TotalCount(sim) == std::to_string(acknowledged.size()));
    auto health = sim.Client("")->Get("/_sim/health");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto first = sim.Client()->Get((kAccount + "/csrs/" + acknowledged.front()).c_str());
    REQUIRE(first);
    CHECK(first->status == 200);
    auto again = Create(sim);  // still full: refused the same way, not a crash
    REQUIRE(again);
    CHECK(again->status == 503);
    REQUIRE(sim.Stop() == 0);
  }
  // Without the cap: every acknowledged order is there, nothing else, and creates work.
  SimulatorProcess sim(StateArgs(file));
  CHECK(TotalCount(sim) == std::to_string(acknowledged.size()));
  auto last = sim.Client()->Get((kAccount + "/csrs/" + acknowledged.back()).c_str());
  REQUIRE(last);
  CHECK(last->status == 200);
  auto created = Create(sim);
  REQUIRE(created);
  CHECK(created->status == 200);
}
