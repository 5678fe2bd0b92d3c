// --shutdown-grace: on SIGTERM, queued callbacks are delivered for up to the
// grace before the simulator exits; the stop line counts what is left and the
// port file is removed.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

// True while something accepts TCP connections on 127.0.0.1:port.
bool Accepts(int port) { return RawConnection(port).connected(); }

// Waits (bounded) until the simulator's listener is closed: it is stopping.
bool WaitUntilListenerClosed(int port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Accepts(port)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

TEST_CASE("SIGTERM with --shutdown-grace delivers the queued callbacks, logs the stop line and removes the port file") {
  const std::string port_file = MakeTempDir() + "/port";
  SimulatorProcess sim({"--clock", "manual", "--log-level", "info", "--port-file", port_file, "--shutdown-grace", "30s",
                        "--callback-timeout", "60s"});
  CallbackReceiver receiver({.holding = true});  // answers nothing until Release()
  auto api = sim.Client();
  const std::string notes =
      "/api/accounts/9900000/csrs/" + SubscribeAndCreate(*api, "9900000", receiver.Url()) + "/notes";
  // Each note queues one callback; the order's callbacks go one at a time.
  for (int i = 0; i < 20; ++i) {
    auto added =
        api->Post(notes.c_str(), "<Note><UserId>u</UserId><Description>n" + std::to_string(i) + "</Description></Note>",
                  "application/xml");
    REQUIRE(added);
    REQUIRE(added->status == 201);
  }
  // The first callback is held by the receiver; the other 19 wait in the
  // order's queue. Stop the simulator, and only once it has stopped serving
  // let the receiver answer: what arrives now was sent during the grace.
  REQUIRE(receiver.WaitUntilHolding());
  REQUIRE(kill(sim.pid(), SIGTERM) == 0);
  REQUIRE(WaitUntilListenerClosed(sim.port()));
  receiver.Release();
  CHECK(sim.Stop() == 0);
  const std::string err = sim.Stderr();
  INFO(err);
  CHECK(err.find(" info shutdown signal=SIGTERM dropped_callbacks=0 callbacks_queued=0 callbacks_on_clock=0 ") !=
        std::string::npos);
  CHECK(receiver.Requests().size() == 20);
  CHECK_FALSE(std::ifstream(port_file).good());
}
