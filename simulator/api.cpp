#include "csrsim/api.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "csrsim/encoding.hpp"
#include "csrsim/log.hpp"
#include "csrsim/request_journal.hpp"
#include "csrsim/validation.hpp"
#include "csrsim/wire.hpp"

namespace csrsim {

namespace {

constexpr std::string_view kCsrRoot = "CsrResponse";
constexpr std::string_view kNoteRoot = "NoteResponse";
constexpr std::string_view kSubscriptionRoot = "SubscriptionsResponse";
constexpr int kInvalidQueryParameter = 1010;
constexpr int kInvalidAccount = 4000;
constexpr std::int64_t kTokenLifetimeSeconds = 3600;
constexpr std::string_view kTokenPath = "/api/v1/oauth2/token";

// Longest first, so "/api/v1.0" is not taken for "/api".
constexpr std::string_view kPrefixes[] = {"/api/v1.0", "/api/v1", "/api/v2", "/api", "/v1.0", ""};

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

// The token endpoint's errors have OAuth 2.0's own JSON shape (RFC 6749 5.2);
// the status is the kind's (error.hpp).
HttpResponse OAuthError(ErrorKind kind, std::string_view error, std::string_view description) {
  return HttpResponse::Json(InfoOf(kind).http_status, "{\"error\":" + JsonString(error) +
                                                          ",\"error_description\":" + JsonString(description) + "}");
}

std::int64_t EpochSeconds(SimTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Splits "Basic xyz" into ("basic", "xyz").
std::pair<std::string, std::string> AuthorizationParts(const HttpRequest& request) {
  auto header = request.Header("Authorization");
  if (!header) return {};
  auto space = header->find(' ');
  if (space == std::string::npos) return {};
  std::string scheme = AsciiLowerCopy(std::string_view(*header).substr(0, space));
  std::string value = header->substr(space + 1);
  value.erase(0, value.find_first_not_of(' '));
  return {scheme, value};
}

std::optional<std::pair<std::string, std::string>> BasicCredentialsOf(const std::string& encoded) {
  auto decoded = Base64Decode(encoded);
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

std::size_t PositiveQueryNumber(const HttpRequest& request, const std::string& name, std::size_t fallback,
                                std::size_t max) {
  auto text = request.Query(name);
  if (!text) return fallback;
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > max) {
    throw Error::Invalid(kInvalidQueryParameter, "'" + EchoToken(*text) + "' is not a valid value for " + name +
                                                     ": expected a whole number from 1 to " + std::to_string(max));
  }
  return value;
}

std::optional<SimTime> QueryTime(const HttpRequest& request, const std::string& name) {
  auto text = request.Query(name);
  if (!text) return std::nullopt;
  auto time = wire::ParseTimestamp(*text);
  if (!time) {
    throw Error::Invalid(kInvalidQueryParameter,
                         "'" + EchoToken(*text) + "' is not a valid value for " + name +
                             ": expected an ISO-8601 date or time such as 2020-02-25T15:39:22.079Z");
  }
  return time;
}

// A Host header fit to be repeated in a Location header or a <Links> URL:
// a name or address and a port, at most 261 characters.
bool IsPlainHost(std::string_view host) {
  return !host.empty() && host.size() <= 261 && std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' ||
           c == ']';
  });
}

// Absolute URL of a resource under the prefix the client used (a path only
// when the Host header is missing or not a plain host).
std::string LocationOf(const HttpRequest& request, const std::string& path) {
  auto host = request.Header("Host");
  return (host && IsPlainHost(*host) ? "http://" + *host : std::string()) + request.prefix + path;
}

// Account ids are repeated in every answer about the account (AccountId,
// Location, <Links>): letters, digits, '-', '_' and '.', at most 64.
bool IsPlainAccountId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxEchoBytes && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// A PUT that repeats the stored callback Username without a Password keeps
// the stored password; a changed Username still needs its Password (14505).
void KeepStoredPassword(SubscriptionSpec& spec, const SubscriptionSpec& stored) {
  if (!spec.callback || !spec.callback->basic || !stored.callback || !stored.callback->basic) return;
  BasicCredentials& given = spec.callback->basic.value();
  const BasicCredentials& kept = stored.callback->basic.value();
  if (given.password.empty() && !given.username.empty() && given.username == kept.username) {
    given.password = kept.password;
  }
}

void RequireBodyWithin(const HttpRequest& request, std::size_t limit) {
  if (request.body.size() > limit) throw Error::PayloadTooLarge(limit);
}

// An Unauthorized error, with why in the request's trace (request_journal.hpp).
Error Unauthorized(const HttpRequest& request, std::string reason) {
  if (request.trace) request.trace->reason = std::move(reason);
  return Error::Unauthorized();
}

// What an error answered, for the request journal: its first Bandwidth code
// and description, and every description of a client error as the reason.
void TraceError(RequestTrace* trace, const Error& error) {
  if (!trace) return;
  if (!error.details().empty()) {
    trace->error_code = error.details().front().code;
    trace->error_description = error.details().front().description;
    std::string reason;
    for (const auto& detail : error.details()) {
      if (!reason.empty()) reason += "; ";
      reason += detail.description;
    }
    trace->reason = std::move(reason);
  }
  if (error.kind() == ErrorKind::kRateLimited) trace->reason = "the account's rate limit is used up";
  if (error.kind() == ErrorKind::kInjected && trace->fault.empty()) {
    trace->fault = "scenario reject_create " + std::to_string(error.http_status());
  }
}

std::string DescribeFault(const ApiFaultOutcome& fault) {
  std::string what;
  auto add = [&what](const std::string& part) { what += (what.empty() ? "" : ", ") + part; };
  if (fault.latency.count() > 0) add("latency " + FormatDuration(fault.latency));
  if (fault.status) add("status " + std::to_string(*fault.status));
  if (fault.drop_connection) add("drop");
  std::string ids;
  for (const auto& id : fault.applied) ids += (ids.empty() ? "" : ", ") + id;
  return what + " (" + ids + ")";
}

}  // namespace

