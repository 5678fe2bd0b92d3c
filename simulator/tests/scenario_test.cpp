#include <stdlib.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <stdexcept>

#include "csrsim/scenario.hpp"
#include "temp_dir.hpp"

using namespace csrsim;
using csrsim::testing::TempDir;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

ScenarioLoadError LoadError(std::string_view yaml) {
  try {
    LoadScenarioText(yaml, "test.yaml");
  } catch (const ScenarioLoadError& error) {
    return error;
  }
  throw std::runtime_error("expected a ScenarioLoadError, but the text loaded");
}

CsrFields OrderFor(std::string tn) {
  CsrFields fields;
  fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, std::move(tn));
  return fields;
}

// A complete example of the format: the guide's order, 26500 and a PIN loop.
constexpr std::string_view kDesignExample = R"(scenarios:
  - name: house-of-mouse
    description: The public guide's example; completes with full CSR data.
    match:
      tn: "9198675309"              # also: tn_prefix, tn_suffix, tn_regex,
                                    # fields: {EndUserPIN: "1234"}, account: "9900000"
    steps:
      - after: 1s
        status: PROCESSING
      - after: 2s                   # relative to the previous step
        status: COMPLETE
        message: The CSR request is complete.
        csr:                        # CsrData; or the word `generated`
          CustomerName: House of Mouse
          ServiceAddress:
            UnparsedAddress: 1234 Main ST Durham NC 27707
            HouseNumber: "1234"
            StreetName: Main
            StreetSuffix: ST
            City: Durham
            State: NC
            Zip: "27707"
          WorkingTelephoneNumbersOnAccount: ["9198675309"]
  - name: csr-not-available
    match: { tn_suffix: "0000" }
    steps:
      - after: 2s
        status: FAILED
        message: "26500: CSR is not available for this TN"
        errors: [{ code: 26500, description: CSR is not available for this TN }]
  - name: pin-required
    match: { tn_suffix: "0001" }
    steps:
      - after: 2s
        status: ACTION_REQUIRED
        message: End user PIN is required
      - on_update: { requires: [EndUserPIN] }    # waits for a PUT carrying the field
        status: PROCESSING
      - after: 2s
        status: COMPLETE
        csr: generated
default: generated-complete
)";

const std::vector<std::pair<std::string, std::string>> kHouseOfMouseAddress = {
    {"UnparsedAddress", "1234 Main ST Durham NC 27707"},
    {"HouseNumber", "1234"},
    {"StreetName", "Main"},
    {"StreetSuffix", "ST"},
    {"City", "Durham"},
    {"State", "NC"},
    {"Zip", "27707"}};

}  // namespace

// ---------------------------------------------------------------------------
// Loading valid files

TEST_CASE("the documented example loads verbatim once its default scenario exists") {
  TempDir dir;
  std::string example = dir.Write("a-example.yaml", kDesignExample);
  std::string fallback = dir.Write("b-fallback.yaml", R"(scenarios:
  - name: generated-complete
    steps:
      - { after: 1s, status: PROCESSING }
      - { after: 2s, status: COMPLETE, csr: generated }
)");
  ScenarioSet set = LoadScenarioPaths({example, fallback});

  REQUIRE(set.scenarios().size() == 4);
  CHECK(set.default_name() == "generated-complete");
  const Scenario& house = set.scenarios()[0];
  CHECK(house.name == "house-of-mouse");
  CHECK(house.description == "The public guide's example; completes with full CSR data.");
  CHECK(house.source == example + ":2");
  REQUIRE(house.match.has_value());
  CHECK(house.match->tn == "9198675309");
  REQUIRE(house.variants.size() == 1);
  const std::vector<Step>& steps = house.variants[0].steps;
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].after == 1s);
  CHECK(steps[0].status == OrderStatus::kProcessing);
  CHECK(steps[0].line == 8);
  CHECK(steps[1].after == 2s);
  CHECK(steps[1].status == OrderStatus::kComplete);
  CHECK(steps[1].message == "The CSR request is complete.");
  CHECK(steps[1].csr_source == CsrSource::kExplicit);
  CHECK(steps[1].csr.customer_name == "House of Mouse");
  CHECK(steps[1].csr.service_address == kHouseOfMouseAddress);
  CHECK(steps[1].csr.working_telephone_numbers_on_account == std::vector<std::string>{"9198675309"});
  CHECK_FALSE(steps[1].csr.working_telephone_number.has_value());

  const Scenario& failed = set.scenarios()[1];
  REQUIRE(failed.variants[0].steps.size() == 1);
  CHECK(failed.variants[0].steps[0].errors == std::vector<ErrorDetail>{{26500, "CSR is not available for this TN"}});

  const std::vector<Step>& pin = set.scenarios()[2].variants[0].steps;
  REQUIRE(pin.size() == 3);
  CHECK(pin[1].on_update);
  CHECK_FALSE(pin[1].after.has_value());
  CHECK(pin[1].requires_fields == std::vector<CsrField>{CsrField::kEndUserPIN});
  CHECK(pin[2].csr_source == CsrSource::kGenerated);
}

