// control: the JSON control API under /_sim (docs/control-api.md)
// that test suites use to steer the simulator: health, reset, clock, orders,
// forced transitions, the callback journal and long-poll wait, scenarios and
// fault injection. The only module that uses nlohmann-json.
//
// Access: open by default; with Config::control_token set, every /_sim call
// needs "Authorization: Bearer <token>" (Bandwidth credentials never open it).
//
// Thread-safety: Handle() is safe from many threads.
#pragma once

#include <optional>

#include "csrsim/admin.hpp"
#include "csrsim/http.hpp"

namespace csrsim {

class Error;
// The JSON shape of an Error, as the control API answers it: the status of its
// kind (kErrorKinds, error.hpp), its headers and {"error": "<descriptions>"}.
// Also used by the server for errors found before routing (framing, capacity)
// on /_sim paths.
HttpResponse ControlErrorResponse(const Error& error);

class ControlApi {
 public:
  explicit ControlApi(SimulatorAdmin& admin);
  // nullopt when the path is not under /_sim.
  std::optional<HttpResponse> Handle(HttpRequest& request);

 private:
  void AddRoutes();

  SimulatorAdmin& admin_;
  Router router_;
};

}  // namespace csrsim
