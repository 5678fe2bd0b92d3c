#include "csrsim/control.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control_internal.hpp"
#include "csrsim/api.hpp"
#include "csrsim/dashboard.hpp"
#include "csrsim/encoding.hpp"
#include "csrsim/error.hpp"
#include "csrsim/log.hpp"
#include "csrsim/scenario.hpp"
#include "csrsim/wire.hpp"

namespace csrsim {

// The helpers up to "JSON views" are shared with the other control_*.cpp
// files (control_internal.hpp).
namespace control_internal {

using Json = nlohmann::json;

constexpr auto kDefaultWaitTimeout = std::chrono::seconds(5);
constexpr auto kMaxWaitTimeout = std::chrono::seconds(60);
constexpr std::int64_t kMaxLatencyMs = 60'000;
constexpr int kMaxCallbackAttempts = 10;
constexpr std::uint64_t kDefaultOrdersPage = 100;
constexpr std::uint64_t kMaxOrdersPage = 1000;

// The fault kinds' names (model.hpp).
constexpr auto kCallbackFaultNames = [] {
  std::array<std::string_view, kCallbackFaultKindCount> names{};
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = kCallbackFaultKinds[i].name;
  return names;
}();

// ---------------------------------------------------------------------------
// Responses

HttpResponse JsonResponse(int status, const Json& body) {
  // Order fields and callback bodies are client bytes: never fail on bad UTF-8.
  return HttpResponse::Json(status, body.dump(-1, ' ', false, Json::error_handler_t::replace));
}

// The JSON shape of an Error: the status of its kind (error.hpp), its
// headers and {"error": "<its descriptions>"}. A bug's description stays in
// the log; the body only says so.
HttpResponse JsonError(const Error& error) {
  std::string message;
  if (error.kind() == ErrorKind::kInternal) {
    message = "internal error; the simulator logged it";
  } else {
    for (const auto& detail : error.details()) {
      if (!message.empty()) message += "; ";
      message += detail.description;
    }
  }
  HttpResponse response = JsonResponse(error.http_status(), Json{{"error", std::move(message)}});
  for (const auto& [name, value] : error.headers()) response.WithHeader(name, value);
  return response;
}

Error BadRequest(std::string message) { return Error::Invalid(0, std::move(message)); }

// Client input quoted in an error: bounded and escaped (encoding.hpp).
std::string Quoted(std::string_view text) { return "'" + EchoToken(text) + "'"; }

template <typename Names>
std::string JoinNames(const Names& names) {
  std::string joined;
  for (std::string_view name : names) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

// ---------------------------------------------------------------------------
// Reading requests

// Refuses query parameters a route does not take, so a typo cannot silently
// widen a filter. Routes that read a JSON body do not check: the server merges
// a form-encoded body (curl -d without a Content-Type) into the parameters.
void CheckQuery(const HttpRequest& request, std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : request.query) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      throw BadRequest("unknown query parameter " + Quoted(name) +
                       (allowed.size() == 0 ? "; this call takes none" : "; expected " + JoinNames(allowed)));
    }
  }
}

void CheckKeys(const Json& body, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      throw BadRequest("unknown key " + Quoted(key) + "; expected " + JoinNames(allowed));
    }
  }
}

// The request's body as a JSON object; an empty body is {}.
Json JsonObjectBody(const HttpRequest& request) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json body;
  try {
    body = Json::parse(request.body);
  } catch (const Json::exception& error) {
    // parse_error, or out_of_range for a number too large (1e400):
    // "[json.exception.parse_error.101] parse error at ..."
    std::string_view what = error.what();
    if (auto end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
    throw BadRequest("malformed JSON body: " + EchoToken(what, 200));
  }
  if (!body.is_object()) throw BadRequest("the body must be a JSON object");
  return body;
}

Json JsonObjectBody(const HttpRequest& request, std::initializer_list<std::string_view> allowed) {
  Json body = JsonObjectBody(request);
  CheckKeys(body, allowed);
  return body;
}

const Json* FindKey(const Json& body, const std::string& key) {
  auto it = body.find(key);
  return it == body.end() ? nullptr : &*it;
}

std::optional<std::string> StringField(const Json& body, const std::string& key) {
  const Json* value = FindKey(body, key);
  if (!value) return std::nullopt;
  if (!value->is_string()) throw BadRequest(Quoted(key) + " must be a string");
  return value->get<std::string>();
}

std::string RequiredString(const Json& body, const std::string& key) {
  auto value = StringField(body, key);
  if (!value) throw BadRequest(Quoted(key) + " is required");
  return *value;
}

