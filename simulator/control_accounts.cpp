// Per-account control routes: an account's own scenario set,
// GET/PUT/DELETE /_sim/accounts/{id}/scenarios (docs/control-api.md,
// "Per-account scenarios").
#include "control_internal.hpp"
#include "csrsim/scenario.hpp"

namespace csrsim::control_internal {

namespace {

constexpr std::string_view kBodyLabel = "PUT body";  // names the body in file:line:col errors

Json AccountScenariosJson(const SimulatorAdmin& admin, const std::string& account_id) {
  Json json = ScenariosJson(*admin.Scenarios(account_id));
  json["account"] = account_id;
  json["own"] = admin.HasAccountScenarios(account_id);
  return json;
}

}  // namespace

HttpResponse GetAccountScenarios(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {});
  return JsonResponse(200, AccountScenariosJson(admin, request.path_params.at(0)));
}

// The body is a scenario file (YAML, or the same as JSON), validated like one:
// all or nothing, errors as "PUT body:line:col: message".
HttpResponse PutAccountScenarios(SimulatorAdmin& admin, const HttpRequest& request) {
  const std::string& account_id = request.path_params.at(0);
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw BadRequest("the body must be a scenario file (YAML or JSON), see docs/scenarios.md");
  }
  std::shared_ptr<const ScenarioSet> loaded;
  try {
    loaded = std::make_shared<const ScenarioSet>(LoadScenarioText(request.body, kBodyLabel));
  } catch (const ScenarioLoadError& error) {
    throw BadRequest(error.what());
  }
  admin.SetAccountScenarios(account_id, std::move(loaded), request.body);  // durable before applied
  return JsonResponse(200, AccountScenariosJson(admin, account_id));
}

HttpResponse DeleteAccountScenarios(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {});
  const std::string& account_id = request.path_params.at(0);
  admin.RestoreAccountScenarios(account_id);
  return JsonResponse(200, AccountScenariosJson(admin, account_id));
}

}  // namespace csrsim::control_internal