// ---------------------------------------------------------------------------
// The one error writer

HttpResponse ErrorResponse(const Error& error, std::string_view root) {
  const ErrorDetail first = error.details().empty() ? ErrorDetail{} : error.details().front();
  const int status = error.http_status();
  HttpResponse response;
  switch (InfoOf(error.kind()).xml_body) {
    case XmlErrorBody::kNone:
      response = HttpResponse::Empty(status);
      break;
    case XmlErrorBody::kValidation:
      response = root == kCsrRoot ? HttpResponse::Xml(status, wire::EncodeCsrOrderErrors(error.details()))
                                  : HttpResponse::Xml(status, wire::EncodeResponseStatus(root, first));
      break;
    case XmlErrorBody::kResponseStatus:
      response = HttpResponse::Xml(status, wire::EncodeResponseStatus(root, first));
      break;
  }
  for (const auto& [name, value] : error.headers()) response.WithHeader(name, value);
  return response;
}

HttpResponse ErrorResponseForPath(const Error& error, std::string_view path) {
  std::string_view root = kCsrRoot;
  if (path.find("/notes") != std::string_view::npos) {
    root = kNoteRoot;
  } else if (path.find("/subscriptions") != std::string_view::npos) {
    root = kSubscriptionRoot;
  }
  return ErrorResponse(error, root);
}

// ---------------------------------------------------------------------------
// Authenticator

Authenticator::Authenticator(const Config& config, Clock& clock, IdGenerator& ids)
    : config_(config), clock_(clock), ids_(ids) {}

const AccountConfig* Authenticator::FindAccount(const std::string& account_id) const {
  for (const auto& account : config_.accounts) {
    if (account.id == account_id) return &account;
  }
  return nullptr;
}

std::string Authenticator::Describe(const HttpRequest& request) const {
  auto [scheme, value] = AuthorizationParts(request);
  if (scheme.empty()) return "none";
  if (scheme == "basic") {
    auto credentials = BasicCredentialsOf(value);
    return credentials ? "basic:" + credentials->first : "basic:?";
  }
  if (scheme == "bearer") {
    MutexLock lock(mu_);
    auto token = tokens_.find(value);
    return token == tokens_.end() ? "bearer:?" : "bearer:" + token->second.client_id;
  }
  return scheme;
}

std::string Authenticator::Authorize(const HttpRequest& request, const std::string& account_id) {
  auto [scheme, value] = AuthorizationParts(request);
  if (scheme == "basic") return AuthorizeBasic(request, value, account_id);
  if (scheme == "bearer") return AuthorizeBearer(request, value, account_id);
  throw Unauthorized(request, scheme.empty() ? "no credentials" : "unsupported scheme " + scheme);
}

