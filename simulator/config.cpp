#include "csrsim/config.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "csrsim/clock.hpp"
#include "csrsim/encoding.hpp"
#include "csrsim/log.hpp"
#include "csrsim/yaml_file.hpp"

namespace csrsim {

namespace {

template <typename Int>
bool ParseInt(std::string_view text, Int& out, Int min, Int max) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return false;
  }
  out = value;
  return true;
}

// ---- accounts file ---------------------------------------------------------

// Errors read like the scenario loader's (yaml_file.hpp): file:line:col, the
// rule, and at most a short quoted token of the file.
[[noreturn]] void Fail(std::string_view file, const YAML::Node& node, const std::string& message) {
  const YamlPlace place = PlaceOf(node);
  throw ConfigError(YamlFileError(std::string(file), place.line, place.column, message).what());
}

void CheckKeys(std::string_view file, const YAML::Node& map, const std::set<std::string>& allowed,
               std::string_view where) {
  if (!map.IsMap()) Fail(file, map, std::string(where) + " must be a mapping, not " + DescribeYaml(map));
  std::set<std::string> seen;
  for (const auto& item : map) {
    if (!item.first.IsScalar()) {
      Fail(file, item.first, "keys of " + std::string(where) + " must be words, not " + DescribeYaml(item.first));
    }
    const auto key = item.first.Scalar();
    if (!allowed.count(key)) {
      std::string list;
      for (const auto& name : allowed) list += (list.empty() ? "" : ", ") + name;
      Fail(file, item.first,
           "unknown key " + QuotedYaml(key) + " in " + std::string(where) + "; allowed keys: " + list);
    }
    if (!seen.insert(key).second)
      Fail(file, item.first, "duplicate key " + QuotedYaml(key) + " in " + std::string(where));
  }
}

std::string RequiredString(std::string_view file, const YAML::Node& map, const char* key, std::string_view where) {
  const auto node = map[key];
  if (!node) Fail(file, map, std::string(where) + " needs `" + key + "`");
  if (!node.IsScalar() || node.Scalar().empty()) {
    Fail(file, node, std::string("`") + key + "` must be a non-empty string, not " + DescribeYaml(node));
  }
  return node.Scalar();
}

