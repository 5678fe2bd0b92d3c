// control_internal: what the control API's source files share — the JSON
// answer and request-reading helpers defined in control.cpp, and the route
// bodies the other control_*.cpp files define for ControlApi::AddRoutes.
// Internal to the control module; not a public header.
//
// Thread-safety: the helpers are stateless; route bodies are safe from many
// threads like the facade they steer (admin.hpp).
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csrsim/admin.hpp"
#include "csrsim/error.hpp"
#include "csrsim/http.hpp"

namespace csrsim::control_internal {

using Json = nlohmann::json;

// ---- answers (control.cpp)
HttpResponse JsonResponse(int status, const Json& body);
HttpResponse JsonError(const Error& error);  // the JSON shape of an Error: {"error": ...}
Error BadRequest(std::string message);       // a 400 with the message
std::string Quoted(std::string_view text);

// ---- reading requests (control.cpp)
// Refuses query parameters not in `allowed`.
void CheckQuery(const HttpRequest& request, std::initializer_list<std::string_view> allowed);
// The request's body as a JSON object (an empty body is {}); refuses keys not in `allowed`.
Json JsonObjectBody(const HttpRequest& request, std::initializer_list<std::string_view> allowed);
std::optional<std::string> StringField(const Json& body, const std::string& key);
std::string RequiredString(const Json& body, const std::string& key);
Duration ParseDurationOf(const std::string& key, const std::string& text);
std::optional<std::string> AccountField(const Json& body);  // "account", never empty
std::optional<std::string> AccountQuery(const HttpRequest& request);
// ?timeout= of a long-poll: default 5s, at most 60s.
Duration WaitTimeout(const HttpRequest& request);

// ---- JSON views (control.cpp)
Json ScenariosJson(const ScenarioSet& set);                                         // as GET /_sim/scenarios answers
Json HeadersJson(const std::vector<std::pair<std::string, std::string>>& headers);  // folded repeats

// ---- per-account scenario sets (control_accounts.cpp)
HttpResponse GetAccountScenarios(SimulatorAdmin& admin, const HttpRequest& request);
HttpResponse PutAccountScenarios(SimulatorAdmin& admin, const HttpRequest& request);
HttpResponse DeleteAccountScenarios(SimulatorAdmin& admin, const HttpRequest& request);

// ---- GET /_sim/metrics (control_metrics.cpp)
HttpResponse GetMetrics(SimulatorAdmin& admin, const HttpRequest& request);

// ---- the request journal (control_requests.cpp)
HttpResponse ListRequests(SimulatorAdmin& admin, const HttpRequest& request);
HttpResponse CountRequests(SimulatorAdmin& admin, const HttpRequest& request);
HttpResponse WaitForRequests(SimulatorAdmin& admin, const HttpRequest& request);

}  // namespace csrsim::control_internal