std::string Authenticator::AuthorizeBasic(const HttpRequest& request, const std::string& value,
                                          const std::string& account_id) const {
  if (config_.auth == AuthMode::kOAuth) throw Unauthorized(request, "Basic credentials refused (--auth oauth)");
  auto credentials = BasicCredentialsOf(value);
  if (!credentials) throw Unauthorized(request, "malformed Basic credentials");
  const std::string& user = credentials->first;  // not a structured binding: clang 14 cannot capture one
  const std::string& password = credentials->second;
  if (config_.OpenMode()) {
    if (user == "username" && password == "password") return user;
    throw Unauthorized(request, "unknown user or wrong password");
  }
  bool known = false;  // a user of another account: 403, not 401
  for (const auto& account : config_.accounts) {
    const bool matches = std::any_of(account.users.begin(), account.users.end(), [&](const auto& configured) {
      return configured.username == user && configured.password == password;
    });
    if (matches && account.id == account_id) return user;
    known = known || matches;
  }
  if (known) throw Error::AccessDenied();
  throw Unauthorized(request, "unknown user or wrong password");
}

std::string Authenticator::AuthorizeBearer(const HttpRequest& request, const std::string& value,
                                           const std::string& account_id) {
  if (config_.auth == AuthMode::kBasic) throw Unauthorized(request, "Bearer tokens refused (--auth basic)");
  MutexLock lock(mu_);
  auto token = tokens_.find(value);
  if (token == tokens_.end() || clock_.Now() >= token->second.expires_at) {
    throw Unauthorized(request, "unknown or expired token");
  }
  const auto& accounts = token->second.accounts;
  if (!config_.OpenMode() && std::find(accounts.begin(), accounts.end(), account_id) == accounts.end()) {
    throw Error::AccessDenied();
  }
  return token->second.client_id;
}

HttpResponse Authenticator::IssueToken(const HttpRequest& request) {
  std::string client_id;
  std::string client_secret;
  std::string grant_type;
  for (const auto& [name, value] : ParseFormUrlEncoded(request.body)) {
    if (name == "grant_type") grant_type = value;
    if (name == "client_id") client_id = value;
    if (name == "client_secret") client_secret = value;
  }
  auto [scheme, value] = AuthorizationParts(request);
  if (scheme == "basic") {
    if (auto credentials = BasicCredentialsOf(value)) std::tie(client_id, client_secret) = *credentials;
  }
  if (grant_type != "client_credentials") {
    return OAuthError(ErrorKind::kInvalid, "unsupported_grant_type", "grant_type must be client_credentials");
  }
  Token token;
  token.client_id = client_id;
  bool valid = false;
  if (config_.OpenMode()) {
    valid = client_id == "clientId" && client_secret == "clientSecret";
  } else {
    for (const auto& account : config_.accounts) {
      for (const auto& client : account.oauth_clients) {
        if (client.client_id == client_id && client.client_secret == client_secret) {
          token.accounts.push_back(account.id);
          valid = true;
        }
      }
    }
  }
  if (!valid) {
    return OAuthError(ErrorKind::kUnauthorized, "invalid_client", "unknown client id or wrong secret")
        .WithHeader("WWW-Authenticate", "Basic realm=\"Bandwidth\"");
  }
  token.expires_at = clock_.Now() + std::chrono::seconds(kTokenLifetimeSeconds);
  std::string access_token = ids_.NewUuid();
  access_token.erase(std::remove(access_token.begin(), access_token.end(), '-'), access_token.end());
  {
    MutexLock lock(mu_);
    const SimTime now = clock_.Now();
    std::erase_if(tokens_, [now](const auto& entry) { return now >= entry.second.expires_at; });
    tokens_[access_token] = std::move(token);
  }
  return HttpResponse::Json(
      200, "{\"access_token\":" + JsonString(access_token) +
               ",\"token_type\":\"Bearer\",\"expires_in\":" + std::to_string(kTokenLifetimeSeconds) + "}");
}

void Authenticator::CheckRateLimit(const std::string& account_id) {
  const AccountConfig* account = FindAccount(account_id);
  if (!account || !account->rate_limit) return;
  const RateLimit& limit = *account->rate_limit;
  const SimTime now = clock_.Now();
  MutexLock lock(mu_);
  Window& window = windows_[account_id];
  if (window.used == 0 || now >= window.start + limit.window) window = {now, 0};
  if (window.used >= limit.requests) {
    throw Error::RateLimited(EpochSeconds(std::chrono::ceil<std::chrono::seconds>(window.start + limit.window)));
  }
  ++window.used;
}

void Authenticator::Reset() {
  MutexLock lock(mu_);
  tokens_.clear();
  windows_.clear();
}

// ---------------------------------------------------------------------------
// BandwidthApi

