#include <catch2/catch.hpp>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "csrsim/scenario.hpp"

using namespace csrsim;
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

// A fresh directory under the system temp dir, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "scenario_test.XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string Write(const std::string& name, std::string_view text) const {
    fs::path file = path_ / name;
    std::ofstream(file) << text;
    return file.string();
  }
  std::string path() const { return path_.string(); }

 private:
  fs::path path_;
};

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
  CHECK(steps[1].csr.working_telephone_numbers_on_account ==
        std::vector<std::string>{"9198675309"});
  CHECK_FALSE(steps[1].csr.working_telephone_number.has_value());

  const Scenario& failed = set.scenarios()[1];
  REQUIRE(failed.variants[0].steps.size() == 1);
  CHECK(failed.variants[0].steps[0].errors ==
        std::vector<ErrorDetail>{{26500, "CSR is not available for this TN"}});

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
  CHECK(error.message() ==
        "`default` names `generated-complete`, but no scenario has that name");
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
)", "t.yaml");
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
  ScenarioSet set = LoadScenarioText(
      "scenarios:\n  - name: f\n    steps: [{ after: 1s, status: FAILED }]\n", "t.yaml");
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
)", "t.yaml");
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

TEST_CASE("a YAML syntax error reports yaml-cpp's position") {
  ScenarioLoadError error = LoadError("scenarios:\n  - name: a\n    steps: [\n");
  CHECK(error.line() == 4);
  CHECK(error.column() == 1);
  CHECK_THAT(error.message(), Catch::StartsWith("YAML syntax error: "));
}

TEST_CASE("an empty file is an error at its start") {
  ScenarioLoadError error = LoadError("# nothing here\n");
  CHECK(error.line() == 1);
  CHECK(error.column() == 1);
  CHECK(error.message() == "the file is empty: expected `scenarios:` with a list of scenarios");
}

TEST_CASE("unknown keys are errors that name the key and list the allowed ones") {
  SECTION("top level") {
    ScenarioLoadError error = LoadError("scenarios: []\ndefaults: x\n");
    CHECK(error.line() == 2);
    CHECK(error.column() == 1);
    CHECK(error.message() ==
          "unknown key `defaults` in the top level; allowed keys: scenarios, default");
  }
  SECTION("scenario") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    matches: { tn: "1" }
    steps: [{ after: 1s, status: COMPLETE }]
)");
    CHECK(error.line() == 3);
    CHECK(error.column() == 5);
    CHECK(error.message() == "unknown key `matches` in a scenario; allowed keys: name, "
                             "description, match, steps, variants, reject_create");
  }
  SECTION("step") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - afterr: 1s
        status: PROCESSING
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 9);
    CHECK(error.message() == "unknown key `afterr` in a step; allowed keys: after, on_update, "
                             "status, message, csr, errors, notify, callback_fault");
  }
  SECTION("match") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    match: { tn: "1", prefix: "919" }
    steps: [{ after: 1s, status: COMPLETE }]
)");
    CHECK(error.line() == 3);
    CHECK(error.column() == 23);
    CHECK(error.message() == "unknown key `prefix` in `match`; allowed keys: tn, tn_prefix, "
                             "tn_suffix, tn_regex, fields, account");
  }
  SECTION("csr") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: COMPLETE
        csr: { CustomerName: X, Name: Y }
)");
    CHECK(error.line() == 6);
    CHECK(error.column() == 33);
    CHECK_THAT(error.message(), Catch::StartsWith("unknown key `Name` in `csr`; allowed keys: "
                                                  "AccountNumber, CustomerName,"));
  }
  SECTION("ServiceAddress") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: COMPLETE
        csr:
          ServiceAddress:
            Street: Main
)");
    CHECK(error.line() == 8);
    CHECK(error.column() == 13);
    CHECK_THAT(error.message(),
               Catch::StartsWith("unknown key `Street` in `ServiceAddress`; allowed keys: "
                                 "UnparsedAddress, HousePrefix, HouseNumber,"));
  }
  SECTION("callback_fault") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: COMPLETE
        callback_fault: { lose: true }
)");
    CHECK(error.line() == 6);
    CHECK(error.column() == 27);
    CHECK(error.message() == "unknown key `lose` in `callback_fault`; allowed keys: drop, "
                             "duplicate, delay, out_of_order, wrong_credentials");
  }
}