TEST_CASE("the documented example alone reports its dangling default at the value") {
  ScenarioLoadError error = LoadError(kDesignExample);
  CHECK(error.file() == "test.yaml");
  CHECK(error.line() == 42);
  CHECK(error.column() == 10);
  CHECK(error.message() == "`default` names `generated-complete`, but no scenario has that name");
  CHECK(std::string(error.what()) == "test.yaml:42:10: " + error.message());
}

TEST_CASE("notify defaults to true for every status but PROCESSING, and can be overridden") {
  ScenarioSet set = LoadScenarioText(R"(scenarios:
  - name: all
    steps:
      - { after: 1s, status: PROCESSING }
      - { after: 1s, status: ACTION_REQUIRED }
      - { after: 1s, status: PROCESSING, notify: true }
      - { after: 1s, status: ACTION_REQUIRED, notify: false }
      - { after: 1s, status: COMPLETE }
  - name: failed
    steps: [{ after: 1s, status: FAILED }]
  - name: cancelled
    steps: [{ after: 1s, status: CANCELLED }]
)",
                                     "t.yaml");
  const std::vector<Step>& steps = set.scenarios()[0].variants[0].steps;
  CHECK_FALSE(steps[0].notify);
  CHECK(steps[1].notify);
  CHECK(steps[2].notify);
  CHECK_FALSE(steps[3].notify);
  CHECK(steps[4].notify);
  CHECK(set.scenarios()[1].variants[0].steps[0].notify);
  CHECK(set.scenarios()[2].variants[0].steps[0].notify);
}

TEST_CASE("a FAILED step without errors loads with no errors") {
  ScenarioSet set = LoadScenarioText("scenarios:\n  - name: f\n    steps: [{ after: 1s, status: FAILED }]\n", "t.yaml");
  CHECK(set.scenarios()[0].variants[0].steps[0].errors.empty());
}

TEST_CASE("on_update with after, csr on a non-COMPLETE step and callback faults load") {
  ScenarioSet set = LoadScenarioText(R"(scenarios:
  - name: x
    steps:
      - after: 250ms
        status: ACTION_REQUIRED
        csr: { AccountNumber: "42", WorkingTelephoneNumber: "9195550100" }
        callback_fault: { drop: true, duplicate: yes, delay: 1.5s, out_of_order: true,
                          wrong_credentials: true }
      - on_update: {}
        after: 5m
        status: COMPLETE
        csr:
          ServiceAddress: { Zip: "27707", City: Durham, UnparsedAddress: Durham NC 27707 }
)",
                                     "t.yaml");
  const std::vector<Step>& steps = set.scenarios()[0].variants[0].steps;
  CHECK(steps[0].after == 250ms);
  CHECK(steps[0].csr.account_number == "42");
  CHECK(steps[0].csr.working_telephone_number == "9195550100");
  CallbackFault every_kind;
  every_kind.Set(CallbackFaultKind::kDrop);
  every_kind.Set(CallbackFaultKind::kDuplicate);
  every_kind.Set(CallbackFaultKind::kDelay, 1500ms);
  every_kind.Set(CallbackFaultKind::kOutOfOrder);
  every_kind.Set(CallbackFaultKind::kWrongCredentials);
  CHECK(steps[0].callback_fault == every_kind);
  CHECK(steps[1].on_update);
  CHECK(steps[1].requires_fields.empty());
  CHECK(steps[1].after == 5min);
  CHECK_FALSE(steps[1].callback_fault.Any());
  // Stored in the canonical <ServiceAddress> order, not the file's order.
  CHECK(steps[1].csr.service_address ==
        std::vector<std::pair<std::string, std::string>>{
            {"UnparsedAddress", "Durham NC 27707"}, {"City", "Durham"}, {"Zip", "27707"}});
}