std::optional<std::int64_t> IntegerField(const Json& body, const std::string& key, std::int64_t min, std::int64_t max) {
  const Json* value = FindKey(body, key);
  if (!value) return std::nullopt;
  if (!value->is_number_integer() || value->get<std::int64_t>() < min || value->get<std::int64_t>() > max) {
    throw BadRequest(Quoted(key) + " must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return value->get<std::int64_t>();
}

Duration ParseDurationOf(const std::string& key, const std::string& text) {
  auto duration = ParseDuration(text);
  if (!duration) {
    throw BadRequest(Quoted(key) + ": " + Quoted(text) + " is not a duration (e.g. 250ms, 5s, 2m, 1h)");
  }
  return *duration;
}

Duration WaitTimeout(const HttpRequest& request) {
  Duration timeout = kDefaultWaitTimeout;
  if (auto text = request.Query("timeout")) {
    timeout = ParseDurationOf("timeout", *text);
    if (timeout > kMaxWaitTimeout) throw BadRequest("'timeout' must be at most 60s");
  }
  return timeout;
}

std::optional<std::string> AccountField(const Json& body) {
  auto account = StringField(body, "account");
  if (account && account->empty()) throw BadRequest("'account' must not be empty");
  return account;
}

std::optional<std::string> AccountQuery(const HttpRequest& request) {
  auto account = request.Query("account");
  if (account && account->empty()) throw BadRequest("'account' must not be empty");
  return account;
}

OrderStatus ParseStatus(const std::string& text) {
  auto status = ParseOrderStatus(text);
  if (!status) {
    throw BadRequest(Quoted(text) + " is not an order status; expected " + JoinNames(kOrderStatusNames));
  }
  return *status;
}

}  // namespace control_internal

namespace {

using namespace control_internal;

// ---------------------------------------------------------------------------
// JSON views of the simulator's state

Json TimeJson(SimTime t) { return wire::FormatTimestamp(t); }

Json OptionalJson(const std::optional<std::string>& value) { return value ? Json(*value) : Json(nullptr); }

Json ErrorsJson(const std::vector<ErrorDetail>& errors) {
  Json list = Json::array();
  for (const auto& error : errors) list.push_back({{"code", error.code}, {"description", error.description}});
  return list;
}

Json CsrDataJson(const CsrData& data) {
  Json address = Json::object();
  for (const auto& [name, value] : data.service_address) address[name] = value;
  return {{"AccountNumber", OptionalJson(data.account_number)},
          {"CustomerName", OptionalJson(data.customer_name)},
          {"ServiceAddress", address},
          {"WorkingTelephoneNumber", OptionalJson(data.working_telephone_number)},
          {"WorkingTelephoneNumbersOnAccount", data.working_telephone_numbers_on_account}};
}

// An order as the control API shows it, from its snapshot (admin.hpp).
Json OrderJson(const OrderView& snapshot) {
  const Order& order = snapshot.order;
  const ScenarioProgress& progress = snapshot.progress;
  Json fields = Json::object();
  for (const auto& [field, value] : order.fields.Items()) fields[std::string(WireName(field))] = value;
  Json notes = Json::array();
  for (const auto& note : snapshot.notes) {
    notes.push_back({{"id", note.id},
                     {"userId", note.user_id},
                     {"description", note.description},
                     {"lastModified", TimeJson(note.last_modified)}});
  }
  Json history = Json::array();
  for (const auto& transition : order.history) {
    history.push_back({{"status", std::string(ToString(transition.status))},
                       {"at", TimeJson(transition.at)},
                       {"message", transition.message.str()},
                       {"cause", transition.cause.str()}});
  }
  std::size_t step_count = progress.variant ? progress.variant->steps.size() : 0;
  return {{"id", order.id},
          {"account", order.account_id},
          {"status", std::string(ToString(order.status))},
          {"message", order.message.str()},
          {"scenario", order.scenario_name.str()},
          {"variant", progress.variant ? Json(progress.variant->name) : Json(nullptr)},
          {"created", TimeJson(order.created)},
          {"lastModified", TimeJson(order.last_modified)},
          {"lastModifiedBy", order.last_modified_by},
          {"fields", fields},
          {"csrData", order.csr_data ? CsrDataJson(*order.csr_data) : Json(nullptr)},
          {"errors", ErrorsJson(order.errors)},
          {"notes", notes},
          {"history", history},
          {"waitingForUpdate", progress.waiting_for_update},
          {"remainingSteps", step_count - std::min(progress.next_step, step_count)}};
}

Json JournalEntryJson(const JournalEntry& entry) {
  const Json headers = HeadersJson(entry.request_headers);
  return {{"id", entry.id},
          {"account", entry.account_id},
          {"subscriptionId", entry.subscription_id},
          {"orderId", entry.order_id},
          {"status", std::string(ToString(entry.status))},
          {"event", entry.event},
          {"url", entry.url},
          {"attempt", entry.attempt},
          {"requestHeaders", headers},
          {"body", entry.body},
          {"responseStatus", entry.response_status},
          {"error", entry.error},
          {"fault", entry.fault},
          {"scheduledAt", TimeJson(entry.scheduled_at)},
          {"sentAt", TimeJson(entry.sent_at)},
          {"finishedAt", TimeJson(entry.finished_at)},
          {"wallMicros", entry.wall_micros},
          {"succeeded", entry.Succeeded()}};
}

}  // namespace

namespace control_internal {

// Headers as one JSON object; a repeated header folded into one value, as HTTP allows.
Json HeadersJson(const std::vector<std::pair<std::string, std::string>>& headers) {
  Json folded = Json::object();
  for (const auto& [name, value] : headers) {
    auto it = folded.find(name);
    if (it == folded.end()) {
      folded[name] = value;
    } else {
      *it = it->get<std::string>() + ", " + value;
    }
  }
  return folded;
}

Json MatcherJson(const Matcher& match) {
  Json json = Json::object();
  if (match.tn) json["tn"] = *match.tn;
  if (match.tn_prefix) json["tn_prefix"] = *match.tn_prefix;
  if (match.tn_suffix) json["tn_suffix"] = *match.tn_suffix;
  if (match.tn_regex_source) json["tn_regex"] = *match.tn_regex_source;
  if (!match.fields.empty()) {
    Json fields = Json::object();
    for (const auto& [field, value] : match.fields) fields[std::string(WireName(field))] = value;
    json["fields"] = fields;
  }
  if (match.account) json["account"] = *match.account;
  return json;
}

Json ScenariosJson(const ScenarioSet& set) {
  Json scenarios = Json::array();
  for (const auto& scenario : set.scenarios()) {
    scenarios.push_back({{"name", scenario.name},
                         {"description", scenario.description},
                         {"source", scenario.source},
                         {"match", scenario.match ? MatcherJson(*scenario.match) : Json(nullptr)},
                         {"variants", scenario.variants.size()}});
  }
  return {{"scenarios", scenarios}, {"default", OptionalJson(set.default_name())}};
}

}  // namespace control_internal

namespace {

Json RemainingJson(const std::optional<std::int64_t>& remaining) {
  return remaining ? Json(*remaining) : Json(nullptr);
}

Json ApiFaultJson(const ApiFaultRule& rule) {
  Json json = {{"id", rule.id},
               {"target", "api"},
               {"account", OptionalJson(rule.account_id)},
               {"route", OptionalJson(rule.route)},
               {"remaining", RemainingJson(rule.remaining)},
               {"fraction", rule.fraction}};
  switch (rule.action) {
    case ApiFaultAction::kStatus:
      json["action"] = "status";
      json["status"] = rule.status;
      break;
    case ApiFaultAction::kLatency:
      json["action"] = "latency";
      json["latencyMs"] = rule.latency.count();
      break;
    case ApiFaultAction::kDropConnection:
      json["action"] = "drop";
      break;
  }
  return json;
}

Json CallbackFaultJson(const CallbackFaultRule& rule) {
  const CallbackFault& fault = rule.fault;
  Json json = {{"id", rule.id},
               {"target", "callback"},
               {"account", OptionalJson(rule.account_id)},
               {"remaining", RemainingJson(rule.remaining)},
               {"fraction", rule.fraction}};
  // Rules set here carry exactly one fault; list every one that is set anyway.
  std::vector<std::string_view> names;
  for (CallbackFaultKind kind : fault.Kinds()) {
    names.push_back(ToString(kind));
    if (kCallbackFaultKinds[static_cast<std::size_t>(kind)].takes_duration) {
      json[std::string(ToString(kind))] = FormatDuration(fault.DurationOf(kind));
    }
  }
  json["fault"] = JoinNames(names);
  return json;
}

Json FaultsJson(const SimulatorAdmin& admin) {
  Json list = Json::array();
  for (const auto& rule : admin.ApiFaults()) list.push_back(ApiFaultJson(rule));
  for (const auto& rule : admin.CallbackFaults()) list.push_back(CallbackFaultJson(rule));
  return {{"faults", list}};
}

// ---------------------------------------------------------------------------
// Route bodies

HttpResponse Health(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {});
  if (!admin.Ready()) return JsonResponse(503, Json{{"status", "starting"}});
  const HealthView health = admin.Health();
  return JsonResponse(200, Json{{"status", "ok"},
                                {"version", health.version},
                                {"scenarios", health.scenarios},
                                {"clock", health.clock},
                                {"now", TimeJson(health.now)},
                                {"orders", health.orders},
                                {"accounts", health.accounts},
                                {"eventStreams", health.event_streams},
                                {"droppedEventStreams", health.dropped_event_streams}});
}

// The account comes as ?account= or as {"account": "..."} (as in an advance);
// both at once must agree. Unknown keys and a malformed body are 400s.
HttpResponse Reset(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account"});
  auto account = AccountQuery(request);
  const Json body = JsonObjectBody(request, {"account"});
  if (auto in_body = AccountField(body)) {
    if (account && *account != *in_body) throw BadRequest("'account' differs between the query and the body");
    account = std::move(in_body);
  }
  admin.Reset(account);
  return JsonResponse(200, Json{{"reset", account.value_or("all")}});
}

// The clock, or one account's timeline: its time and offset.
Json ClockJson(const SimulatorAdmin& admin, const std::optional<std::string>& account) {
  const ClockView clock = admin.Clock(account);
  const auto epoch_ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now.time_since_epoch()).count();
  Json json = {{"now", TimeJson(clock.now)}, {"mode", clock.mode}, {"epoch_ms", epoch_ms}};
  if (!account) return json;
  json["account"] = *account;
  json["offset"] = FormatDuration(clock.offset);
  return json;
}