TEST_CASE("a key given twice is an error at the second one") {
  ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: PROCESSING
        after: 2s
)");
  CHECK(error.line() == 6);
  CHECK(error.column() == 9);
  CHECK(error.message() == "duplicate key `after` in a step");
}

TEST_CASE("values of the wrong type are errors at the value") {
  SECTION("after as a list") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: [1]
        status: PROCESSING
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 16);
    CHECK(error.message() ==
          "`after` must be a duration (a number and a unit: 250ms, 2s, 1.5s, 5m or 1h), not a "
          "list");
  }
  SECTION("errors as a word") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: FAILED
        errors: foo
)");
    CHECK(error.line() == 6);
    CHECK(error.column() == 17);
    CHECK(error.message() ==
          "`errors` must be a list of { code: 26500, description: ... }, not `foo`");
  }
  SECTION("an error code that is not an integer") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: FAILED
        errors:
          - code: 26500x
            description: nope
)");
    CHECK(error.line() == 7);
    CHECK(error.column() == 19);
    CHECK(error.message() == "`code` must be an integer such as 26500, not `26500x`");
  }
  SECTION("an error entry without description") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: FAILED
        errors: [{ code: 26500 }]
)");
    CHECK(error.line() == 6);
    CHECK(error.column() == 18);
    CHECK(error.message() == "an `errors` entry needs `description`");
  }
  SECTION("notify that is not a boolean") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: COMPLETE
        notify: sometimes
)");
    CHECK(error.line() == 6);
    CHECK(error.column() == 17);
    CHECK(error.message() == "`notify` must be true or false, not `sometimes`");
  }
  SECTION("an empty value, reported at its key") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    match:
    steps: [{ after: 1s, status: COMPLETE }]
)");
    CHECK(error.line() == 3);
    CHECK(error.column() == 5);
    CHECK(error.message() == "`match` must be a mapping, not an empty value");
  }
  SECTION("scenarios as a mapping") {
    ScenarioLoadError error = LoadError("scenarios:\n  name: a\n");
    CHECK(error.line() == 2);
    CHECK(error.column() == 3);
    CHECK(error.message() == "`scenarios` must be a list of scenarios, not a mapping");
  }
  SECTION("a step that is a word") {
    ScenarioLoadError error = LoadError("scenarios:\n  - name: a\n    steps: [COMPLETE]\n");
    CHECK(error.line() == 3);
    CHECK(error.column() == 13);
    CHECK(error.message() == "a step must be a mapping, not `COMPLETE`");
  }
  SECTION("csr as another word than generated") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: COMPLETE
        csr: random
)");
    CHECK(error.line() == 6);
    CHECK(error.column() == 14);
    CHECK(error.message() ==
          "`csr` must be a CsrData mapping or the word `generated`, not `random`");
  }
  SECTION("WorkingTelephoneNumbersOnAccount as a word") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: COMPLETE
        csr: { WorkingTelephoneNumbersOnAccount: "9195550100" }
)");
    CHECK(error.line() == 6);
    CHECK(error.column() == 50);
    CHECK(error.message() ==
          "`WorkingTelephoneNumbersOnAccount` must be a list, not `9195550100`");
  }
}

TEST_CASE("statuses are checked against the step statuses") {
  SECTION("an unknown status") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: DONE
)");
    CHECK(error.line() == 5);
    CHECK(error.column() == 17);
    CHECK(error.message() == "unknown status `DONE`; use one of PROCESSING, ACTION_REQUIRED, "
                             "COMPLETE, FAILED, CANCELLED");
  }
  SECTION("a lower-case status gets a hint") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: complete
)");
    CHECK(error.message() ==
          "unknown status `complete` (statuses are upper case: COMPLETE); use one of "
          "PROCESSING, ACTION_REQUIRED, COMPLETE, FAILED, CANCELLED");
  }
  SECTION("RECEIVED") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: RECEIVED
)");
    CHECK(error.line() == 5);
    CHECK(error.column() == 17);
    CHECK_THAT(error.message(), Catch::StartsWith("status RECEIVED cannot be a step"));
  }
  SECTION("a missing status") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        message: hi
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 9);
    CHECK(error.message() == "a step needs `status` (one of PROCESSING, ACTION_REQUIRED, "
                             "COMPLETE, FAILED, CANCELLED)");
  }
}

