// Input safety (nothing a client sends can crash, leak or corrupt the
// simulator): each case sends a hostile input over real HTTP to the real binary
// (or runs the binary on a hostile file) and checks the documented answer, and
// that the process is still alive and well afterwards.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

const std::string kAccount = "/api/accounts/9900000";
const std::vector<std::string> kManual = {"--clock", "manual", "--log-level", "off"};

// A JSON answer: the status, application/json, a body that parses, and no
// header carrying exception text (httplib's EXCEPTION_WHAT).
Json CheckedJson(const httplib::Result& result, int status) {
  REQUIRE(result);
  INFO(result->status << " " << result->body);
  CHECK(result->status == status);
  CHECK(result->get_header_value("Content-Type") == "application/json");
  for (const auto& [name, value] : result->headers) {
    INFO(name << ": " << value);
    CHECK(name.find("EXCEPTION") == std::string::npos);
    CHECK(value.find("json.exception") == std::string::npos);
  }
  Json body = Json::parse(result->body, nullptr, false);
  CHECK_FALSE(body.is_discarded());
  return body;
}

bool Healthy(const SimulatorProcess& sim) {
  auto health = sim.Client("")->Get("/_sim/health");
  return health && health->status == 200;
}

std::string NestedGroups(std::size_t depth) {
  return std::string(depth, '(') + "1" + std::string(depth, ')');
}

std::string RegexScenario(const std::string& regex) {
  return "scenarios:\n  - name: deep\n    match: { tn_regex: \"" + regex +
         "\" }\n    steps:\n      - after: 1s\n        status: COMPLETE\n";
}

}  // namespace

TEST_CASE("a number overflow or a wrong type on every JSON-body /_sim route is a 400 JSON error") {
  SimulatorProcess sim(kManual);
  auto control = sim.Client("");
  auto api = sim.Client();
  auto created = api->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(created);
  const std::string order_id = XmlText(created->body, "OrderId").value_or("");
  REQUIRE_FALSE(order_id.empty());

  const std::vector<std::pair<std::string, std::string>> calls = {
      {"/_sim/clock/advance", R"({"by":1e400})"},
      {"/_sim/clock/advance", R"({"by":-1e400})"},
      {"/_sim/clock/advance", R"({"by":5})"},
      {"/_sim/clock/advance", R"({"by":["5s"]})"},
      {"/_sim/orders/" + order_id + "/transition", R"({"status":"FAILED","errors":[{"code":1e400}]})"},
      {"/_sim/orders/" + order_id + "/transition", R"({"status":{"a":1}})"},
      {"/_sim/orders/" + order_id + "/transition", R"({"status":"FAILED","errors":[{"code":18446744073709551615}]})"},
      {"/_sim/callbacks/settings", R"({"attempts":1e400})"},
      {"/_sim/callbacks/settings", R"({"attempts":18446744073709551615})"},
      {"/_sim/callbacks/settings", R"({"attempts":2,"multiplier":"x"})"},
      {"/_sim/scenarios/reload", R"({"paths":1e400})"},
      {"/_sim/scenarios/reload", R"({"paths":[1]})"},
      {"/_sim/faults", R"({"target":"api","action":"status","count":1e400})"},
      {"/_sim/faults", R"({"target":"api","action":"status","fraction":1e400})"},
      {"/_sim/faults", R"({"target":"callback","fault":"drop","count":-18446744073709551616})"},
      {"/_sim/faults", R"({"target":1e400})"},
  };
  for (const auto& [path, body] : calls) {
    INFO("POST " << path << " " << body);
    Json answer = CheckedJson(control->Post(path.c_str(), body, "application/json"), 400);
    CHECK(answer["error"].is_string());
  }
  CHECK(Healthy(sim));
  CHECK(sim.Stop() == 0);
  CHECK(sim.Stderr().find("internal error") == std::string::npos);
}