// ---------------------------------------------------------------------------
// Load errors: each points at the offending node.

// Every file of simulator/tests/testdata/invalid-scenarios/ is a scenario file
// that must not load. Its first line states the expected error:
//   # expect: LINE:COL: MESSAGE
// where MESSAGE may end in "..." (a prefix: the rest comes from std::regex or
// yaml-cpp) and "{file}" stands for the file's own path. A new invalid case is
// a new file there; nothing here changes.
TEST_CASE("every invalid scenario file fails to load at the line, column and message its first line expects") {
  const fs::path dir = fs::path(CSRSIM_SOURCE_DIR) / "simulator/tests/testdata/invalid-scenarios";
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    const std::string path = entry.path().string();
    INFO(path);
    std::ifstream in(path);
    std::string first_line;
    std::getline(in, first_line);
    std::smatch expect;
    REQUIRE(std::regex_match(first_line, expect, std::regex(R"(# expect: (\d+):(\d+): (.+))")));
    std::string message = expect[3];
    for (auto at = message.find("{file}"); at != std::string::npos; at = message.find("{file}")) {
      message.replace(at, 6, path);
    }
    const bool prefix_only = message.size() > 3 && message.compare(message.size() - 3, 3, "...") == 0;
    if (prefix_only) message.resize(message.size() - 3);
    try {
      LoadScenarioPaths({path});
      FAIL("loaded");
    } catch (const ScenarioLoadError& error) {
      CHECK(error.file() == path);
      CHECK(error.line() == std::stoi(expect[1]));
      CHECK(error.column() == std::stoi(expect[2]));
      if (prefix_only) {
        CHECK_THAT(error.message(), Catch::StartsWith(message));
      } else {
        CHECK(error.message() == message);
      }
      CHECK(std::string(error.what()) ==
            path + ":" + std::string(expect[1]) + ":" + std::string(expect[2]) + ": " + error.message());
    }
    ++checked;
  }
  CHECK(checked >= 40);
}

TEST_CASE("durations must be valid and not negative") {
  auto error_for = [](std::string_view after) {
    return LoadError(
        "scenarios:\n  - name: a\n    steps:\n      - status: COMPLETE\n"
        "        after: " +
        std::string(after) + "\n");
  };
  SECTION("garbage") {
    ScenarioLoadError error = error_for("soon");
    CHECK(error.line() == 5);
    CHECK(error.column() == 16);
    CHECK(error.message() ==
          "bad duration `soon` for `after`: write a number and a unit: "
          "250ms, 2s, 1.5s, 5m or 1h");
  }
  SECTION("a number without unit") {
    CHECK(error_for("5").message() ==
          "bad duration `5` for `after`: write a number and a "
          "unit: 250ms, 2s, 1.5s, 5m or 1h");
  }
  SECTION("negative") {
    ScenarioLoadError error = error_for("-1s");
    CHECK(error.line() == 5);
    CHECK(error.column() == 16);
    CHECK(error.message() == "`after` must not be negative, got `-1s`");
  }
}

TEST_CASE("a scenario name given in two files is an error in the second") {
  TempDir dir;
  std::string first = dir.Write("first.yaml", R"(scenarios:
  - name: twin
    steps: [{ after: 1s, status: COMPLETE }]
)");
  std::string second = dir.Write("second.yaml", R"(scenarios:
  - name: other
    match: { tn: "1" }
    steps: [{ after: 1s, status: COMPLETE }]
  - name: twin
    steps: [{ after: 1s, status: FAILED }]
)");
  try {
    LoadScenarioPaths({first, second});
    FAIL("loaded");
  } catch (const ScenarioLoadError& error) {
    CHECK(error.file() == second);
    CHECK(error.line() == 5);
    CHECK(error.column() == 11);
    CHECK(error.message() == "duplicate scenario name `twin`; already defined at " + first + ":2");
  }
}

