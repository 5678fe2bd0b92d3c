// config: the command line and the accounts file, turned into one documented
// struct. The only place that knows flag names and the accounts YAML.
//
// Thread-safety: plain values, built once at start-up; read-only afterwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "csrsim/callbacks.hpp"
#include "csrsim/model.hpp"

namespace csrsim {

struct UserCredentials {
  std::string username;
  std::string password;
};

struct OAuthClient {
  std::string client_id;
  std::string client_secret;
};

struct RateLimit {
  std::uint32_t requests = 0;  // allowed per window
  Duration window = std::chrono::seconds(1);
};

struct AccountConfig {
  std::string id;
  bool csr_enabled = true;
  std::vector<UserCredentials> users;
  std::vector<OAuthClient> oauth_clients;
  std::optional<RateLimit> rate_limit;
};

// Which credentials the Bandwidth routes accept. kOAuth simulates Bandwidth
// after Basic API users are retired (2026-12-02).
enum class AuthMode { kBasic, kOAuth, kBoth };

struct Config {
  // server
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port
  std::string port_file;
  // The serving limits (README "Running it for a parallel CI suite").
  std::size_t max_connections = 1024;  // open connections, one worker thread each; more get 503
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  std::size_t max_header_bytes = 65536;                // request line + headers; more is 431
  std::size_t max_headers = 100;                       // header fields; more is 431
  std::chrono::milliseconds header_timeout{10000};     // a request head must arrive within this
  std::chrono::milliseconds keep_alive_timeout{5000};  // idle connections close after this
  std::string log_level = "info";                      // "debug", "info", "warn", "error", "off"
  std::string log_format = "text";                     // "text" or "json" (log.hpp)
  std::string tls_cert_file;                           // both set: the listener speaks HTTPS only (PEM files)
  std::string tls_key_file;

  // behaviour
  std::vector<std::string> scenario_paths;  // empty: the bundled default.yaml
  // Directories whose files POST /_sim/scenarios/reload may read, besides the
  // scenario_paths themselves (a file path: that file; a directory: its tree).
  std::vector<std::string> scenarios_roots;
  std::string clock = "real";  // "real", "manual", "scale=N"
  std::optional<std::uint64_t> seed;
  int create_status = 200;  // POST /csrs: 200 (guide) or 201 (OpenAPI)
  AuthMode auth = AuthMode::kBoth;
  std::string control_token;  // non-empty: /_sim needs Bearer <token>
  std::string state_file;     // --state: durable state (SQLite); empty = in memory
  // What the simulator holds (engine.hpp, EngineLimits); past a cap: 409, 1017.
  std::size_t max_orders = 1'000'000;
  std::size_t max_notes_per_order = 1000;
  std::size_t max_subscriptions_per_account = 1000;

  // callbacks
  CallbackAuthMode callback_auth = CallbackAuthMode::kPreemptive;
  std::chrono::milliseconds callback_timeout{5000};
  std::chrono::milliseconds shutdown_grace{0};  // SIGTERM: how long queued callbacks may drain
  int callback_workers = 32;  // per account at most half in flight, a quarter to one host, an eighth to one host:port
  int callback_attempts = 1;  // 1 = no retry, as Bandwidth
  std::size_t journal_capacity = 10000;
  std::size_t request_journal_capacity = 10000;  // requests kept for /_sim/requests; 0: none

  // accounts: empty means open mode (any account id; user username/password;
  // OAuth client clientId/clientSecret).
  std::string config_file;
  std::vector<AccountConfig> accounts;

  bool OpenMode() const { return accounts.empty(); }
};

// A config file error at file:line:col, or a bad flag (file empty).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class CliAction { kRun, kValidate, kStateDump, kTlsSelfSigned, kHelp, kVersion, kError };

struct CommandLine {
  CliAction action = CliAction::kRun;
  Config config;
  std::vector<std::string> validate_paths;  // for kValidate
  std::string state_dump_file;              // for kStateDump
  std::string tls_dir;                      // for kTlsSelfSigned: where cert.pem and key.pem go
  std::vector<std::string> tls_names;       // for kTlsSelfSigned: names besides localhost
  std::string error;                        // for kError: one line naming the flag
  std::vector<std::string> warnings;        // retired flags: one line each, for stderr
};

// Parses argv (and the --config file it names). Never throws.
CommandLine ParseCommandLine(int argc, const char* const* argv);
std::string HelpText();

// Reads the accounts YAML (see docs/configuration.md) into `config`.
// Throws ConfigError "file:line:col: message".
void LoadConfigText(std::string_view yaml, std::string_view file_name, Config& config);

}  // namespace csrsim
