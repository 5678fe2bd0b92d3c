// Control API bodies and queries (docs/control-api.md) through a whole
// simulator (manual clock, no subscriptions, so nothing leaves the process).
// The first byte picks the route, the rest is the JSON body (or the query).
// Properties: never a 500, every answer is JSON that parses.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "csrsim/app.hpp"
#include "csrsim/encoding.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

namespace {

struct Fixture {
  std::unique_ptr<Simulator> simulator;
  std::string order_id;

  Fixture() {
    Config config;
    config.port = 0;
    config.clock = "manual";
    config.seed = 1;
    config.log_level = "off";
    simulator = std::make_unique<Simulator>(config);
    simulator->Start();
    CreateOrder();
  }

  // An order for the transition route; ends ACTION_REQUIRED, so advances have work.
  void CreateOrder() {
    HttpRequest create;
    create.method = "POST";
    create.path = "/api/accounts/9900000/csrs";
    create.headers.emplace("Authorization", "Basic dXNlcm5hbWU6cGFzc3dvcmQ=");
    create.body = "<Csr><WorkingOrBillingTelephoneNumber>9198670001</WorkingOrBillingTelephoneNumber></Csr>";
    const std::string body = simulator->Handle(create).body;
    const auto start = body.find("<OrderId>");
    const auto end = body.find("</OrderId>");
    order_id = start < end && end != std::string::npos ? body.substr(start + 9, end - start - 9) : "none";
  }
};

HttpResponse Call(Fixture& fixture, std::string method, std::string target, std::string body) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = target.substr(0, target.find('?'));
  request.body = std::move(body);
  request.headers.emplace("Content-Type", "application/json");
  return fixture.simulator->Handle(request);
}

// A GET with `query` as its decoded query string.
HttpResponse Query(Fixture& fixture, std::string path, const std::string& query) {
  HttpRequest request;
  request.method = "GET";
  request.path = std::move(path);
  for (auto& [name, value] : ParseFormUrlEncoded(query)) request.query.emplace(std::move(name), std::move(value));
  return fixture.simulator->Handle(request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  HttpResponse response;
  switch (data[0] % 8) {
    case 0:
      response = Call(fixture, "POST", "/_sim/clock/advance", rest);
      break;
    case 1:
      response = Call(fixture, "POST", "/_sim/orders/" + fixture.order_id + "/transition", rest);
      break;
    case 2:
      response = Call(fixture, "POST", "/_sim/callbacks/settings", rest);
      break;
    case 3:
      response = Call(fixture, "POST", "/_sim/scenarios/reload", rest);
      break;
    case 4:
      response = Call(fixture, "POST", "/_sim/faults", rest);
      break;
    case 5:
      response = Query(fixture, "/_sim/orders", rest);
      break;
    case 6:
      response = Query(fixture, "/_sim/callbacks", rest);
      break;
    default:
      response = Call(fixture, "POST", "/_sim/reset", rest);
      fixture.CreateOrder();
      break;
  }
  FUZZ_CHECK(response.status != 500);
  FUZZ_CHECK(response.content_type == "application/json");
  FUZZ_CHECK(!nlohmann::json::parse(response.body, nullptr, false).is_discarded());
  // Rules stay from one input to the next only as long as they are harmless.
  Call(fixture, "DELETE", "/_sim/faults", "");
  return 0;
}