TEST_CASE("a missing path is a cannot-read error naming the path") {
  TempDir dir;
  std::string missing = dir.path() + "/nope.yaml";
  try {
    LoadScenarioPaths({missing});
    FAIL("loaded");
  } catch (const ScenarioLoadError& error) {
    CHECK(error.file() == missing);
    CHECK(error.line() == 0);
    CHECK(error.column() == 0);
    CHECK_THAT(error.message(), Catch::StartsWith("cannot read: "));
    CHECK(std::string(error.what()) == missing + ": " + error.message());
  }
}

TEST_CASE("a directory loads its yaml files in name order, first default wins") {
  TempDir dir;
  dir.Write("b.yml", R"(scenarios:
  - name: second
    steps: [{ after: 1s, status: COMPLETE }]
default: second
)");
  dir.Write("a.yaml", R"(scenarios:
  - name: first
    match: { tn: "1" }
    steps: [{ after: 1s, status: COMPLETE }]
default: first
)");
  dir.Write("c.txt", "not yaml: [");
  ScenarioSet set = LoadScenarioPaths({dir.path()});
  REQUIRE(set.scenarios().size() == 2);
  CHECK(set.scenarios()[0].name == "first");
  CHECK(set.scenarios()[1].name == "second");
  CHECK(set.default_name() == "first");
}

// ---------------------------------------------------------------------------
// Matching

TEST_CASE("each match key tests the order's TN, fields or account") {
  auto matcher_for = [](std::string_view match) {
    ScenarioSet set = LoadScenarioText("scenarios:\n  - name: m\n    match: " + std::string(match) +
                                           "\n    steps: [{ after: 1s, status: COMPLETE }]\n",
                                       "t.yaml");
    return *set.scenarios()[0].match;
  };
  CsrFields order = OrderFor("9195551234");
  order.Set(CsrField::kEndUserPIN, "1234");

  CHECK(matcher_for(R"({ tn: "9195551234" })").Matches(order, "1"));
  CHECK_FALSE(matcher_for(R"({ tn: "919555123" })").Matches(order, "1"));
  CHECK(matcher_for(R"({ tn_prefix: "919" })").Matches(order, "1"));
  CHECK_FALSE(matcher_for(R"({ tn_prefix: "920" })").Matches(order, "1"));
  CHECK(matcher_for(R"({ tn_suffix: "1234" })").Matches(order, "1"));
  CHECK_FALSE(matcher_for(R"({ tn_suffix: "0000" })").Matches(order, "1"));
  CHECK(matcher_for(R"({ fields: { EndUserPIN: "1234" } })").Matches(order, "1"));
  CHECK_FALSE(matcher_for(R"({ fields: { EndUserPIN: "9999" } })").Matches(order, "1"));
  CHECK_FALSE(matcher_for(R"({ fields: { CustomerCode: "1234" } })").Matches(order, "1"));
  CHECK(matcher_for(R"({ account: "9900000" })").Matches(order, "9900000"));
  CHECK_FALSE(matcher_for(R"({ account: "9900000" })").Matches(order, "9900001"));
  CHECK(matcher_for("{}").Matches(order, "1"));
}

TEST_CASE("tn_regex must match the whole TN") {
  ScenarioSet set = LoadScenarioText(R"(scenarios:
  - name: m
    match: { tn_regex: "919\\d{3}12" }
    steps: [{ after: 1s, status: COMPLETE }]
)",
                                     "t.yaml");
  const Matcher& matcher = *set.scenarios()[0].match;
  CHECK(matcher.tn_regex_source == "919\\d{3}12");
  CHECK(matcher.Matches(OrderFor("91955512"), "1"));
  CHECK_FALSE(matcher.Matches(OrderFor("9195551234"), "1"));
  CHECK_FALSE(matcher.Matches(OrderFor("191955512"), "1"));
}

TEST_CASE("all match keys must hold together") {
  ScenarioSet set = LoadScenarioText(R"(scenarios:
  - name: m
    match: { tn_prefix: "919", tn_suffix: "0000", account: "7" }
    steps: [{ after: 1s, status: COMPLETE }]
)",
                                     "t.yaml");
  const Matcher& matcher = *set.scenarios()[0].match;
  CHECK(matcher.Matches(OrderFor("9195550000"), "7"));
  CHECK_FALSE(matcher.Matches(OrderFor("9205550000"), "7"));
  CHECK_FALSE(matcher.Matches(OrderFor("9195550001"), "7"));
  CHECK_FALSE(matcher.Matches(OrderFor("9195550000"), "8"));
}

