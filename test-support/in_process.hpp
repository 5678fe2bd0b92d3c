// An in-process simulator for the unit tests of the request pipeline
// (simulator/tests/api_test.cpp, control_routes_test.cpp): a whole Simulator
// on a manual clock, with requests handed straight to Simulator::Handle, the
// entry the server uses (no sockets unless started).
//
// Thread-safety: an InProcessSimulator is used from the test's thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "csrsim/app.hpp"

namespace csrsim::testing {

inline constexpr char kGuideAuthorization[] = "Basic dXNlcm5hbWU6cGFzc3dvcmQ=";  // username:password
inline constexpr char kGuideAccount[] = "9900000";
inline constexpr char kGuideTn[] = "9198675309";

// Manual clock, no log, the bundled default scenarios.
Config ManualConfig();

// A request as the server hands it to Simulator::Handle. `target` is a path
// with an optional query ("/_sim/orders?account=1"); Host is sim.test, the
// peer is loopback, /_sim paths carry a JSON Content-Type, and Authorization
// is set when given.
HttpRequest MakeRequest(const std::string& method, const std::string& target, const std::string& body = "",
                        const std::string& authorization = "");

// The body of POST /csrs for `tn`.
std::string CreateBody(const std::string& tn = kGuideTn);

class InProcessSimulator {
 public:
  // With `start`, the scheduler, callback workers and a loopback server on
  // port 0 run too (config.port is set to 0 either way).
  explicit InProcessSimulator(Config config = ManualConfig(), bool start = true);

  HttpResponse Handle(HttpRequest request) { return sim_.Handle(request); }
  HttpResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                    const std::string& authorization = "") {
    return Handle(MakeRequest(method, target, body, authorization));
  }

  // A control call answering JSON with `expected_status` (REQUIREd).
  nlohmann::json Control(const std::string& method, const std::string& target, const std::string& body = "",
                         int expected_status = 200);
  // POST /csrs for `tn` with the guide's credentials (REQUIREs a 200); returns
  // the new order's id.
  std::string CreateOrder(const std::string& tn = kGuideTn, const std::string& account = kGuideAccount);
  // POST /subscriptions for order type csrs to `url`, with callback
  // credentials cb:secret (REQUIREs a 201).
  void Subscribe(const std::string& url, const std::string& account = kGuideAccount);
  // POST /_sim/clock/advance by `by` ("5s").
  nlohmann::json Advance(const std::string& by);

 private:
  Simulator sim_;
};

}  // namespace csrsim::testing
