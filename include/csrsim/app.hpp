// app: one simulator instance — every part wired together, in start order:
// clock → scenarios → store → journal → scheduler → dispatcher → engine →
// APIs → HTTP server. Used by main() and by tests that want a whole simulator.
//
// Thread-safety: construct, Start and Stop from one thread; Handle() is safe
// from many threads once constructed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "csrsim/config.hpp"
#include "csrsim/error.hpp"
#include "csrsim/http.hpp"

namespace csrsim {

// The bundled scenarios/default.yaml, compiled in.
extern const char kDefaultScenariosYaml[];

// What Stop() dropped: work that was still to happen when the simulator
// stopped; and what it still did.
struct ShutdownReport {
  std::size_t callbacks_queued = 0;    // waiting for a worker or held out of order
  std::size_t callbacks_on_clock = 0;  // delay faults and retry backoffs not yet due
  std::size_t scheduled_steps = 0;     // order steps (and other tasks) not yet due
  // Delivery attempts that ended after the server stopped: in flight at the
  // signal, or drained during --shutdown-grace.
  std::uint64_t callback_attempts_drained = 0;
  std::size_t callbacks() const { return callbacks_queued + callbacks_on_clock; }
};

class Simulator {
 public:
  // Loads the scenarios (throws ScenarioLoadError) and wires every part.
  explicit Simulator(Config config);
  ~Simulator();  // Stop()
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Starts the scheduler, the callback workers and the HTTP server; returns
  // the bound port. Throws std::runtime_error when the port cannot be bound.
  int Start();
  // Stops accepting, finishes in-flight requests and callback attempts, drops
  // the rest and reports what it dropped. Idempotent: later calls report nothing.
  ShutdownReport Stop();
  // Routes one request: /_sim to the control API, the rest to the Bandwidth API.
  HttpResponse Handle(HttpRequest& request);
  // Answers an Error found outside the routes (the server's framing and
  // capacity errors, an exception a route let escape): JSON on /_sim, the
  // Bandwidth shape of the path's route family elsewhere.
  static HttpResponse HandleError(const HttpRequest& request, const Error& error);

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace csrsim
