// Unit tests of the config module: flags and the accounts file.
#include <catch2/catch.hpp>

#include <vector>

#include "csrsim/config.hpp"

using namespace csrsim;

namespace {
CommandLine Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "csr-simulator");
  return ParseCommandLine(static_cast<int>(args.size()), args.data());
}
}  // namespace

TEST_CASE("no arguments run the simulator with the documented defaults") {
  auto command = Parse({});
  REQUIRE(command.action == CliAction::kRun);
  CHECK(command.config.host == "127.0.0.1");
  CHECK(command.config.port == 8080);
  CHECK(command.config.clock == "real");
  CHECK(command.config.OpenMode());
  CHECK(command.config.auth == AuthMode::kBoth);
  CHECK(command.config.create_status == 200);
}

TEST_CASE("flags take a separate or an = value and repeatable flags accumulate") {
  auto command = Parse({"--port", "0", "--clock=manual", "--scenarios", "a.yaml", "--scenarios=b", "--seed", "42",
                        "--auth", "oauth", "--callback-auth", "challenge", "--callback-timeout", "250ms"});
  REQUIRE(command.action == CliAction::kRun);
  CHECK(command.config.port == 0);
  CHECK(command.config.clock == "manual");
  CHECK(command.config.scenario_paths == std::vector<std::string>{"a.yaml", "b"});
  CHECK(command.config.seed == 42u);
  CHECK(command.config.auth == AuthMode::kOAuth);
  CHECK(command.config.callback_auth == CallbackAuthMode::kChallenge);
  CHECK(command.config.callback_timeout == std::chrono::milliseconds(250));
}

TEST_CASE("a bad flag gives one line naming the flag") {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  for (const auto& c : std::vector<Case>{{{"--port", "70000"}, "--port: invalid value '70000'"},
                                         {{"--clock", "fast"}, "--clock: invalid value 'fast'"},
                                         {{"--seed"}, "--seed needs a value"},
                                         {{"--frobnicate"}, "unknown argument '--frobnicate'"},
                                         {{"--create-status", "204"}, "--create-status: invalid value"},
                                         {{"--config", "/nonexistent/x.yaml"}, "--config: cannot read"}}) {
    auto command = Parse(c.args);
    INFO(c.expected);
    CHECK(command.action == CliAction::kError);
    CHECK(command.error.find(c.expected) != std::string::npos);
    CHECK(command.error.find('\n') == std::string::npos);
  }
}

TEST_CASE("help, version and validate are recognised") {
  CHECK(Parse({"--help"}).action == CliAction::kHelp);
  CHECK(Parse({"--version"}).action == CliAction::kVersion);
  auto validate = Parse({"validate", "a.yaml", "dir"});
  CHECK(validate.action == CliAction::kValidate);
  CHECK(validate.validate_paths == std::vector<std::string>{"a.yaml", "dir"});
  CHECK(Parse({"validate"}).action == CliAction::kError);
}

TEST_CASE("the accounts file lists accounts, users, clients, the CSR switch and rate limits") {
  Config config;
  LoadConfigText(R"(
accounts:
  - id: "9900000"
    users: [{username: alice, password: secret}]
    oauth_clients: [{client_id: app, client_secret: s}]
    rate_limit: {requests: 5, per: 2s}
  - id: "9900001"
    csr_enabled: false
    users: [{username: bob, password: pw}]
)",
                 "accounts.yaml", config);
  REQUIRE(config.accounts.size() == 2);
  CHECK_FALSE(config.OpenMode());
  CHECK(config.accounts[0].csr_enabled);
  CHECK(config.accounts[0].users[0].username == "alice");
  CHECK(config.accounts[0].oauth_clients[0].client_secret == "s");
  REQUIRE(config.accounts[0].rate_limit);
  CHECK(config.accounts[0].rate_limit->requests == 5);
  CHECK(config.accounts[0].rate_limit->window == std::chrono::seconds(2));
  CHECK_FALSE(config.accounts[1].csr_enabled);
}

TEST_CASE("document markers inside a line are text, not a second document") {
  Config config;
  LoadConfigText("# --- accounts ...\naccounts:\n  - id: \"---\" # ...\n", "accounts.yaml", config);
  REQUIRE(config.accounts.size() == 1);
  CHECK(config.accounts[0].id == "---");
}

TEST_CASE("accounts file errors point at file:line:col") {
  struct Case {
    const char* yaml;
    std::string expected;
  };
  for (const auto& c : std::vector<Case>{
           {"accounts:\n  - id: \"1\"\n    colour: red\n", "accounts.yaml:3:5: unknown key `colour`"},
           {"accounts:\n  - users: []\n", "accounts.yaml:2:5: an account needs `id`"},
           {"accounts:\n  - id: \"1\"\n  - id: \"1\"\n", "accounts.yaml:3:9: duplicate account id `1`"},
           {"accounts:\n  - id: \"1\"\n    csr_enabled: maybe\n", "accounts.yaml:3:18: `csr_enabled` must be"},
           {"accounts:\n  - id: \"1\"\n    rate_limit: {requests: 0}\n", "accounts.yaml:3:28: `requests` must be"},
           {"accounts: [\n", "accounts.yaml:2:1: YAML syntax error: "},
           // The same reader and wording as scenario files (yaml_file.hpp).
           {"accounts:\n  - id: \"1\"\n    id: \"2\"\n", "accounts.yaml:3:5: duplicate key `id` in an account"},
           {"accounts: [ { [a]: 1 } ]\n", "accounts.yaml:1:15: keys of an account must be words, not a list"},
           {"accounts: []\n---\naccounts: []\n",
            "accounts.yaml:3:1: a config file holds one YAML document; remove the second `---`"},
           // After a document-end marker, and with CRLF line ends.
           {"accounts: []\n...\naccounts: []\n",
            "accounts.yaml:3:1: a config file holds one YAML document; remove the second `---`"},
           {"accounts: []\r\n---\r\naccounts: []\r\n",
            "accounts.yaml:3:1: a config file holds one YAML document; remove the second `---`"},
           {"accounts: x\n", "accounts.yaml:1:11: `accounts` must be a list, not `x`"},
       }) {
    Config config;
    INFO(c.yaml);
    try {
      LoadConfigText(c.yaml, "accounts.yaml", config);
      FAIL("no error");
    } catch (const ConfigError& error) {
      CHECK(std::string(error.what()).rfind(c.expected, 0) == 0);
      CHECK(config.accounts.empty());
    }
  }
}