HttpResponse GetClock(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account"});
  return JsonResponse(200, ClockJson(admin, AccountQuery(request)));
}

HttpResponse AdvanceClockBy(SimulatorAdmin& admin, const HttpRequest& request) {
  Json body = JsonObjectBody(request, {"by", "account"});
  Duration by = ParseDurationOf("by", RequiredString(body, "by"));
  const auto account = AccountField(body);
  if (!admin.ManualClock()) {
    throw Error::Conflict(0, "the clock is not manual; start with --clock manual");
  }
  if (!admin.AdvanceClock(by, account)) {
    throw Error::Invalid(0, "the clock cannot move past " + wire::FormatTimestamp(LatestSimTime()));
  }
  return JsonResponse(200, ClockJson(admin, account));
}

// A whole-number query parameter within [min, max]; `fallback` when absent.
std::uint64_t WholeQuery(const HttpRequest& request, const std::string& name, std::uint64_t min, std::uint64_t max,
                         std::uint64_t fallback) {
  auto text = request.Query(name);
  if (!text) return fallback;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    throw BadRequest(Quoted(name) + " must be a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not " + Quoted(*text));
  }
  return value;
}

// One page of orders in creation order: at most `limit`, then `next`, the
// cursor to pass as `cursor` for the following page (null on the last). The
// facade reads the store a chunk at a time (admin.hpp), so neither the answer
// nor the work in hand grows with the number of orders.
HttpResponse ListOrders(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account", "status", "limit", "cursor"});
  auto account = AccountQuery(request);
  std::optional<OrderStatus> status;
  if (auto text = request.Query("status")) status = ParseStatus(*text);
  const std::size_t limit = WholeQuery(request, "limit", 1, kMaxOrdersPage, kDefaultOrdersPage);
  const std::uint64_t cursor = WholeQuery(request, "cursor", 0, UINT64_MAX, 0);
  const OrderViewPage page = admin.Orders(account, status, cursor, limit);
  Json orders = Json::array();
  for (const OrderView& order : page.orders) orders.push_back(OrderJson(order));
  const Json next = page.next ? Json(std::to_string(*page.next)) : Json(nullptr);
  return JsonResponse(200, Json{{"orders", orders}, {"next", next}});
}