TEST_CASE("an E.164 TN matches without its leading +1") {
  ScenarioSet set = LoadScenarioText(R"(scenarios:
  - name: exact
    match: { tn: "9198675309" }
    steps: [{ after: 1s, status: COMPLETE }]
  - name: prefix
    match: { tn_prefix: "828" }
    steps: [{ after: 1s, status: COMPLETE }]
  - name: regex
    match: { tn_regex: "7\\d{9}" }
    steps: [{ after: 1s, status: COMPLETE }]
)",
                                     "t.yaml");
  CHECK(set.Match(OrderFor("+19198675309"), "1")->name == "exact");
  CHECK(set.Match(OrderFor("+18285550100"), "1")->name == "prefix");
  CHECK(set.Match(OrderFor("+17045550100"), "1")->name == "regex");
}

TEST_CASE("the first matching scenario wins, then the default, else nothing") {
  ScenarioSet set = LoadScenarioText(R"(scenarios:
  - name: zeros
    match: { tn_suffix: "0000" }
    steps: [{ after: 1s, status: FAILED }]
  - name: also-zeros
    match: { tn_suffix: "00" }
    steps: [{ after: 1s, status: COMPLETE }]
  - name: fallback
    match: { account: "never" }
    steps: [{ after: 1s, status: COMPLETE }]
default: fallback
)",
                                     "t.yaml");
  CHECK(set.Match(OrderFor("9195550000"), "1")->name == "zeros");
  CHECK(set.Match(OrderFor("9195551200"), "1")->name == "also-zeros");
  CHECK(set.Match(OrderFor("9195551234"), "1")->name == "fallback");
  CHECK(set.Find("also-zeros") == &set.scenarios()[1]);
  CHECK(set.Find("missing") == nullptr);

  ScenarioSet without_default(set.scenarios(), std::nullopt);
  CHECK(without_default.Match(OrderFor("9195551234"), "1") == nullptr);
  CHECK(ScenarioSet().Match(OrderFor("9195551234"), "1") == nullptr);
}

TEST_CASE("the builtin fallback is PROCESSING at 1 s and COMPLETE at 3 s with generated data") {
  const Scenario& fallback = BuiltinFallback();
  CHECK(fallback.name == "builtin-complete");
  REQUIRE(fallback.variants.size() == 1);
  const std::vector<Step>& steps = fallback.variants[0].steps;
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].status == OrderStatus::kProcessing);
  CHECK(steps[0].after == 1s);
  CHECK_FALSE(steps[0].notify);
  CHECK(steps[1].status == OrderStatus::kComplete);
  CHECK(steps[1].after == 2s);
  CHECK(steps[1].notify);
  CHECK(steps[1].message == "The CSR request is complete.");
  CHECK(steps[1].csr_source == CsrSource::kGenerated);
}

// ---------------------------------------------------------------------------
// Variants

TEST_CASE("variants are picked by weight, deterministically from the random number") {
  ScenarioSet set = LoadScenarioText(R"(scenarios:
  - name: mix
    variants:
      - name: ok
        weight: 40
        steps: [{ after: 1s, status: COMPLETE }]
      - name: bad
        weight: 60
        steps: [{ after: 1s, status: FAILED }]
      - name: rare
        steps: [{ after: 1s, status: CANCELLED }]
)",
                                     "t.yaml");
  const Scenario& mix = set.scenarios()[0];
  REQUIRE(mix.variants.size() == 3);
  CHECK(mix.variants[2].weight == 1);

  std::map<std::string, int> counts;
  for (std::uint64_t r = 0; r < 101; ++r) ++counts[mix.PickVariant(r).name];
  CHECK(counts["ok"] == 40);
  CHECK(counts["bad"] == 60);
  CHECK(counts["rare"] == 1);

  CHECK(mix.PickVariant(39).name == "ok");
  CHECK(mix.PickVariant(40).name == "bad");
  CHECK(mix.PickVariant(100).name == "rare");
  CHECK(mix.PickVariant(101 * 7 + 39).name == "ok");
  CHECK(&mix.PickVariant(12345) == &mix.PickVariant(12345));
}