TEST_CASE("a tn_regex of 50000 nested groups is a load error from validate and from reload, not a crash") {
  const std::string dir = MakeTempDir();
  const std::string deep = WriteFile(dir, "deep.yaml", RegexScenario(NestedGroups(50'000)));

  ProcessResult validated = RunBinary({"validate", deep});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err.find(deep + ":3:") == 0);
  CHECK(validated.err.find("`tn_regex` is 100001 characters long") != std::string::npos);
  CHECK(validated.err.size() < 400);

  // Short enough to pass the length check, too deep for the depth check.
  const std::string nested = WriteFile(dir, "nested.yaml", RegexScenario(NestedGroups(40)));
  validated = RunBinary({"validate", nested});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err.find("nests groups more than 16 deep") != std::string::npos);
  // Repeat counts that would copy the pattern into millions of states.
  const std::string repeats = WriteFile(dir, "repeats.yaml", RegexScenario("((\\\\d{0,99}){99}){99}"));
  validated = RunBinary({"validate", repeats});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err.find("is too complex") != std::string::npos);

  const std::string good = WriteFile(dir, "good.yaml", RegexScenario("919\\\\d{3}0[0-9]{3}"));
  CHECK(RunBinary({"validate", good}).exit_code == 0);

  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--scenarios", good, "--scenarios-root", dir});
  auto control = sim.Client("");
  Json before = CheckedJson(control->Get("/_sim/scenarios"), 200);
  for (const std::string& file : {deep, nested, repeats}) {
    Json error = CheckedJson(
        control->Post("/_sim/scenarios/reload", Json{{"paths", {file}}}.dump(), "application/json"), 400);
    CHECK(error["error"].get<std::string>().find(file + ":3:") == 0);
  }
  CHECK(Healthy(sim));
  CHECK(CheckedJson(control->Get("/_sim/scenarios"), 200) == before);
}

TEST_CASE("failed subscription calls on unknown accounts create no account") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  for (int i = 0; i < 50; ++i) {
    const std::string account = "/api/accounts/77" + std::to_string(i);
    auto deleted = api->Delete((account + "/subscriptions/x").c_str());
    REQUIRE(deleted);
    CHECK(deleted->status == 404);
    auto replaced = api->Put((account + "/subscriptions/x").c_str(),
                             SubscriptionRequest("http://127.0.0.1:9/cb").Xml(), "application/xml");
    REQUIRE(replaced);
    CHECK(replaced->status == 404);
    CHECK(api->Get((account + "/subscriptions/x").c_str())->status == 404);
    CHECK(api->Get((account + "/csrs").c_str())->status == 200);
  }
  CHECK(CheckedJson(control->Get("/_sim/health"), 200)["accounts"] == 0);

  // An account appears with its first subscription and goes with its last.
  auto created = api->Post((kAccount + "/subscriptions").c_str(), SubscriptionRequest("http://127.0.0.1:9/cb").Xml(),
                           "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  CHECK(CheckedJson(control->Get("/_sim/health"), 200)["accounts"] == 1);
  CHECK(api->Delete((kAccount + "/subscriptions/" + LocationId(created)).c_str())->status == 200);
  CHECK(CheckedJson(control->Get("/_sim/health"), 200)["accounts"] == 0);
}