Error NoSuchOrder(const std::string& order_id) { return Error::NotFound(0, "no order " + Quoted(order_id)); }

HttpResponse GetOrder(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {});
  const std::string& order_id = request.path_params.at(0);
  auto order = admin.FindOrder(order_id);
  if (!order) throw NoSuchOrder(order_id);
  return JsonResponse(200, OrderJson(*order));
}

// A forced transition's message and error descriptions: stored with the order,
// sent in callbacks and shown on the dashboard, so bounded (docs/control-api.md).
constexpr std::size_t kMaxForcedText = 256;  // characters
constexpr std::size_t kMaxForcedErrors = 16;

void CheckTextLength(const char* name, const std::string& text) {
  const auto characters =
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  if (static_cast<std::size_t>(characters) > kMaxForcedText) {
    throw BadRequest(Quoted(name) + " is longer than " + std::to_string(kMaxForcedText) + " characters");
  }
}

std::vector<ErrorDetail> ErrorDetailsField(const Json& body) {
  std::vector<ErrorDetail> details;
  const Json* errors = FindKey(body, "errors");
  if (!errors) return details;
  if (!errors->is_array()) throw BadRequest("'errors' must be a list of {\"code\": N, \"description\": \"...\"}");
  for (const Json& error : *errors) {
    if (!error.is_object()) throw BadRequest("each of 'errors' must be {\"code\": N, \"description\": \"...\"}");
    CheckKeys(error, {"code", "description"});
    auto code = IntegerField(error, "code", 0, 999'999);
    if (!code) throw BadRequest("each of 'errors' needs a 'code'");
    auto description = StringField(error, "description").value_or("");
    CheckTextLength("description", description);
    details.push_back({static_cast<int>(*code), std::move(description)});
  }
  if (details.size() > kMaxForcedErrors) {
    throw BadRequest("'errors' holds at most " + std::to_string(kMaxForcedErrors) + " entries");
  }
  return details;
}

// Returns once the transition's callbacks were attempted, like an advance.
HttpResponse ForceTransition(SimulatorAdmin& admin, const HttpRequest& request) {
  const std::string& order_id = request.path_params.at(0);
  Json body = JsonObjectBody(request, {"status", "message", "errors"});
  OrderStatus status = ParseStatus(RequiredString(body, "status"));
  auto message = StringField(body, "message");
  if (message) CheckTextLength("message", *message);
  auto errors = ErrorDetailsField(body);
  auto order = admin.ForceTransition(order_id, status, std::move(message), std::move(errors));
  if (!order) throw NoSuchOrder(order_id);
  return JsonResponse(200, OrderJson(*order));
}

JournalFilter JournalFilterOf(const HttpRequest& request) {
  JournalFilter filter;
  filter.account_id = AccountQuery(request);
  filter.order_id = request.Query("orderId");
  filter.subscription_id = request.Query("subscriptionId");
  if (auto status = request.Query("status")) filter.status = ParseStatus(*status);
  if (auto after = request.Query("after")) {
    auto [end, ec] = std::from_chars(after->data(), after->data() + after->size(), filter.after_id);
    if (ec != std::errc() || end != after->data() + after->size()) {
      throw BadRequest("'after' must be a journal entry id (a non-negative integer)");
    }
  }
  return filter;
}

HttpResponse ListCallbacks(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account", "orderId", "subscriptionId", "status", "after"});
  Json entries = Json::array();
  for (const auto& entry : admin.Callbacks(JournalFilterOf(request))) {
    entries.push_back(JournalEntryJson(entry));
  }
  return JsonResponse(200, Json{{"entries", entries}, {"dropped", admin.CallbacksDropped()}});
}

HttpResponse WaitForCallback(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account", "orderId", "subscriptionId", "status", "after", "timeout"});
  JournalFilter filter = JournalFilterOf(request);
  const Duration timeout = WaitTimeout(request);
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(timeout);
  if (auto entry = admin.WaitForCallback(filter, wait)) return JsonResponse(200, JournalEntryJson(*entry));
  throw Error::Timeout("no matching callback within " + FormatDuration(timeout));
}

HttpResponse SetCallbackSettings(SimulatorAdmin& admin, const HttpRequest& request) {
  Json body = JsonObjectBody(request, {"auth", "attempts", "backoff", "multiplier"});
  Json applied = Json::object();
  std::optional<CallbackAuthMode> mode;
  if (auto auth = StringField(body, "auth")) {
    if (*auth == "preemptive") {
      mode = CallbackAuthMode::kPreemptive;
    } else if (*auth == "challenge") {
      mode = CallbackAuthMode::kChallenge;
    } else {
      throw BadRequest("'auth' must be \"preemptive\" or \"challenge\"");
    }
    applied["auth"] = *auth;
  }
  std::optional<RetryPolicy> retry;
  if (auto attempts = IntegerField(body, "attempts", 1, kMaxCallbackAttempts)) {
    retry.emplace();
    retry->max_attempts = static_cast<int>(*attempts);
    if (auto backoff = StringField(body, "backoff")) retry->initial_backoff = ParseDurationOf("backoff", *backoff);
    if (const Json* multiplier = FindKey(body, "multiplier")) {
      if (!multiplier->is_number() || multiplier->get<double>() < 1.0 || multiplier->get<double>() > 10.0) {
        throw BadRequest("'multiplier' must be a number from 1 to 10");
      }
      retry->multiplier = multiplier->get<double>();
    }
    applied["attempts"] = retry->max_attempts;
    applied["backoff"] = FormatDuration(retry->initial_backoff);
    applied["multiplier"] = retry->multiplier;
  } else if (body.contains("backoff") || body.contains("multiplier")) {
    throw BadRequest("'backoff' and 'multiplier' need 'attempts'");
  }
  admin.SetCallbackSettings(mode, retry);
  return JsonResponse(200, applied);
}

HttpResponse ListScenarios(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {});
  return JsonResponse(200, ScenariosJson(*admin.Scenarios()));
}