BandwidthApi::BandwidthApi(const Config& config, Engine& engine, Authenticator& auth, FaultInjector& faults)
    : config_(config), engine_(engine), auth_(auth), faults_(faults) {
  AddRoutes();
}

std::optional<HttpResponse> BandwidthApi::Handle(HttpRequest& request) {
  if (request.trace) request.trace->auth = auth_.Describe(request);
  if (request.path == kTokenPath) {
    if (request.method != "POST") {
      return ErrorResponse(Error::MethodNotAllowed("the token endpoint takes POST").WithHeader("Allow", "POST"),
                           kCsrRoot);
    }
    if (request.trace) request.trace->route = std::string(kTokenRouteKey);
    return auth_.IssueToken(request);
  }
  for (std::string_view prefix : kPrefixes) {
    std::string_view path = request.path;
    if (path.rfind(prefix, 0) != 0) continue;
    std::string_view rest = path.substr(prefix.size());
    if (rest.rfind("/accounts/", 0) != 0) continue;
    request.prefix = std::string(prefix);
    request.path = std::string(rest);
    if (request.trace) {
      std::string_view account = std::string_view(request.path).substr(std::string_view("/accounts/").size());
      account = account.substr(0, account.find('/'));
      if (!account.empty()) request.trace->account = std::string(account);
    }
    return router_.Dispatch(request);
  }
  return std::nullopt;
}

namespace {

// Everything a route body needs besides the request.
// Patterns are "/accounts/*/..."; the route key names what follows.
constexpr std::string_view kAccountPattern = "/accounts/*";

}  // namespace

struct BandwidthApi::Call {
  const HttpRequest& request;
  const std::string& account_id;
  const std::string& user;
  const std::string& Param(std::size_t i) const { return request.path_params.at(i); }
};

void BandwidthApi::NoteLeniency(const HttpRequest& request, const std::string& account_id, std::string what) {
  if (ProcessLog().Enabled(LogLevel::kInfo)) {  // once per account and kind
    bool first = false;
    {
      MutexLock lock(leniency_mu_);
      first = logged_leniencies_.insert(account_id + "\n" + what).second;
    }
    if (first) {
      ProcessLog().Info(
          "leniency",
          {{"account", account_id}, {"accepted", what}, {"note", "an SDK sends it; Bandwidth may refuse it"}});
    }
  }
  if (request.trace) request.trace->leniencies.push_back(std::move(what));
}

void BandwidthApi::AddRoute(const std::string& method, std::string_view pattern, std::string_view root,
                            bool csr_feature, RouteBody body) {
  RouteSpec spec{method + " " + std::string(pattern.substr(kAccountPattern.size())), root, csr_feature};
  if (std::find(std::begin(kBandwidthRouteKeys), std::end(kBandwidthRouteKeys), spec.key) ==
      std::end(kBandwidthRouteKeys)) {
    throw std::logic_error("route key missing from kBandwidthRouteKeys: " + spec.key);
  }
  router_.Add(method, pattern, [this, spec = std::move(spec), body = std::move(body)](const HttpRequest& request) {
    return RunRoute(request, spec, body);
  });
}

HttpResponse BandwidthApi::RunRoute(const HttpRequest& request, const RouteSpec& spec, const RouteBody& body) {
  const std::string& account_id = request.path_params.at(0);
  if (request.trace) request.trace->route = spec.key;
  try {
    if (auto faulted = ApplyFault(request, account_id, spec.key)) return *faulted;
    const std::string user = Admit(request, account_id, spec.csr_feature);
    return body(Call{request, account_id, user});
  } catch (...) {
    const Error error = CurrentError(request);
    TraceError(request.trace, error);
    return ErrorResponse(error, spec.root);
  }
}

std::optional<HttpResponse> BandwidthApi::ApplyFault(const HttpRequest& request, const std::string& account_id,
                                                     const std::string& key) {
  auto fault = faults_.OnApiCall(account_id, key);
  if (request.trace && !fault.applied.empty()) request.trace->fault = DescribeFault(fault);
  if (fault.latency.count() > 0) std::this_thread::sleep_for(fault.latency);
  if (fault.drop_connection) {
    HttpResponse dropped;
    dropped.drop_connection = true;
    return dropped;
  }
  if (fault.status) throw Error::Injected(*fault.status, engine_.Now(account_id));
  return std::nullopt;
}

