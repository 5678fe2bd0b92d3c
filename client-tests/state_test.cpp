// Durable state (--state FILE, README.md "Durable state") against the real
// binary: what a run acknowledged is there after a restart, and orders carry
// on from where they stopped once the restored manual clock moves.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::string kAccount = "/api/accounts/9900000";

std::string CsrBody(const std::string& tn) {
  return "<Csr><WorkingOrBillingTelephoneNumber>" + tn + "</WorkingOrBillingTelephoneNumber></Csr>";
}

std::string CreateOrder(httplib::Client& api, const std::string& tn) {
  auto created = api.Post((kAccount + "/csrs").c_str(), CsrBody(tn), "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 200);
  auto order_id = XmlText(created->body, "OrderId");
  REQUIRE(order_id);
  return *order_id;
}

std::string Get(httplib::Client& api, const std::string& path) {
  auto response = api.Get(path.c_str());
  REQUIRE(response);
  REQUIRE(response->status < 300);  // 204 for an order without notes
  return response->body;
}

// `body` with the simulator's own address (in list links) made port-independent.
std::string WithoutPort(std::string body, int port) {
  const std::string address = "127.0.0.1:" + std::to_string(port);
  for (auto at = body.find(address); at != std::string::npos; at = body.find(address, at)) {
    body.replace(at, address.size(), "SIMULATOR");
  }
  return body;
}

std::vector<std::string> StateArgs(const std::string& file) {
  return {"--clock", "manual", "--log-level", "off", "--state", file};
}

}  // namespace

TEST_CASE("orders, notes, PIN updates, subscriptions and the manual clock survive a restart") {
  const std::string file = MakeTempDir() + "/state.db";
  CallbackReceiver receiver;
  std::string guide, pin, stuck, cancelled, subscription;
  std::map<std::string, std::string> before;  // path → body
  std::string clock_before;
  {
    SimulatorProcess sim(StateArgs(file));
    auto api = sim.Client();
    auto created = api->Post((kAccount + "/subscriptions").c_str(), SubscriptionRequest(receiver.Url()).Xml(),
                             "application/xml");
    REQUIRE(created);
    REQUIRE(created->status == 201);
    subscription = LocationId(created);
    guide = CreateOrder(*api, "9198675309");  // PROCESSING at 1 s, COMPLETE at 3 s
    pin = CreateOrder(*api, "9195550001");    // ACTION_REQUIRED at 2 s, COMPLETE 2 s after the PIN
    stuck = CreateOrder(*api, "9195550002");  // PROCESSING at 1 s, then nothing
    cancelled = CreateOrder(*api, "9195551234");
    REQUIRE(AdvanceClock(sim, "2s"));
    auto pin_update = api->Put((kAccount + "/csrs/" + pin).c_str(),
                               "<Csr><EndUserPIN>1234</EndUserPIN></Csr>", "application/xml");
    REQUIRE(pin_update);
    REQUIRE(pin_update->status == 200);
    auto cancel = api->Put((kAccount + "/csrs/" + cancelled).c_str(),
                           "<Csr><Status>REQUESTED_CANCEL</Status></Csr>", "application/xml");
    REQUIRE(cancel);
    REQUIRE(cancel->status == 200);
    auto note = api->Post((kAccount + "/csrs/" + stuck + "/notes").c_str(),
                          "<Note><UserId>me</UserId><Description>still waiting</Description></Note>",
                          "application/xml");
    REQUIRE(note);
    REQUIRE(note->status < 300);
    for (const auto& id : {guide, pin, stuck, cancelled}) {
      before[kAccount + "/csrs/" + id] = Get(*api, kAccount + "/csrs/" + id);
      before[kAccount + "/csrs/" + id + "/notes"] = Get(*api, kAccount + "/csrs/" + id + "/notes");
    }
    before[kAccount + "/subscriptions"] = Get(*api, kAccount + "/subscriptions");
    before[kAccount + "/csrs"] = WithoutPort(Get(*api, kAccount + "/csrs"), sim.port());
    clock_before = nlohmann::json::parse(Get(*sim.Client(""), "/_sim/clock")).dump();
    REQUIRE(sim.Stop() == 0);
  }
  CHECK(XmlText(before[kAccount + "/csrs/" + guide], "Status") == "PROCESSING");
  CHECK(XmlText(before[kAccount + "/csrs/" + pin], "Status") == "PROCESSING");  // resumed by the PIN
  CHECK(XmlText(before[kAccount + "/csrs/" + cancelled], "Status") == "CANCELLED");

  SimulatorProcess sim(StateArgs(file));
  auto api = sim.Client();
  for (const auto& [path, body] : before) {
    INFO(path);
    CHECK(WithoutPort(Get(*api, path), sim.port()) == body);
  }
  CHECK(nlohmann::json::parse(Get(*sim.Client(""), "/_sim/clock")).dump() == clock_before);

  // The pending steps run at their stored due times on the restored clock.
  const std::size_t delivered = receiver.Requests().size();
  REQUIRE(AdvanceClock(sim, "2s"));
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + guide), "Status") == "COMPLETE");
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + guide), "CustomerName") == "House of Mouse");
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + pin), "Status") == "COMPLETE");
  CHECK(XmlText(Get(*api, kAccount + "/csrs/" + stuck), "Status") == "PROCESSING");
  // Both COMPLETE notifications went to the restored subscription.
  CHECK(receiver.WaitForCount(delivered + 2));

  // A new note gets an id of its own, not one the first run handed out.
  auto note = api->Post((kAccount + "/csrs/" + stuck + "/notes").c_str(),
                        "<Note><UserId>me</UserId><Description>again</Description></Note>", "application/xml");
  REQUIRE(note);
  const std::string notes = Get(*api, kAccount + "/csrs/" + stuck + "/notes");
  CHECK(XmlCount(notes, "Note") == 2);
  CHECK(XmlText(notes, "Id") != XmlText(notes.substr(notes.find("</Note>")), "Id"));
}

TEST_CASE("POST /_sim/reset empties the state file too") {
  const std::string file = MakeTempDir() + "/state.db";
  std::string order;
  {
    SimulatorProcess sim(StateArgs(file));
    auto api = sim.Client();
    order = CreateOrder(*api, "9198675309");
    auto reset = sim.Client("")->Post("/_sim/reset", "", "application/json");
    REQUIRE(reset);
    REQUIRE(reset->status < 300);
    CreateOrder(*api, "9195551234");
    REQUIRE(sim.Stop() == 0);
  }
  SimulatorProcess sim(StateArgs(file));
  auto api = sim.Client();
  auto gone = api->Get((kAccount + "/csrs/" + order).c_str());
  REQUIRE(gone);
  CHECK(gone->status == 404);
  CHECK(XmlText(Get(*api, kAccount + "/csrs"), "TotalCount") == "1");
}