// `path` as the process sees it, symbolic links resolved ("" when that fails).
std::filesystem::path Resolved(const std::string& path) {
  std::error_code error;
  auto resolved = std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error);
  return error ? std::filesystem::path() : resolved;
}

bool IsWithin(const std::filesystem::path& path, const std::filesystem::path& root) {
  if (path.empty() || root.empty()) return false;
  auto [root_end, path_at] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return root_end == root.end() || (std::next(root_end) == root.end() && root_end->empty());
}

// A reload names files by path, so it could read anything the process can:
// only files under the --scenarios paths (a file: itself; a directory: its
// tree) and the --scenarios-root directories are read; anything else is 403.
// Checked on each file a path expands to, after resolving symbolic links.
void CheckReloadable(const Config& config, const std::vector<std::string>& files) {
  std::vector<std::filesystem::path> roots;
  for (const auto& root : config.scenario_paths) roots.push_back(Resolved(root));
  for (const auto& root : config.scenarios_roots) roots.push_back(Resolved(root));
  for (const std::string& file : files) {
    const auto resolved = Resolved(file);
    if (std::none_of(roots.begin(), roots.end(), [&](const auto& root) { return IsWithin(resolved, root); })) {
      throw Error(ErrorKind::kForbidden,
                  {{0, "'" + EchoToken(file, 256) +
                           "' is outside the scenario files; a reload reads only files under the --scenarios "
                           "paths or a --scenarios-root directory"}});
    }
  }
}