std::string BandwidthApi::Admit(const HttpRequest& request, const std::string& account_id, bool csr_feature) {
  std::string user = auth_.Authorize(request, account_id);
  if (!IsPlainAccountId(account_id)) throw Error::Invalid(kInvalidAccount, "Invalid account specified");
  const AccountConfig* account = auth_.FindAccount(account_id);
  if (csr_feature && account && !account->csr_enabled) throw Error::CsrFeatureDisabled(account_id);
  auth_.CheckRateLimit(account_id);
  RequireBodyWithin(request, config_.max_body_bytes);
  return user;
}

void BandwidthApi::AddRoutes() {
  AddOrderRoutes();
  AddNoteRoutes();
  AddSubscriptionRoutes();
  router_.set_method_not_allowed([](const HttpRequest& request) {
    return ErrorResponse(Error::MethodNotAllowed("method " + EchoToken(request.method) + " is not allowed"), kCsrRoot);
  });
}

void BandwidthApi::AddOrderRoutes() {
  AddRoute("POST", "/accounts/*/csrs", kCsrRoot, true, [this](const Call& call) {
    auto csr = wire::DecodeCsr(call.request.body);
    for (auto& leniency : csr.leniencies) NoteLeniency(call.request, call.account_id, std::move(leniency));
    if (auto errors = ValidateCsrFields(csr.fields, true); !errors.empty()) {
      throw Error::Invalid(std::move(errors));
    }
    Order order = engine_.CreateOrder(call.account_id, call.user, std::move(csr.fields));
    return HttpResponse::Xml(config_.create_status, wire::EncodeCsrCreated(order))
        .WithHeader("Location", LocationOf(call.request, "/accounts/" + call.account_id + "/csrs/" + order.id));
  });
  AddRoute("GET", "/accounts/*/csrs", kCsrRoot, true, [this](const Call& call) { return ListOrders(call); });
  AddRoute("GET", "/accounts/*/csrs/*", kCsrRoot, true, [this](const Call& call) {
    return HttpResponse::Xml(200, wire::EncodeCsrResponse(engine_.GetOrder(call.account_id, call.Param(1))));
  });
  AddRoute("PUT", "/accounts/*/csrs/*", kCsrRoot, true, [this](const Call& call) {
    engine_.RequireOrder(call.account_id, call.Param(1));  // unknown id: 404 before any body error
    auto csr = wire::DecodeCsr(call.request.body);
    for (auto& leniency : csr.leniencies) NoteLeniency(call.request, call.account_id, std::move(leniency));
    if (auto errors = ValidateCsrFields(csr.fields, false); !errors.empty()) {
      throw Error::Invalid(std::move(errors));
    }
    Order order = engine_.UpdateOrder(call.account_id, call.user, call.Param(1), csr);
    return HttpResponse::Xml(200, wire::EncodeCsrResponse(order));
  });
}