TEST_CASE("a plain scenario has one variant that every random number picks") {
  ScenarioSet set =
      LoadScenarioText("scenarios:\n  - name: one\n    steps: [{ after: 1s, status: COMPLETE }]\n", "t.yaml");
  const Scenario& one = set.scenarios()[0];
  REQUIRE(one.variants.size() == 1);
  CHECK(&one.PickVariant(0) == &one.variants[0]);
  CHECK(&one.PickVariant(~std::uint64_t{0}) == &one.variants[0]);
}

// ---------------------------------------------------------------------------
// Generated CSR data

TEST_CASE("generated CSR data depends only on the TN") {
  CsrData first = GenerateCsrData("9195551234");
  CHECK(first == GenerateCsrData("9195551234"));
  CHECK(first.working_telephone_number == "9195551234");
  REQUIRE_FALSE(first.working_telephone_numbers_on_account.empty());
  CHECK(first.working_telephone_numbers_on_account.front() == "9195551234");
  CHECK(first.working_telephone_numbers_on_account.size() <= 3);
  REQUIRE(first.account_number.has_value());
  CHECK(first.account_number->find_first_not_of("0123456789") == std::string::npos);
  CHECK(first.customer_name.has_value());

  // Fixed hash: the same data on every platform and build.
  CsrData pinned = GenerateCsrData("9198675309");
  CHECK(pinned.account_number == "413093929");
  CHECK(pinned.customer_name == "Riverside Veterinary");
  CHECK(pinned.service_address.front().second == "7126 Cedar CT Savannah GA 31401");
  CHECK(pinned.working_telephone_numbers_on_account ==
        std::vector<std::string>{"9198675309", "9198675310", "9198675311"});
}

TEST_CASE("generated addresses are complete and in canonical order") {
  for (std::string tn : {"9195550100", "8285550199", "+17045550123"}) {
    CsrData data = GenerateCsrData(tn);
    std::vector<std::string> names;
    std::map<std::string, std::string> parts;
    for (const auto& [name, value] : data.service_address) {
      names.push_back(name);
      parts[name] = value;
    }
    CHECK(names == std::vector<std::string>{"UnparsedAddress", "HouseNumber", "StreetName", "StreetSuffix", "City",
                                            "State", "Zip"});
    CHECK(parts["UnparsedAddress"] == parts["HouseNumber"] + " " + parts["StreetName"] + " " + parts["StreetSuffix"] +
                                          " " + parts["City"] + " " + parts["State"] + " " + parts["Zip"]);
    for (std::size_t i = 1; i < data.working_telephone_numbers_on_account.size(); ++i) {
      const std::string& neighbour = data.working_telephone_numbers_on_account[i];
      CHECK(neighbour.size() == tn.size());
      CHECK(neighbour.substr(0, tn.size() - 4) == tn.substr(0, tn.size() - 4));
    }
  }
}

TEST_CASE("different TNs usually get different generated data") {
  std::set<std::string> addresses;
  std::set<std::string> accounts;
  std::set<std::size_t> account_sizes;
  for (int i = 0; i < 50; ++i) {
    std::string tn = "91955501" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    CsrData data = GenerateCsrData(tn);
    addresses.insert(data.service_address.front().second);
    accounts.insert(*data.account_number);
    account_sizes.insert(data.working_telephone_numbers_on_account.size());
  }
  CHECK(addresses.size() >= 45);
  CHECK(accounts.size() == 50);
  CHECK(account_sizes == std::set<std::size_t>{1, 2, 3});
}

// ---------------------------------------------------------------------------
// The bundled scenario library

TEST_CASE("every bundled scenario file loads, alone and all together") {
  const std::string root = CSRSIM_SOURCE_DIR "/scenarios";
  std::vector<std::string> files;
  for (const std::string& dir : {root, root + "/examples"}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
    }
  }
  REQUIRE(files.size() == 5);
  for (const std::string& file : files) {
    INFO(file);
    ScenarioSet set = LoadScenarioPaths({file});
    CHECK_FALSE(set.scenarios().empty());
    CHECK(set.default_name().has_value());
  }
  CHECK(LoadScenarioPaths({root, root + "/examples"}).scenarios().size() == 14);
}

