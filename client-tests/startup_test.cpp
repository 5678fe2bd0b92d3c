// Start-up and shut-down of the real binary: flags, errors, signals.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "support.hpp"

using namespace csrsim::testing;

TEST_CASE("help and version answer on stdout and exit 0") {
  auto help = RunBinary({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("csr-simulator validate PATH...") != std::string::npos);
  auto version = RunBinary({"--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.out.rfind("csr-simulator ", 0) == 0);
}

TEST_CASE("a bad flag prints one line naming it and exits 2") {
  auto result = RunBinary({"--port", "http"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "csr-simulator: --port: invalid value 'http'\n");
}

TEST_CASE("a port in use makes start-up exit 2 naming the address") {
  SimulatorProcess first({"--log-level", "off"});
  auto second = RunBinary({"--port", std::to_string(first.port())});
  CHECK(second.exit_code == 2);
  CHECK(second.err.find("cannot bind 127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
}

TEST_CASE("the --port-file receives the bound port") {
  const std::string path = MakeTempDir() + "/port";
  SimulatorProcess sim({"--port-file", path, "--log-level", "off"});
  std::ifstream in(path);
  int written = 0;
  in >> written;
  CHECK(written == sim.port());
}

TEST_CASE("SIGTERM exits 0 at once even while a client keeps an idle keep-alive connection") {
  SimulatorProcess sim({"--log-level", "off"});
  auto client = sim.Client("");
  client->set_keep_alive(true);
  REQUIRE(client->Get("/_sim/health"));  // the connection stays open and idle
  const auto started = std::chrono::steady_clock::now();
  CHECK(sim.Stop() == 0);
  // Well under the 5 s keep-alive timeout an idle connection would otherwise hold.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
}

TEST_CASE("SIGTERM answers a pending callback long-poll instead of waiting for its time-out") {
  SimulatorProcess sim({"--log-level", "off"});
  auto client = sim.Client("");
  std::thread waiter([&client] { client->Get("/_sim/callbacks/wait?orderId=none&timeout=30s"); });
  // The long-poll is in flight once the server has accepted it; a second request proves the
  // server is up, and the stop below must not wait the 30 s out.
  REQUIRE(sim.Client("")->Get("/_sim/health"));
  const auto started = std::chrono::steady_clock::now();
  CHECK(sim.Stop() == 0);
  waiter.join();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
}

TEST_CASE("every request is logged with method, path, status and microseconds at info level") {
  SimulatorProcess sim;
  auto client = sim.Client();
  REQUIRE(client->Get("/api/accounts/9900000/subscriptions"));
  sim.Stop();
  CHECK(sim.Stderr().find(" info access method=GET path=/api/accounts/9900000/subscriptions status=200 duration_us=") !=
        std::string::npos);
}