// "file:line:col: message" with the path bounded and escaped (it came from the client).
std::string LoadErrorText(const ScenarioLoadError& error) {
  std::string text = EchoToken(error.file(), 256);
  if (error.line() > 0) text += ":" + std::to_string(error.line()) + ":" + std::to_string(error.column());
  return text + ": " + error.message();
}

std::vector<std::string> ReloadPaths(const Config& config, const Json& body) {
  const Json* given = FindKey(body, "paths");
  if (!given) return config.scenario_paths;
  if (!given->is_array() || given->empty() ||
      !std::all_of(given->begin(), given->end(), [](const Json& path) { return path.is_string(); })) {
    throw BadRequest("'paths' must be a non-empty list of file or directory paths");
  }
  return given->get<std::vector<std::string>>();
}

std::string JoinPaths(const std::vector<std::string>& files) {
  std::string joined;
  for (const auto& file : files) joined += (joined.empty() ? "" : ",") + file;
  return joined;
}

// Loads every file first; only a complete, valid set replaces the scenarios in
// force. A reload that took effect is logged with the files it read.
HttpResponse ReloadScenariosLogged(SimulatorAdmin& admin, const HttpRequest& request) {
  Json body = JsonObjectBody(request, {"paths", "default"});
  std::shared_ptr<const ScenarioSet> loaded;
  std::vector<std::string> files = {"default.yaml (bundled)"};
  if (const Json* bundled = FindKey(body, "default")) {
    if (!bundled->is_boolean() || !bundled->get<bool>()) throw BadRequest("'default' must be true");
    if (body.contains("paths")) throw BadRequest("give 'paths' or 'default', not both");
    loaded = std::make_shared<const ScenarioSet>(LoadBundledScenarios());
  } else {
    std::vector<std::string> paths = ReloadPaths(admin.config(), body);
    if (paths.empty()) {
      throw Error::Conflict(0,
                            "nothing to reload: the simulator runs its bundled scenarios; start it with "
                            "--scenarios PATH or pass {\"paths\": [...]}");
    }
    const bool named = body.contains("paths");
    if (named) CheckReloadable(admin.config(), paths);  // before anything is read, or even looked up
    try {
      files = ScenarioFilesOf(paths);
      if (named) CheckReloadable(admin.config(), files);  // links inside a root that lead out of it
      loaded = std::make_shared<const ScenarioSet>(LoadScenarioPaths(files));
    } catch (const ScenarioLoadError& error) {
      throw BadRequest(LoadErrorText(error));
    }
  }
  admin.ReplaceScenarios(loaded);
  ProcessLog().Info(
      "scenarios_reloaded",
      {{"files", JoinPaths(files)}, {"file_count", files.size()}, {"scenarios", loaded->scenarios().size()}});
  return JsonResponse(200, ScenariosJson(*loaded));
}

// A refused reload (the scenarios in force stay) is a warning.
HttpResponse ReloadScenarios(SimulatorAdmin& admin, const HttpRequest& request) {
  try {
    return ReloadScenariosLogged(admin, request);
  } catch (const Error& error) {
    const std::string why = error.details().empty() ? error.what() : error.details().front().description;
    ProcessLog().Warn("scenarios_reload_failed", {{"error", why}});
    throw;
  }
}

