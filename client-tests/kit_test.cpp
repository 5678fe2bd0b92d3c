// The adoption kit as a downstream team copies it: examples/compose (the
// compose file, the scenarios it mounts) checked without a Docker engine —
// the file's wiring is read, and the mounted scenarios run in the real binary
// exactly as the compose file starts it.
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

const std::filesystem::path kCompose = std::filesystem::path(CSRSIM_SOURCE_DIR) / "examples" / "compose";

std::vector<std::string> Strings(const YAML::Node& sequence) {
  std::vector<std::string> out;
  for (const auto& item : sequence) out.push_back(item.as<std::string>());
  return out;
}

}  // namespace

TEST_CASE("the compose example wires the simulator, its scenarios and the receiver together") {
  const YAML::Node compose = YAML::LoadFile((kCompose / "docker-compose.yml").string());
  const YAML::Node simulator = compose["services"]["csr-simulator"];
  const YAML::Node receiver = compose["services"]["receiver"];
  REQUIRE(simulator);
  REQUIRE(receiver);

  // Built from this repository's Dockerfile.
  CHECK(std::filesystem::exists(kCompose / simulator["build"]["context"].as<std::string>() / "Dockerfile"));
  // Health-checked on the control API.
  const auto health = Strings(simulator["healthcheck"]["test"]);
  CHECK(health.back() == "http://127.0.0.1:8080/_sim/health");
  // The scenarios directory it mounts exists and is the one --scenarios reads.
  const std::string mount = simulator["volumes"][0].as<std::string>();
  const std::string host_dir = mount.substr(0, mount.find(':'));
  const std::string container_dir = mount.substr(host_dir.size() + 1, mount.rfind(':') - host_dir.size() - 1);
  CHECK(std::filesystem::is_directory(kCompose / host_dir));
  const auto command = Strings(simulator["command"]);
  CHECK(command == std::vector<std::string>{"--clock", "manual", "--scenarios", container_dir});
  // The receiver reaches the simulator, and registers a callback URL the
  // simulator can reach: service names, never localhost.
  CHECK(receiver["environment"]["SIMULATOR_URL"].as<std::string>() == "http://csr-simulator:8080");
  CHECK(receiver["environment"]["CALLBACK_URL"].as<std::string>() == "http://receiver:9000/callbacks");
  CHECK(receiver["depends_on"]["csr-simulator"]["condition"].as<std::string>() == "service_healthy");
  CHECK(std::filesystem::exists(kCompose / "receiver" / "receiver.py"));
}

TEST_CASE("the compose example's scenarios lint clean and behave as its comments say") {
  const std::string scenarios = (kCompose / "scenarios").string();
  auto lint = RunBinary({"validate", scenarios});
  INFO(lint.out << lint.err);
  CHECK(lint.exit_code == 0);

  SimulatorProcess sim({"--clock", "manual", "--scenarios", scenarios, "--log-level", "off"});
  auto api = sim.Client();
  auto create = [&api](const std::string& tn) {
    auto created = api->Post("/api/accounts/9900000/csrs",
                             "<Csr><WorkingOrBillingTelephoneNumber>" + tn + "</WorkingOrBillingTelephoneNumber></Csr>",
                             "application/xml");
    REQUIRE(created);
    REQUIRE(created->status == 200);
    return "/api/accounts/9900000/csrs/" + XmlText(created->body, "OrderId").value_or("");
  };
  const std::string failing = create("9195551234");
  const std::string completing = create("9198675309");
  REQUIRE(AdvanceClock(sim, "5s"));
  auto failed = api->Get(failing.c_str());
  REQUIRE(failed);
  CHECK(XmlText(failed->body, "Status") == "FAILED");
  CHECK(XmlText(failed->body, "Code") == "26500");
  auto completed = api->Get(completing.c_str());
  REQUIRE(completed);
  CHECK(XmlText(completed->body, "Status") == "COMPLETE");
}