TEST_CASE("durations must be valid and not negative") {
  auto error_for = [](std::string_view after) {
    return LoadError("scenarios:\n  - name: a\n    steps:\n      - status: COMPLETE\n"
                     "        after: " + std::string(after) + "\n");
  };
  SECTION("garbage") {
    ScenarioLoadError error = error_for("soon");
    CHECK(error.line() == 5);
    CHECK(error.column() == 16);
    CHECK(error.message() == "bad duration `soon` for `after`: write a number and a unit: "
                             "250ms, 2s, 1.5s, 5m or 1h");
  }
  SECTION("a number without unit") {
    CHECK(error_for("5").message() == "bad duration `5` for `after`: write a number and a "
                                      "unit: 250ms, 2s, 1.5s, 5m or 1h");
  }
  SECTION("negative") {
    ScenarioLoadError error = error_for("-1s");
    CHECK(error.line() == 5);
    CHECK(error.column() == 16);
    CHECK(error.message() == "`after` must not be negative, got `-1s`");
  }
  SECTION("a negative callback delay") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: COMPLETE
        callback_fault: { delay: -5s }
)");
    CHECK(error.line() == 6);
    CHECK(error.column() == 34);
    CHECK(error.message() == "`delay` must not be negative, got `-5s`");
  }
}

TEST_CASE("a step needs after or on_update") {
  ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - status: COMPLETE
)");
  CHECK(error.line() == 4);
  CHECK(error.column() == 9);
  CHECK(error.message() ==
        "a step needs `after` (a duration) or `on_update` (wait for a PUT), or both");
}

TEST_CASE("a step after a terminal status is an error at that step") {
  ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - after: 1s
        status: COMPLETE
      - after: 1s
        status: PROCESSING
)");
  CHECK(error.line() == 6);
  CHECK(error.column() == 9);
  CHECK(error.message() ==
        "a step follows the COMPLETE step of line 4; COMPLETE, FAILED and CANCELLED end the "
        "order, so they must be the last step");
}

TEST_CASE("scenario names are required and unique") {
  SECTION("missing") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - description: no name
    steps: [{ after: 1s, status: COMPLETE }]
)");
    CHECK(error.line() == 2);
    CHECK(error.column() == 5);
    CHECK(error.message() == "a scenario needs `name`");
  }
  SECTION("duplicate in one file") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: twin
    steps: [{ after: 1s, status: COMPLETE }]
  - name: twin
    steps: [{ after: 1s, status: FAILED }]
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 11);
    CHECK(error.message() == "duplicate scenario name `twin`; already defined at test.yaml:2");
  }
  SECTION("duplicate across files, reported in the second file") {
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
      CHECK(error.message() == "duplicate scenario name `twin`; already defined at " + first +
                                   ":2");
    }
  }
}

TEST_CASE("steps and variants are checked") {
  SECTION("empty steps") {
    ScenarioLoadError error = LoadError("scenarios:\n  - name: a\n    steps: []\n");
    CHECK(error.line() == 3);
    CHECK(error.column() == 12);
    CHECK(error.message() == "`steps` is empty: a scenario needs at least one step");
  }
  SECTION("neither steps nor variants") {
    ScenarioLoadError error = LoadError("scenarios:\n  - name: a\n");
    CHECK(error.line() == 2);
    CHECK(error.column() == 5);
    CHECK(error.message() == "scenario `a` needs `steps` (or `variants`, or `reject_create`)");
  }
  SECTION("both steps and variants") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps: [{ after: 1s, status: COMPLETE }]
    variants: [{ name: v, steps: [{ after: 1s, status: COMPLETE }] }]
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 5);
    CHECK(error.message() == "scenario `a` has both `steps` and `variants`; keep one of them");
  }
  SECTION("a zero weight") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    variants:
      - name: never
        weight: 0
        steps: [{ after: 1s, status: COMPLETE }]
)");
    CHECK(error.line() == 5);
    CHECK(error.column() == 17);
    CHECK(error.message() == "`weight` must be a positive integer (1 to 4294967295), not `0`");
  }
  SECTION("a negative weight") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    variants:
      - { name: v, weight: -3, steps: [{ after: 1s, status: COMPLETE }] }
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 28);
    CHECK(error.message() == "`weight` must be a positive integer (1 to 4294967295), not `-3`");
  }
  SECTION("a terminal step inside a variant") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    variants:
      - name: v
        steps:
          - { after: 1s, status: FAILED }
          - { after: 1s, status: COMPLETE }
)");
    CHECK(error.line() == 7);
    CHECK(error.column() == 13);
  }
}

