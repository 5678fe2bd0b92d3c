// Durations ("250ms", "1.5s", "2m": clock.hpp) as the control API, scenario
// files and flags read them. Property: a parsed duration is within range and
// its formatted form parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csrsim/clock.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto duration = ParseDuration(text);
  if (!duration) return 0;
  FUZZ_CHECK(duration->count() >= 0);
  auto again = ParseDuration(FormatDuration(*duration));
  FUZZ_CHECK(again && *again == *duration);
  return 0;
}