std::optional<double> FractionField(const Json& body) {
  const Json* value = FindKey(body, "fraction");
  if (!value) return std::nullopt;
  if (!value->is_number() || !(value->get<double>() > 0.0) || value->get<double>() > 1.0) {
    throw BadRequest("'fraction' must be a number in (0, 1]");
  }
  return value->get<double>();
}

Json AddApiFault(SimulatorAdmin& admin, const Json& body) {
  CheckKeys(body, {"target", "account", "route", "action", "status", "latencyMs", "count", "fraction"});
  ApiFaultRule rule;
  rule.account_id = AccountField(body);
  rule.route = StringField(body, "route");
  if (rule.route && std::find(std::begin(kBandwidthRouteKeys), std::end(kBandwidthRouteKeys), *rule.route) ==
                        std::end(kBandwidthRouteKeys)) {
    throw BadRequest("unknown 'route' " + Quoted(*rule.route) + "; expected one of " + JoinNames(kBandwidthRouteKeys) +
                     " (without /accounts/{accountId}; use 'account' for that)");
  }
  std::string action = RequiredString(body, "action");
  auto status = IntegerField(body, "status", 400, 599);
  auto latency = IntegerField(body, "latencyMs", 1, kMaxLatencyMs);
  if (action == "status") {
    rule.action = ApiFaultAction::kStatus;
    if (status) rule.status = static_cast<int>(*status);
  } else if (action == "latency") {
    rule.action = ApiFaultAction::kLatency;
    if (!latency) throw BadRequest("action 'latency' needs 'latencyMs'");
    rule.latency = std::chrono::milliseconds(*latency);
  } else if (action == "drop") {
    rule.action = ApiFaultAction::kDropConnection;
  } else {
    throw BadRequest("unknown 'action' " + Quoted(action) + "; expected status, latency or drop");
  }
  if (status && rule.action != ApiFaultAction::kStatus) throw BadRequest("'status' applies only to action 'status'");
  if (latency && rule.action != ApiFaultAction::kLatency) {
    throw BadRequest("'latencyMs' applies only to action 'latency'");
  }
  rule.remaining = IntegerField(body, "count", 1, 1'000'000);
  rule.fraction = FractionField(body).value_or(1.0);
  rule.id = admin.AddApiFault(rule);
  return ApiFaultJson(rule);
}

Json AddCallbackFault(SimulatorAdmin& admin, const Json& body) {
  Json other_keys = body;  // the duration of a kind that takes one has the kind's name as key
  for (const auto& row : kCallbackFaultKinds) {
    if (row.takes_duration) other_keys.erase(std::string(row.name));
  }
  CheckKeys(other_keys, {"target", "account", "fault", "count", "fraction"});
  CallbackFaultRule rule;
  rule.account_id = AccountField(body);
  std::string name = RequiredString(body, "fault");
  auto kind = CallbackFaultKindByName(name);
  if (!kind) {
    throw BadRequest("unknown 'fault' " + Quoted(name) + "; expected " + JoinNames(kCallbackFaultNames));
  }
  // A kind that takes a duration reads it from the key of its own name ("delay").
  if (kCallbackFaultKinds[static_cast<std::size_t>(*kind)].takes_duration) {
    auto duration = StringField(body, name);
    if (!duration) throw BadRequest("fault " + Quoted(name) + " needs " + Quoted(name) + ", e.g. \"5s\"");
    rule.fault.Set(*kind, ParseDurationOf(name, *duration));
  } else {
    rule.fault.Set(*kind);
  }
  for (const auto& row : kCallbackFaultKinds) {
    if (row.takes_duration && row.kind != *kind && body.contains(std::string(row.name))) {
      throw BadRequest(Quoted(row.name) + " applies only to fault " + Quoted(row.name));
    }
  }
  rule.remaining = IntegerField(body, "count", 1, 1'000'000);
  rule.fraction = FractionField(body).value_or(1.0);
  rule.id = admin.AddCallbackFault(rule);
  return CallbackFaultJson(rule);
}

HttpResponse AddFault(SimulatorAdmin& admin, const HttpRequest& request) {
  Json body = JsonObjectBody(request);
  std::string target = RequiredString(body, "target");
  if (target == "api") return JsonResponse(201, AddApiFault(admin, body));
  if (target == "callback") return JsonResponse(201, AddCallbackFault(admin, body));
  throw BadRequest("unknown 'target' " + Quoted(target) + "; expected api or callback");
}

HttpResponse ListFaults(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {});
  return JsonResponse(200, FaultsJson(admin));
}

HttpResponse ClearFaults(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account"});
  auto account = AccountQuery(request);
  admin.ClearFaults(account);
  return JsonResponse(200, Json{{"cleared", account.value_or("all")}});
}

