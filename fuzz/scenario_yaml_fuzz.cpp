// Scenario files (docs/scenarios.md) as --scenarios, a reload and `validate`
// read them. Properties: loading yields a set or a ScenarioLoadError with a
// bounded message; a loaded set matches an order and picks a variant.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csrsim/scenario.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    ScenarioSet set = LoadScenarioText(yaml, "fuzz.yaml");
    CsrFields fields;
    fields.Set(CsrField::kWorkingOrBillingTelephoneNumber, "9198675309");
    fields.Set(CsrField::kEndUserPIN, "1234");
    if (const Scenario* scenario = set.Match(fields, "9900000")) {
      if (!scenario->variants.empty()) (void)scenario->PickVariant(size);
    }
  } catch (const ScenarioLoadError& error) {
    // File name, position, the rule and at most a short token of the file.
    FUZZ_CHECK(error.message().size() < 1024);
  }
  return 0;
}