AccountConfig ParseAccount(std::string_view file, const YAML::Node& node) {
  CheckKeys(file, node, {"id", "csr_enabled", "users", "oauth_clients", "rate_limit"}, "an account");
  AccountConfig account;
  account.id = RequiredString(file, node, "id", "an account");
  if (const auto enabled = node["csr_enabled"]) {
    bool value = false;
    if (!YAML::convert<bool>::decode(enabled, value))
      Fail(file, enabled, "`csr_enabled` must be true or false, not " + DescribeYaml(enabled));
    account.csr_enabled = value;
  }
  if (const auto users = node["users"]) {
    if (!users.IsSequence()) Fail(file, users, "`users` must be a list, not " + DescribeYaml(users));
    for (const auto& user : users) {
      CheckKeys(file, user, {"username", "password"}, "a user");
      account.users.push_back(
          {RequiredString(file, user, "username", "a user"), RequiredString(file, user, "password", "a user")});
    }
  }
  if (const auto clients = node["oauth_clients"]) {
    if (!clients.IsSequence()) Fail(file, clients, "`oauth_clients` must be a list, not " + DescribeYaml(clients));
    for (const auto& client : clients) {
      CheckKeys(file, client, {"client_id", "client_secret"}, "an OAuth client");
      account.oauth_clients.push_back({RequiredString(file, client, "client_id", "an OAuth client"),
                                       RequiredString(file, client, "client_secret", "an OAuth client")});
    }
  }
  if (const auto limit = node["rate_limit"]) {
    CheckKeys(file, limit, {"requests", "per"}, "`rate_limit`");
    RateLimit rate;
    if (!ParseInt<std::uint32_t>(RequiredString(file, limit, "requests", "`rate_limit`"), rate.requests, 1,
                                 1'000'000'000)) {
      Fail(file, limit["requests"],
           "`requests` must be a whole number from 1 to 1000000000, not " + DescribeYaml(limit["requests"]));
    }
    if (limit["per"]) {
      auto window = ParseDuration(RequiredString(file, limit, "per", "`rate_limit`"));
      if (!window || window->count() <= 0)
        Fail(file, limit["per"],
             "`per` must be a positive duration such as 1s or 500ms, not " + DescribeYaml(limit["per"]));
      rate.window = *window;
    }
    account.rate_limit = rate;
  }
  return account;
}

void LoadConfigDocument(std::string_view yaml, std::string_view file_name, Config& config) {
  YAML::Node root = LoadYamlDocument(yaml, std::string(file_name), "a config file");
  if (root.IsNull()) return;
  CheckKeys(file_name, root, {"accounts"}, "the config file");
  const auto accounts = root["accounts"];
  if (!accounts) return;
  if (!accounts.IsSequence()) Fail(file_name, accounts, "`accounts` must be a list, not " + DescribeYaml(accounts));
  std::set<std::string> seen;
  std::vector<AccountConfig> parsed;
  for (const auto& node : accounts) {
    auto account = ParseAccount(file_name, node);
    if (!seen.insert(account.id).second) Fail(file_name, node["id"], "duplicate account id " + QuotedYaml(account.id));
    parsed.push_back(std::move(account));
  }
  config.accounts = std::move(parsed);
}

// ---- command line ----------------------------------------------------------

// A duration flag ("250ms", "5s"): positive, whole milliseconds.
bool ParsePositiveMillis(std::string_view text, std::chrono::milliseconds& out) {
  auto d = ParseDuration(text);
  if (!d || d->count() <= 0) return false;
  out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  return out.count() > 0;
}

// Flags that no longer do anything: accepted with a warning, so existing
// scripts keep running.
struct RetiredFlag {
  const char* name;
  const char* why;
};
constexpr RetiredFlag kRetiredFlags[] = {
    {"--http-threads",
     "--http-threads is retired and ignored: each connection gets a worker thread on demand, up to "
     "--max-connections (default 1024)"},
};

struct FlagSpec {
  const char* name;
  bool takes_value;
  std::function<bool(std::string_view, Config&)> apply;  // false: invalid value
};

// A flag whose value is a non-empty string, kept as given.
FlagSpec StringFlag(const char* name, std::string Config::*member) {
  return {name, true, [member](std::string_view v, Config& c) {
            c.*member = std::string(v);
            return !v.empty();
          }};
}

// The flags of the server: where it listens, its limits, TLS and logging.
std::vector<FlagSpec> ServerFlags() {
  return {
      StringFlag("--host", &Config::host),
      {"--port", true, [](auto v, Config& c) { return ParseInt(v, c.port, 0, 65535); }},
      StringFlag("--port-file", &Config::port_file),
      {"--log-level", true,
       [](auto v, Config& c) {
         c.log_level = std::string(v);
         return ParseLogLevel(v).has_value();
       }},
      {"--log-format", true,
       [](auto v, Config& c) {
         c.log_format = std::string(v);
         return ParseLogFormat(v).has_value();
       }},
      StringFlag("--tls-cert", &Config::tls_cert_file),
      StringFlag("--tls-key", &Config::tls_key_file),
      {"--max-connections", true,
       [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.max_connections, 1, 100'000); }},
      {"--max-body-bytes", true,
       [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.max_body_bytes, 1, 1ull << 30); }},
      {"--max-header-bytes", true,
       [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.max_header_bytes, 1024, 16u << 20); }},
      {"--max-headers", true, [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.max_headers, 1, 10'000); }},
      {"--header-timeout", true, [](auto v, Config& c) { return ParsePositiveMillis(v, c.header_timeout); }},
      {"--keep-alive-timeout", true, [](auto v, Config& c) { return ParsePositiveMillis(v, c.keep_alive_timeout); }},
  };
}

// The flags of what the simulator does: scenarios, accounts, state, callbacks, caps.
std::vector<FlagSpec> BehaviourFlags() {
  return {
      {"--scenarios", true,
       [](auto v, Config& c) {
         c.scenario_paths.emplace_back(v);
         return !v.empty();
       }},
      {"--scenarios-root", true,
       [](auto v, Config& c) {
         c.scenarios_roots.emplace_back(v);
         return !v.empty();
       }},
      StringFlag("--config", &Config::config_file),
      {"--clock", true,
       [](auto v, Config& c) {
         c.clock = std::string(v);
         return MakeClock(v) != nullptr;
       }},
      {"--seed", true,
       [](auto v, Config& c) {
         std::uint64_t seed = 0;
         if (!ParseInt<std::uint64_t>(v, seed, 0, UINT64_MAX)) return false;
         c.seed = seed;
         return true;
       }},
      {"--auth", true,
       [](auto v, Config& c) {
         if (v == "basic")
           c.auth = AuthMode::kBasic;
         else if (v == "oauth")
           c.auth = AuthMode::kOAuth;
         else if (v == "both")
           c.auth = AuthMode::kBoth;
         else
           return false;
         return true;
       }},
      StringFlag("--state", &Config::state_file),
      StringFlag("--control-token", &Config::control_token),
      {"--create-status", true, [](auto v, Config& c) { return ParseInt(v, c.create_status, 200, 201); }},
      {"--callback-auth", true,
       [](auto v, Config& c) {
         if (v == "preemptive")
           c.callback_auth = CallbackAuthMode::kPreemptive;
         else if (v == "challenge")
           c.callback_auth = CallbackAuthMode::kChallenge;
         else
           return false;
         return true;
       }},
      {"--shutdown-grace", true,
       [](auto v, Config& c) {
         auto d = ParseDuration(v);
         if (!d || d->count() < 0) return false;
         c.shutdown_grace = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
         return true;
       }},
      {"--callback-timeout", true, [](auto v, Config& c) { return ParsePositiveMillis(v, c.callback_timeout); }},
      {"--callback-attempts", true, [](auto v, Config& c) { return ParseInt(v, c.callback_attempts, 1, 100); }},
      {"--callback-workers", true, [](auto v, Config& c) { return ParseInt(v, c.callback_workers, 1, 1024); }},
      {"--request-journal-capacity", true,
       [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.request_journal_capacity, 0, 100'000'000); }},
      {"--journal-capacity", true,
       [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.journal_capacity, 1, 100'000'000); }},
      {"--max-orders", true,
       [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.max_orders, 1, 1'000'000'000); }},
      {"--max-notes-per-order", true,
       [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.max_notes_per_order, 1, 1'000'000); }},
      {"--max-subscriptions-per-account", true,
       [](auto v, Config& c) { return ParseInt<std::size_t>(v, c.max_subscriptions_per_account, 1, 1'000'000); }},
  };
}

const std::vector<FlagSpec>& Flags() {
  static const std::vector<FlagSpec> flags = [] {
    std::vector<FlagSpec> all = ServerFlags();
    std::vector<FlagSpec> behaviour = BehaviourFlags();
    all.insert(all.end(), behaviour.begin(), behaviour.end());
    return all;
  }();
  return flags;
}

}  // namespace

void LoadConfigText(std::string_view yaml, std::string_view file_name, Config& config) {
  try {
    LoadConfigDocument(yaml, file_name, config);
  } catch (const YamlFileError& e) {
    throw ConfigError(e.what());
  } catch (const YAML::Exception& e) {
    // Syntax errors, and any conversion the checks above did not foresee.
    std::ostringstream out;
    out << file_name << ":" << (e.mark.line + 1) << ":" << (e.mark.column + 1) << ": " << e.msg;
    throw ConfigError(out.str());
  }
}

namespace {

// A command line that cannot run: one line for stderr, exit 2.
struct UsageError {
  std::string message;
};

// `validate`, `state dump` and `tls-selfsigned`: false when argv[1] is none
// of them (the simulator runs).
bool ParseSubcommand(const std::vector<std::string_view>& args, CommandLine& result) {
  if (args.empty()) return false;
  if (args[0] == "validate") {
    result.action = CliAction::kValidate;
    result.validate_paths.assign(args.begin() + 1, args.end());
    if (result.validate_paths.empty()) throw UsageError{"validate: name at least one scenario file or directory"};
    return true;
  }
  if (args[0] == "state") {
    if (args.size() != 3 || args[1] != "dump") throw UsageError{"state: usage is 'state dump FILE'"};
    result.action = CliAction::kStateDump;
    result.state_dump_file = args[2];
    return true;
  }
  if (args[0] == "tls-selfsigned") {
    if (args.size() < 2 || args[1].rfind('-', 0) == 0) {
      throw UsageError{"tls-selfsigned: usage is 'tls-selfsigned DIR [NAME...]'"};
    }
    result.action = CliAction::kTlsSelfSigned;
    result.tls_dir = args[1];
    result.tls_names.assign(args.begin() + 2, args.end());
    return true;
  }
  return false;
}

// One flag at args[i] ("--name value" or "--name=value"); moves i past its value.
void ParseFlag(const std::vector<std::string_view>& args, std::size_t& i, CommandLine& result) {
  const std::string_view arg = args[i];
  std::string_view name = arg;
  std::optional<std::string_view> value;
  if (auto eq = arg.find('='); eq != std::string_view::npos && arg.rfind("--", 0) == 0) {
    name = arg.substr(0, eq);
    value = arg.substr(eq + 1);
  }
  auto take_value = [&](std::string_view flag) {
    if (value) return *value;
    if (i + 1 >= args.size()) throw UsageError{std::string(flag) + " needs a value"};
    return args[++i];
  };
  const auto retired = std::find_if(std::begin(kRetiredFlags), std::end(kRetiredFlags),
                                    [name](const RetiredFlag& flag) { return name == flag.name; });
  if (retired != std::end(kRetiredFlags)) {
    take_value(retired->name);
    result.warnings.emplace_back(retired->why);
    return;
  }
  const auto& flags = Flags();
  const auto spec =
      std::find_if(flags.begin(), flags.end(), [name](const FlagSpec& flag) { return name == flag.name; });
  if (spec == flags.end()) throw UsageError{"unknown argument '" + std::string(arg) + "' (see --help)"};
  const std::string_view given = take_value(spec->name);
  if (!spec->apply(given, result.config)) {
    throw UsageError{std::string(spec->name) + ": invalid value '" + std::string(given) + "'"};
  }
}

void LoadConfigFile(Config& config) {
  std::ifstream in(config.config_file);
  if (!in) throw UsageError{"--config: cannot read '" + config.config_file + "'"};
  std::stringstream text;
  text << in.rdbuf();
  try {
    LoadConfigText(text.str(), config.config_file, config);
  } catch (const ConfigError& e) {
    throw UsageError{e.what()};
  } catch (const std::exception& e) {  // never abort: one line, exit 2
    throw UsageError{config.config_file + ": cannot load: " + EchoToken(e.what(), 200)};
  }
}

}  // namespace

CommandLine ParseCommandLine(int argc, const char* const* argv) {
  CommandLine result;
  const std::vector<std::string_view> args(argv + std::min(argc, 1), argv + argc);
  try {
    if (ParseSubcommand(args, result)) return result;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--help" || args[i] == "-h") {
        result.action = CliAction::kHelp;
        return result;
      }
      if (args[i] == "--version") {
        result.action = CliAction::kVersion;
        return result;
      }
      ParseFlag(args, i, result);
    }
    if (result.config.tls_cert_file.empty() != result.config.tls_key_file.empty()) {
      throw UsageError{"--tls-cert and --tls-key go together: name both PEM files, or neither"};
    }
    if (!result.config.config_file.empty()) LoadConfigFile(result.config);
  } catch (const UsageError& usage) {
    result.action = CliAction::kError;
    result.error = usage.message;
  }
  return result;
}