TEST_CASE("default.yaml implements the magic numbers the README lists") {
  ScenarioSet set = LoadScenarioPaths({CSRSIM_SOURCE_DIR "/scenarios/default.yaml"});
  auto steps_for = [&](const std::string& tn) -> const std::vector<Step>& {
    const Scenario* scenario = set.Match(OrderFor(tn), "9900000");
    REQUIRE(scenario != nullptr);
    return scenario->PickVariant(0).steps;
  };

  SECTION("9198675309 completes with the guide's House of Mouse data at 3 s") {
    CHECK(set.Match(OrderFor("9198675309"), "1")->name == "house-of-mouse");
    CHECK(set.Match(OrderFor("+19198675309"), "1")->name == "house-of-mouse");
    const std::vector<Step>& steps = steps_for("9198675309");
    REQUIRE(steps.size() == 2);
    CHECK(steps[0].after == 1s);
    CHECK(steps[0].status == OrderStatus::kProcessing);
    CHECK(steps[1].after == 2s);
    CHECK(steps[1].status == OrderStatus::kComplete);
    CHECK(steps[1].message == "The CSR request is complete.");
    CHECK(steps[1].csr_source == CsrSource::kExplicit);
    CHECK(steps[1].csr.customer_name == "House of Mouse");
    CHECK(steps[1].csr.service_address == kHouseOfMouseAddress);
    CHECK(steps[1].csr.working_telephone_numbers_on_account == std::vector<std::string>{"9198675309"});
  }
  SECTION("a TN ending in 0000 fails at 2 s with 26500") {
    const std::vector<Step>& steps = steps_for("9195550000");
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].after == 2s);
    CHECK(steps[0].status == OrderStatus::kFailed);
    CHECK(steps[0].message == "26500: CSR is not available for this TN");
    CHECK(steps[0].errors == std::vector<ErrorDetail>{{26500, "CSR is not available for this TN"}});
  }
  SECTION("a TN ending in 0001 asks for the PIN and completes 2 s after it arrives") {
    const std::vector<Step>& steps = steps_for("9195550001");
    REQUIRE(steps.size() == 3);
    CHECK(steps[0].after == 2s);
    CHECK(steps[0].status == OrderStatus::kActionRequired);
    CHECK(steps[0].message == "End user PIN is required");
    CHECK(steps[1].on_update);
    CHECK_FALSE(steps[1].after.has_value());
    CHECK(steps[1].requires_fields == std::vector<CsrField>{CsrField::kEndUserPIN});
    CHECK(steps[1].status == OrderStatus::kProcessing);
    CHECK(steps[2].after == 2s);
    CHECK(steps[2].status == OrderStatus::kComplete);
    CHECK(steps[2].message == "The CSR request is complete.");
    CHECK(steps[2].csr_source == CsrSource::kGenerated);
  }
  SECTION("a TN ending in 0002 stays PROCESSING") {
    const std::vector<Step>& steps = steps_for("9195550002");
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].after == 1s);
    CHECK(steps[0].status == OrderStatus::kProcessing);
  }
  SECTION("any other TN completes at 3 s with generated data") {
    CHECK(set.Match(OrderFor("9195550003"), "1")->name == "generated-complete");
    const std::vector<Step>& steps = steps_for("9195550003");
    REQUIRE(steps.size() == 2);
    CHECK(steps[0].after == 1s);
    CHECK(steps[0].status == OrderStatus::kProcessing);
    CHECK(steps[1].after == 2s);
    CHECK(steps[1].status == OrderStatus::kComplete);
    CHECK(steps[1].csr_source == CsrSource::kGenerated);
  }
}

TEST_CASE("reject_create declares the HTTP status a matching create answers, without steps") {
  ScenarioSet set = LoadScenarioText(R"(scenarios:
  - name: bandwidth-down
    match: { tn_suffix: "0503" }
    reject_create: 503
)",
                                     "test.yaml");
  REQUIRE(set.scenarios().size() == 1);
  CHECK(set.scenarios()[0].reject_create == 503);
  CHECK(set.scenarios()[0].variants.empty());
}
