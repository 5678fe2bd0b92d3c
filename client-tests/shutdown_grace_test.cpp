// --shutdown-grace: on SIGTERM, queued callbacks are delivered for up to the
// grace before the simulator exits; the stop line counts what is left and the
// port file is removed.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "support.hpp"

using namespace csrsim::testing;

TEST_CASE("SIGTERM with --shutdown-grace delivers the queued callbacks, logs the stop line and removes the port file") {
  const std::string port_file = MakeTempDir() + "/port";
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--port-file", port_file, "--shutdown-grace", "30s"});
  CallbackReceiver receiver;
  auto api = sim.Client();
  auto subscribed = api->Post("/api/accounts/9900000/subscriptions", SubscriptionRequest(receiver.Url()).Xml(),
                              "application/xml");
  REQUIRE(subscribed);
  REQUIRE(subscribed->status == 201);
  auto created = api->Post("/api/accounts/9900000/csrs", kGuideCsrBody, "application/xml");
  REQUIRE(created);
  const std::string notes = "/api/accounts/9900000/csrs/" + XmlText(created->body, "OrderId").value_or("") + "/notes";
  // Each note queues one callback; the order's callbacks go one at a time.
  for (int i = 0; i < 20; ++i) {
    auto added = api->Post(notes.c_str(), "<Note><UserId>u</UserId><Description>n" + std::to_string(i) +
                                              "</Description></Note>", "application/xml");
    REQUIRE(added);
    REQUIRE(added->status == 201);
  }
  CHECK(sim.Stop() == 0);
  const std::string err = sim.Stderr();
  INFO(err);
  CHECK(err.find("dropped 0 undelivered callbacks (0 queued, 0 waiting on the clock)") != std::string::npos);
  CHECK(receiver.Requests().size() == 20);
  CHECK_FALSE(std::ifstream(port_file).good());
}
