// The public CSR guide's flow, end to end against the real binary.
#include <catch2/catch.hpp>

#include "support.hpp"

using namespace csrsim::testing;

namespace {
const std::string kCreateBody =
    "<Csr><CustomerOrderId>MyId5</CustomerOrderId>"
    "<WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>";

std::string AdvanceBody(const std::string& by) { return "{\"by\":\"" + by + "\"}"; }
}  // namespace

TEST_CASE("the guide's order completes with House of Mouse data after the clock moves 3 s") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  auto api = sim.Client();
  auto created = api->Post("/api/accounts/9900000/csrs", kCreateBody, "application/xml");
  REQUIRE(created);
  CHECK(created->status == 200);
  CHECK(XmlText(created->body, "Status") == "RECEIVED");
  auto order_id = XmlText(created->body, "OrderId");
  REQUIRE(order_id);
  CHECK(created->get_header_value("Location").find("/api/accounts/9900000/csrs/" + *order_id) !=
        std::string::npos);

  auto control = sim.Client("");
  REQUIRE(control->Post("/_sim/clock/advance", AdvanceBody("3s"), "application/json")->status == 200);

  auto fetched = api->Get(("/api/accounts/9900000/csrs/" + *order_id).c_str());
  REQUIRE(fetched);
  CHECK(fetched->status == 200);
  CHECK(XmlText(fetched->body, "Status") == "COMPLETE");
  CHECK(XmlText(fetched->body, "CustomerName") == "House of Mouse");
  CHECK(XmlText(fetched->body, "UnparsedAddress") == "1234 Main ST Durham NC 27707");
  CHECK(XmlText(fetched->body, "CustomerOrderId") == "MyId5");
}

TEST_CASE("the simulator exits 0 on SIGTERM") {
  SimulatorProcess sim({"--log-level", "off"});
  CHECK(sim.Stop() == 0);
}
