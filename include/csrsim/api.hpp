// api: the Bandwidth CSR Lookup routes (docs/wire-contract.md) on top of the Engine.
//
// One linear pipeline per request: strip the path prefix → injected faults →
// authenticate → authorize the account (and its CSR feature, rate limit) →
// route → decode → validate → engine → encode. Every failure is a thrown
// csrsim::Error, turned into HTTP by ErrorResponse(), the Bandwidth-shaped
// error writer (the status of each kind comes from error.hpp's table).
//
// Accepted prefixes: "", /api, /api/v1, /api/v2, /v1.0, /api/v1.0 in front of
// /accounts/{accountId}/...; Location headers echo the prefix the client used.
//
// Thread-safety: BandwidthApi and Authenticator are safe from many threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "csrsim/config.hpp"
#include "csrsim/engine.hpp"
#include "csrsim/error.hpp"
#include "csrsim/faults.hpp"
#include "csrsim/http.hpp"
#include "csrsim/mutex.hpp"

namespace csrsim {

// Checks Basic credentials and OAuth2 Bearer tokens against the accounts of
// the Config (or the public guide's credentials in open mode), and issues
// tokens that expire on the simulated clock.
class Authenticator {
 public:
  Authenticator(const Config& config, Clock& clock, IdGenerator& ids);

  // Returns the API user name (LastModifiedBy) or throws Unauthorized (bad or
  // missing credentials, a credential kind the AuthMode refuses) or
  // AccessDenied (valid credentials of another account).
  std::string Authorize(const HttpRequest& request, const std::string& account_id);
  // The credentials a request carries, without secrets: "basic:USER",
  // "bearer:CLIENT" ("bearer:?" for a token never issued), "none", or the
  // scheme of another kind.
  std::string Describe(const HttpRequest& request) const;
  // POST /api/v1/oauth2/token. Returns the JSON response.
  HttpResponse IssueToken(const HttpRequest& request);
  // Per-account rate limit on the simulated clock; throws RateLimited.
  void CheckRateLimit(const std::string& account_id);
  const AccountConfig* FindAccount(const std::string& account_id) const;
  void Reset();  // forget issued tokens and rate windows

 private:
  // Authorize for each scheme; `value` is what follows the scheme.
  std::string AuthorizeBasic(const HttpRequest& request, const std::string& value, const std::string& account_id) const;
  std::string AuthorizeBearer(const HttpRequest& request, const std::string& value, const std::string& account_id);
  struct Token {
    std::vector<std::string> accounts;  // empty: any account (open mode)
    std::string client_id;
    SimTime expires_at{};
  };
  struct Window {
    SimTime start{};
    std::uint32_t used = 0;
  };

  const Config& config_;
  Clock& clock_;
  IdGenerator& ids_;
  mutable Mutex mu_;
  std::unordered_map<std::string, Token> tokens_ CSRSIM_GUARDED_BY(mu_);
  std::unordered_map<std::string, Window> windows_ CSRSIM_GUARDED_BY(mu_);
};

// The key of every Bandwidth route, as API fault rules name them: "METHOD
// /pattern" with the /accounts/{accountId} part removed. BandwidthApi refuses
// to register a route missing here, so the list cannot drift.
inline constexpr std::string_view kBandwidthRouteKeys[] = {"POST /csrs",
                                                           "GET /csrs",
                                                           "GET /csrs/*",
                                                           "PUT /csrs/*",
                                                           "GET /csrs/*/notes",
                                                           "POST /csrs/*/notes",
                                                           "PUT /csrs/*/notes/*",
                                                           "POST /csrs/*/notes/*",
                                                           "POST /subscriptions",
                                                           "GET /subscriptions",
                                                           "GET /subscriptions/*",
                                                           "PUT /subscriptions/*",
                                                           "DELETE /subscriptions/*"};

// The Bandwidth (XML) shape of an Error: the status and body of its kind
// (kErrorKinds, error.hpp) and its headers. `root` is the response root of the
// route family: "CsrResponse", "NoteResponse", "SubscriptionsResponse". On CSR
// routes, validation errors use <CsrOrderResponse><Errors>.
HttpResponse ErrorResponse(const Error& error, std::string_view root);
// The same, for an error found before routing (the server's framing errors,
// capacity limits): the root is chosen from the path's route family.
HttpResponse ErrorResponseForPath(const Error& error, std::string_view path);

class BandwidthApi {
 public:
  BandwidthApi(const Config& config, Engine& engine, Authenticator& auth, FaultInjector& faults);
  // nullopt when the path is not a Bandwidth path.
  std::optional<HttpResponse> Handle(HttpRequest& request);
  // The port the server listens on, once bound: callback URLs pointing back
  // at it are refused (validation.hpp, OwnListener).
  void SetListenPort(int port) { listen_port_.store(port); }

 private:
  struct Call;  // one admitted call: the request, its account, its user (api.cpp)
  using RouteBody = std::function<HttpResponse(const Call&)>;
  struct RouteSpec {
    std::string key;        // kBandwidthRouteKeys: "PUT /csrs/*"
    std::string_view root;  // the XML root of its error bodies
    bool csr_feature;       // refused for accounts with the CSR feature off
  };

  void AddRoutes();
  void AddOrderRoutes();
  void AddNoteRoutes();
  void AddSubscriptionRoutes();
  // Registers `body` behind the pipeline every route shares (RunRoute).
  void AddRoute(const std::string& method, std::string_view pattern, std::string_view root, bool csr_feature,
                RouteBody body);
  // The pipeline: faults, then Admit, then the body; every Error becomes a
  // Bandwidth-shaped answer here (ErrorResponse), any other exception a 500.
  HttpResponse RunRoute(const HttpRequest& request, const RouteSpec& spec, const RouteBody& body);
  // An injected fault's answer (latency is slept here), or nothing.
  std::optional<HttpResponse> ApplyFault(const HttpRequest& request, const std::string& account_id,
                                         const std::string& key);
  // Credentials, account id, CSR feature, rate limit, body size: the user,
  // or an Error thrown.
  std::string Admit(const HttpRequest& request, const std::string& account_id, bool csr_feature);
  HttpResponse ListOrders(const Call& call);
  HttpResponse UpdateNote(const Call& call);
  // A subscription body, validated; `stored` is the one a PUT replaces.
  SubscriptionSpec DecodeSubscription(const Call& call, const Subscription* stored) const;
  // Something accepted that the real API might refuse (an SDK's spelling, a
  // method): named in the request journal every time, and logged at info once
  // per account and kind, so users learn what to fix before going live.
  void NoteLeniency(const HttpRequest& request, const std::string& account_id, std::string what);

  const Config& config_;
  Engine& engine_;
  Authenticator& auth_;
  FaultInjector& faults_;
  Router router_;  // paths without prefix: /accounts/*/...
  std::atomic<int> listen_port_{0};
  Mutex leniency_mu_;
  std::set<std::string> logged_leniencies_ CSRSIM_GUARDED_BY(leniency_mu_);  // "account\nwhat"
};

}  // namespace csrsim