TEST_CASE("a config file with a non-scalar key gives one line and exit 2") {
  const std::string dir = MakeTempDir();
  for (const std::string& yaml : {std::string("accounts: [ { [a]: 1 } ]\n"), std::string("{ [a]: 1 }\n"),
                                  std::string("accounts:\n  - id: \"1\"\n    users: [ { {u: 1}: x } ]\n"),
                                  std::string("accounts:\n  - id: [1, 2]\n")}) {
    INFO(yaml);
    const std::string file = WriteFile(dir, "config.yaml", yaml);
    ProcessResult result = RunBinary({"--port", "0", "--config", file});
    CHECK(result.exit_code == 2);
    CHECK(result.err.rfind("csr-simulator: " + file + ":", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  }
}

TEST_CASE("a reload reads only files under the scenario roots and never echoes a file's content") {
  const std::string root = MakeTempDir();
  const std::string outside = MakeTempDir();
  const std::string configured = WriteFile(root, "mine.yaml", RegexScenario("919\\\\d{7}"));
  const std::string secret_text = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
                                  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n";
  const std::string secret = WriteFile(outside, "secret.yaml", secret_text);
  const std::string extra_root = MakeTempDir();
  // Looks like YAML, holds a secret: the error may name the file and the rule only.
  const std::string leaky = WriteFile(extra_root, "leaky.yaml", secret_text);
  std::filesystem::create_symlink(secret, root + "/link.yaml");

  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--scenarios", configured,
                        "--scenarios-root", extra_root});
  auto control = sim.Client("");
  auto reload = [&](const Json& body, int status) {
    return CheckedJson(control->Post("/_sim/scenarios/reload", body.dump(), "application/json"), status);
  };
  Json before = CheckedJson(control->Get("/_sim/scenarios"), 200);

  for (const std::string& path : {std::string("/etc/passwd"), std::string("/etc"), secret, outside,
                                  root + "/link.yaml", root + "/../" + std::filesystem::path(outside).filename().string() +
                                                           "/secret.yaml",
                                  std::string("/no/such/file.yaml")}) {
    INFO(path);
    Json error = reload(Json{{"paths", {path}}}, 403);
    const std::string text = error["error"].get<std::string>();
    CHECK(text.find("outside the scenario files") != std::string::npos);
    CHECK(text.find("root:") == std::string::npos);
    CHECK(text.find("SECRET") == std::string::npos);
  }
  // A file under a root may be read; its errors name file:line:col and the rule.
  Json error = reload(Json{{"paths", {leaky}}}, 400);
  const std::string text = error["error"].get<std::string>();
  CHECK(text.rfind(leaky + ":1:1: ", 0) == 0);
  CHECK(text.find("wJalrXUtnFEMI") == std::string::npos);
  CHECK(text.find("PRIVATE KEY") == std::string::npos);
  CHECK(text.size() < leaky.size() + 200);
  CHECK(CheckedJson(control->Get("/_sim/scenarios"), 200) == before);
  // The configured file itself, and files under a root, reload.
  CHECK(reload(Json{{"paths", {configured}}}, 200)["scenarios"][0]["name"] == "deep");
  WriteFile(extra_root, "other.yaml", RegexScenario("1"));
  std::filesystem::remove(leaky);
  CHECK(reload(Json{{"paths", {extra_root}}}, 200)["scenarios"][0]["name"] == "deep");
}

TEST_CASE("a reload of a directory without YAML keeps the scenarios and default:true restores the bundled set") {
  const std::string root = MakeTempDir();
  const std::string empty = root + "/empty";
  std::filesystem::create_directory(empty);
  WriteFile(empty, "notes.txt", "not a scenario");
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--scenarios-root", root});
  auto control = sim.Client("");
  Json bundled = CheckedJson(control->Get("/_sim/scenarios"), 200);
  REQUIRE(bundled["scenarios"].size() == 6);

  Json error = CheckedJson(
      control->Post("/_sim/scenarios/reload", Json{{"paths", {empty}}}.dump(), "application/json"), 400);
  CHECK(error["error"] == empty + ": no scenario files in " + empty + " (expected *.yaml or *.yml)");
  CHECK(CheckedJson(control->Get("/_sim/scenarios"), 200) == bundled);
  ProcessResult validated = RunBinary({"validate", empty});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err.find("no scenario files in") != std::string::npos);

  const std::string mine = WriteFile(root, "mine.yaml", RegexScenario("1"));
  CHECK(CheckedJson(control->Post("/_sim/scenarios/reload", Json{{"paths", {mine}}}.dump(), "application/json"),
                    200)["scenarios"]
            .size() == 1);
  CHECK(CheckedJson(control->Post("/_sim/scenarios/reload", R"({"default":true})", "application/json"), 200) ==
        bundled);
  CHECK(CheckedJson(control->Get("/_sim/scenarios"), 200) == bundled);
  CheckedJson(control->Post("/_sim/scenarios/reload", R"({"default":false})", "application/json"), 400);
  CheckedJson(control->Post("/_sim/scenarios/reload", R"({"default":true,"paths":["x"]})", "application/json"), 400);
}