TEST_CASE("match values are checked at load") {
  SECTION("an invalid regex") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    match:
      tn_regex: "919(555"
    steps: [{ after: 1s, status: COMPLETE }]
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 17);
    CHECK_THAT(error.message(), Catch::StartsWith("invalid `tn_regex` `919(555`: "));
  }
  SECTION("an unknown field") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    match:
      fields: { EndUserPIN: "1", Pin: "2" }
    steps: [{ after: 1s, status: COMPLETE }]
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 34);
    CHECK_THAT(error.message(),
               Catch::StartsWith("unknown field `Pin` in `match.fields`; fields are: "
                                 "CustomerOrderId, WorkingOrBillingTelephoneNumber,"));
  }
  SECTION("an unknown field in requires") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps:
      - on_update: { requires: [EndUserPIN, Passcode] }
        status: COMPLETE
)");
    CHECK(error.line() == 4);
    CHECK(error.column() == 45);
    CHECK_THAT(error.message(), Catch::StartsWith("unknown field `Passcode` in `requires`"));
  }
}

TEST_CASE("a default naming no scenario is an error at the value") {
  ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    steps: [{ after: 1s, status: COMPLETE }]
default: b
)");
  CHECK(error.line() == 4);
  CHECK(error.column() == 10);
  CHECK(error.message() == "`default` names `b`, but no scenario has that name");
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
    ScenarioSet set = LoadScenarioText("scenarios:\n  - name: m\n    match: " +
                                           std::string(match) +
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
)", "t.yaml");
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
)", "t.yaml");
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
)", "t.yaml");
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
)", "t.yaml");
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
)", "t.yaml");
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
  ScenarioSet set = LoadScenarioText(
      "scenarios:\n  - name: one\n    steps: [{ after: 1s, status: COMPLETE }]\n", "t.yaml");
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
    CHECK(names == std::vector<std::string>{"UnparsedAddress", "HouseNumber", "StreetName",
                                            "StreetSuffix", "City", "State", "Zip"});
    CHECK(parts["UnparsedAddress"] == parts["HouseNumber"] + " " + parts["StreetName"] + " " +
                                          parts["StreetSuffix"] + " " + parts["City"] + " " +
                                          parts["State"] + " " + parts["Zip"]);
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
    CHECK(steps[1].csr.working_telephone_numbers_on_account ==
          std::vector<std::string>{"9198675309"});
  }
  SECTION("a TN ending in 0000 fails at 2 s with 26500") {
    const std::vector<Step>& steps = steps_for("9195550000");
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].after == 2s);
    CHECK(steps[0].status == OrderStatus::kFailed);
    CHECK(steps[0].message == "26500: CSR is not available for this TN");
    CHECK(steps[0].errors ==
          std::vector<ErrorDetail>{{26500, "CSR is not available for this TN"}});
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
)", "test.yaml");
  REQUIRE(set.scenarios().size() == 1);
  CHECK(set.scenarios()[0].reject_create == 503);
  CHECK(set.scenarios()[0].variants.empty());

  SECTION("a status outside 400-599 is refused at its value") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    reject_create: 200
)");
    CHECK(error.line() == 3);
    CHECK(error.column() == 20);
    CHECK(error.message() == "`reject_create` must be an HTTP error status from 400 to 599, not `200`");
  }
  SECTION("steps beside it are refused") {
    ScenarioLoadError error = LoadError(R"(scenarios:
  - name: a
    reject_create: 503
    steps:
      - after: 1s
        status: PROCESSING
)");
    CHECK(error.line() == 3);
    CHECK_THAT(error.message(), Catch::StartsWith("scenario `a` has `reject_create`"));
  }
}