HttpResponse RemoveFault(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {});
  const std::string& id = request.path_params.at(0);
  if (!admin.RemoveFault(id)) throw Error::NotFound(0, "no fault " + Quoted(id));
  return JsonResponse(200, Json{{"deleted", id}});
}

HttpResponse Events(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account", "lastEventId"});
  return StreamEvents(admin, request, AccountQuery(request));
}

// "Authorization: Bearer <token>"; the scheme is case-insensitive (RFC 7235).
bool HasBearerToken(const HttpRequest& request, const std::string& token) {
  auto header = request.Header("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (!header || !StartsWithIgnoreCase(*header, kScheme)) return false;
  return std::string_view(*header).substr(kScheme.size()) == token;
}

// Content-Type application/json (any case, parameters allowed).
bool HasJsonContentType(const HttpRequest& request) {
  auto type = request.Header("Content-Type");
  if (!type) return false;
  std::string_view media = std::string_view(*type).substr(0, type->find(';'));
  media = media.substr(0, media.find_last_not_of(" \t") + 1);
  return EqualsIgnoreCase(media, "application/json");
}

}  // namespace

ControlApi::ControlApi(SimulatorAdmin& admin) : admin_(admin) { AddRoutes(); }

HttpResponse ControlErrorResponse(const Error& error) { return JsonError(error); }

std::optional<HttpResponse> ControlApi::Handle(HttpRequest& request) {
  if (request.path != "/_sim" && request.path.rfind("/_sim/", 0) != 0) return std::nullopt;
  const std::string& token = admin_.config().control_token;
  if (!token.empty() && !IsDashboardPage(request.path) && !HasBearerToken(request, token)) {
    return JsonError(Error::ControlUnauthorized());
  }
  // A callback posts XML, a browser form posts a form: neither can steer the
  // simulator (a subscription pointed at /_sim/reset). A POST needs a JSON
  // Content-Type, unless the control token already vouched for it.
  if (request.method == "POST" && token.empty() && !HasJsonContentType(request)) {
    return JsonError(Error::UnsupportedMediaType(
        "the control API takes JSON: send \"Content-Type: application/json\" (see docs/control-api.md)"));
  }
  if (auto response = router_.Dispatch(request)) return response;
  return JsonError(Error::NoRoute("no control API call " + EchoToken(request.path) + "; see docs/control-api.md"));
}

void ControlApi::AddRoutes() {
  auto route = [this](std::string method, std::string_view pattern,
                      HttpResponse (*body)(SimulatorAdmin&, const HttpRequest&)) {
    router_.Add(std::move(method), pattern, [this, body](const HttpRequest& request) {
      try {
        return body(admin_, request);
      } catch (const Json::exception&) {
        return JsonError(
            BadRequest("a value in the body has the wrong type or is out of range; see docs/control-api.md"));
      } catch (...) {
        return JsonError(CurrentError(request));
      }
    });
  };
  router_.set_method_not_allowed([](const HttpRequest& request) {
    return JsonError(Error::MethodNotAllowed("method " + EchoToken(request.method) + " is not allowed on " +
                                             EchoToken(request.path)));
  });

  route("GET", "/_sim/health", Health);
  route("POST", "/_sim/reset", Reset);
  route("GET", "/_sim/clock", GetClock);
  route("POST", "/_sim/clock/advance", AdvanceClockBy);
  route("GET", "/_sim/orders", ListOrders);
  route("GET", "/_sim/orders/*", GetOrder);
  route("POST", "/_sim/orders/*/transition", ForceTransition);
  route("GET", "/_sim/callbacks", ListCallbacks);
  route("GET", "/_sim/callbacks/wait", WaitForCallback);
  route("POST", "/_sim/callbacks/settings", SetCallbackSettings);
  route("GET", "/_sim/scenarios", ListScenarios);
  route("POST", "/_sim/scenarios/reload", ReloadScenarios);
  route("GET", "/_sim/faults", ListFaults);
  route("POST", "/_sim/faults", AddFault);
  route("DELETE", "/_sim/faults", ClearFaults);
  route("DELETE", "/_sim/faults/*", RemoveFault);
  route("GET", "/_sim/accounts/*/scenarios", GetAccountScenarios);
  route("PUT", "/_sim/accounts/*/scenarios", PutAccountScenarios);
  route("DELETE", "/_sim/accounts/*/scenarios", DeleteAccountScenarios);
  route("GET", "/_sim/metrics", GetMetrics);
  route("GET", "/_sim/requests", ListRequests);
  route("GET", "/_sim/requests/count", CountRequests);
  route("GET", "/_sim/requests/wait", WaitForRequests);
  route("GET", "/_sim/events", Events);
  route("GET", "/_sim/ui", DashboardPage);
}

}  // namespace csrsim