std::string HelpText() {
  return R"(csr-simulator - a local simulator of Bandwidth's CSR Lookup API

Usage:
  csr-simulator [options]
  csr-simulator validate PATH...     lint scenario files or directories (exit 0 valid, 1 invalid)
  csr-simulator state dump FILE      print a --state file as JSON (exit 2 when unusable or in use)
  csr-simulator tls-selfsigned DIR [NAME...]
                                     write DIR/cert.pem and DIR/key.pem: a self-signed certificate
                                     for localhost, 127.0.0.1, ::1 and each NAME (host or IP)
  csr-simulator --help | --version

Server:
  --host ADDR               address to bind (default 127.0.0.1)
  --port N                  port, 0 = any free port (default 8080); the bound port is printed
  --port-file FILE          write the bound port to FILE once listening
  --max-connections N       open connections served at once, one worker thread each;
                            more are answered 503 at once (default 1024)
  --header-timeout D        a request's head must arrive within D, else the connection
                            closes; also the longest pause inside a body (default 10s)
  --keep-alive-timeout D    idle keep-alive connections close after D (default 5s)
  --max-body-bytes N        larger request bodies get 413, read no further (default 1048576)
  --max-header-bytes N      larger request heads (request line + headers) get 431 (default 65536)
  --max-headers N           more header fields get 431 (default 100)
                            (a request line over 8192 bytes gets 414)
  --http-threads N          retired: ignored with a warning (see --max-connections)
  --log-level LEVEL         debug|info|warn|error|off (default info; info logs every request)
  --log-format text|json    log lines on stderr as text or one JSON object each (default text)
  --tls-cert FILE           serve HTTPS only, with this PEM certificate (chain); needs --tls-key
  --tls-key FILE            the certificate's PEM private key, unencrypted

Behaviour:
  --scenarios PATH          scenario file or directory, repeatable (default: bundled default.yaml)
  --scenarios-root DIR      a directory whose files a reload may name, repeatable (besides the
                            --scenarios paths; anything else answers 403)
  --config FILE             accounts, users, OAuth clients, per-account switches (YAML)
  --clock real|manual|scale=N   simulated clock (default real)
  --seed N                  reproducible ids, generated data and random choices
  --auth basic|oauth|both   accepted credentials (default both; oauth = after Basic retirement)
  --create-status 200|201   status of POST /csrs (default 200, as the CSR guide)
  --state FILE              keep orders, subscriptions and the manual clock in FILE (SQLite)
                            across restarts; created when absent (README.md, Durable state)
  --control-token T         require "Authorization: Bearer T" on /_sim control routes
  --max-orders N            CSR orders held, all accounts together; more get 409, code 1017
                            (default 1000000, about 0.7 KiB of memory each)
  --max-notes-per-order N   notes on one order; more get 409, code 1017 (default 1000)
  --max-subscriptions-per-account N
                            subscriptions of one account; more get 409, code 1017 (default 1000)

Callbacks:
  --callback-auth preemptive|challenge   how Basic credentials are sent (default preemptive)
  --callback-timeout D      per-attempt timeout, e.g. 5s (default 5s)
  --shutdown-grace D        on SIGTERM/SIGINT, deliver queued callbacks for up to D before
                            exiting (default 0: drop them)
  --callback-attempts N     attempts per notification, 1 = no retry as Bandwidth (default 1)
  --callback-workers N      parallel deliveries (default 32); per account at most half,
                            a quarter to one host, an eighth to one host:port
  --journal-capacity N      delivery attempts kept for /_sim/callbacks (default 10000)
  --request-journal-capacity N
                            requests kept for /_sim/requests (default 10000; 0: none)

Docs: README.md, docs/scenarios.md, docs/control-api.md, docs/configuration.md
)";
}

}  // namespace csrsim