HttpResponse BandwidthApi::ListOrders(const Call& call) {
  OrderQuery query;
  query.modified_from = QueryTime(call.request, "modifiedDateFrom");
  query.modified_to = QueryTime(call.request, "modifiedDateTo");
  if (auto status = call.request.Query("status")) {
    query.status = ParseOrderStatus(*status);
    if (!query.status) {
      throw Error::Invalid(kInvalidQueryParameter, "'" + EchoToken(*status) + "' is not a valid value for status");
    }
  }
  query.page = PositiveQueryNumber(call.request, "page", 1, 1'000'000'000);
  query.size = PositiveQueryNumber(call.request, "size", 300, 10'000);
  OrderPage page = engine_.ListOrders(call.account_id, query);

  std::string base = LocationOf(call.request, "/accounts/" + call.account_id + "/csrs") + "?";
  // Only the filters this call read (and validated), each short: the links
  // never repeat arbitrary client input.
  for (const auto& [name, value] : call.request.query) {
    const bool filter = name == "modifiedDateFrom" || name == "modifiedDateTo" || name == "status";
    if (filter && value.size() <= kMaxEchoBytes) base += name + "=" + UrlEncode(value) + "&";
  }
  auto link = [&](std::size_t number) {
    return base + "page=" + std::to_string(number) + "&size=" + std::to_string(query.size);
  };
  wire::ListLinks links{link(1), std::nullopt};
  if (page.has_next) links.next = link(query.page + 1);
  return HttpResponse::Xml(200, wire::EncodeCsrList(page.total_count, links, page.orders));
}

void BandwidthApi::AddNoteRoutes() {
  AddRoute("GET", "/accounts/*/csrs/*/notes", kNoteRoot, true, [this](const Call& call) {
    auto notes = engine_.GetNotes(call.account_id, call.Param(1));
    if (notes.empty()) return HttpResponse::Empty(204);
    return HttpResponse::Xml(200, wire::EncodeNotes(notes));
  });
  AddRoute("POST", "/accounts/*/csrs/*/notes", kNoteRoot, true, [this](const Call& call) {
    engine_.RequireOrder(call.account_id, call.Param(1));
    auto note = wire::DecodeNote(call.request.body);
    if (auto errors = ValidateNote(note.user_id, note.description); !errors.empty()) {
      throw Error::Invalid(std::move(errors));
    }
    Note added =
        engine_.AddNote(call.account_id, call.Param(1), note.user_id.value_or(""), note.description.value_or(""));
    return HttpResponse::Empty(201).WithHeader(
        "Location", LocationOf(call.request, "/accounts/" + call.account_id + "/csrs/" + call.Param(1) + "/notes/" +
                                                 std::to_string(added.id)));
  });
  AddRoute("PUT", "/accounts/*/csrs/*/notes/*", kNoteRoot, true, [this](const Call& call) { return UpdateNote(call); });
  AddRoute("POST", "/accounts/*/csrs/*/notes/*", kNoteRoot, true, [this](const Call& call) {
    NoteLeniency(call.request, call.account_id, "accepted POST as the update of a note (documented: PUT)");
    return UpdateNote(call);  // the Java SDK's method
  });
}

HttpResponse BandwidthApi::UpdateNote(const Call& call) {
  engine_.RequireOrder(call.account_id, call.Param(1));
  std::int64_t note_id = 0;
  const std::string& id_text = call.Param(2);
  auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), note_id);
  if (ec != std::errc() || end != id_text.data() + id_text.size()) {
    throw Error::NoteNotFound();
  }
  auto note = wire::DecodeNote(call.request.body);
  if (auto errors = ValidateNote(note.user_id, note.description); !errors.empty()) {
    throw Error::Invalid(std::move(errors));
  }
  engine_.UpdateNote(call.account_id, call.Param(1), note_id, note.user_id, note.description);
  return HttpResponse::Empty(200);
}

// GET never shows the callback password, so an SDK's get-modify-update PUTs
// the stored Username back without one; that keeps the stored password
// (docs/wire-contract.md).
SubscriptionSpec BandwidthApi::DecodeSubscription(const Call& call, const Subscription* stored) const {
  auto spec = wire::DecodeSubscription(call.request.body);
  if (stored) KeepStoredPassword(spec, stored->spec);
  if (auto errors = ValidateSubscription(spec, {config_.host, listen_port_.load()}); !errors.empty()) {
    throw Error::Invalid(std::move(errors));
  }
  return spec;
}

void BandwidthApi::AddSubscriptionRoutes() {
  AddRoute("POST", "/accounts/*/subscriptions", kSubscriptionRoot, false, [this](const Call& call) {
    auto subscription = engine_.CreateSubscription(call.account_id, DecodeSubscription(call, nullptr));
    return HttpResponse::Empty(201).WithHeader(
        "Location", LocationOf(call.request, "/accounts/" + call.account_id + "/subscriptions/" + subscription.id));
  });
  AddRoute("GET", "/accounts/*/subscriptions", kSubscriptionRoot, false, [this](const Call& call) {
    auto list =
        engine_.ListSubscriptions(call.account_id, call.request.Query("orderType"), call.request.Query("orderId"));
    return HttpResponse::Xml(200, wire::EncodeSubscriptions(list, engine_.Now(call.account_id)));
  });
  AddRoute("GET", "/accounts/*/subscriptions/*", kSubscriptionRoot, false, [this](const Call& call) {
    auto subscription = engine_.GetSubscription(call.account_id, call.Param(1));
    return HttpResponse::Xml(200, wire::EncodeSubscriptions({subscription}, engine_.Now(call.account_id)));
  });
  AddRoute("PUT", "/accounts/*/subscriptions/*", kSubscriptionRoot, false, [this](const Call& call) {
    const Subscription stored = engine_.GetSubscription(call.account_id, call.Param(1));
    engine_.ReplaceSubscription(call.account_id, call.Param(1), DecodeSubscription(call, &stored));
    return HttpResponse::Empty(200);
  });
  AddRoute("DELETE", "/accounts/*/subscriptions/*", kSubscriptionRoot, false, [this](const Call& call) {
    engine_.DeleteSubscription(call.account_id, call.Param(1));
    return HttpResponse::Empty(200);
  });
}

}  // namespace csrsim
