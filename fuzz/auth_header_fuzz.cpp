// Authorization headers (Basic and Bearer) as the Bandwidth routes read them,
// and the token endpoint's Basic header and form body (api.hpp). The first
// byte picks the auth mode and whether accounts are configured. Properties:
// Authorize answers a user or throws Unauthorized / AccessDenied, nothing else;
// IssueToken always answers JSON with 200, 400 or 401.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "csrsim/api.hpp"
#include "csrsim/clock.hpp"
#include "csrsim/engine.hpp"
#include "csrsim/error.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

namespace {

Config MakeConfig(std::uint8_t selector) {
  Config config;
  config.auth = selector % 3 == 0 ? AuthMode::kBasic : selector % 3 == 1 ? AuthMode::kOAuth : AuthMode::kBoth;
  if (selector & 0x10) {
    AccountConfig account;
    account.id = "1001";
    account.users.push_back({"alice", "alice-pw"});
    account.oauth_clients.push_back({"client", "secret"});
    config.accounts.push_back(account);
  }
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static std::unique_ptr<Clock> clock = MakeClock("manual");
  static IdGenerator ids(std::uint64_t{1});
  const Config config = MakeConfig(data[0]);
  Authenticator auth(config, *clock, ids);
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

  HttpRequest request;
  request.method = "GET";
  request.path = "/accounts/1001/csrs";
  request.headers.emplace("Authorization", text);
  try {
    (void)auth.Authorize(request, "1001");
  } catch (const Error& error) {
    FUZZ_CHECK(error.kind() == ErrorKind::kUnauthorized || error.kind() == ErrorKind::kForbidden);
  }
  (void)auth.Describe(request);

  // The token endpoint: the same bytes as its Basic header and as its form body.
  HttpRequest token;
  token.method = "POST";
  token.path = "/api/v1/oauth2/token";
  token.headers.emplace("Authorization", text);
  token.body = text;
  HttpResponse answer = auth.IssueToken(token);
  FUZZ_CHECK(answer.status == 200 || answer.status == 400 || answer.status == 401);
  FUZZ_CHECK(answer.content_type == "application/json");
  return 0;
}
