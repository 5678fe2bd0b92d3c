// ISO-8601 timestamps (wire.hpp) as the order list's modifiedDateFrom and
// modifiedDateTo read them. Property: a parsed time formats to text that parses
// back to the same time, to the millisecond.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csrsim/wire.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto time = wire::ParseTimestamp(text);
  if (!time) return 0;
  const auto millis = std::chrono::floor<std::chrono::milliseconds>(*time);
  if (millis.time_since_epoch().count() < 0) return 0;  // before 1970: formatted as such, not compared
  // An offset can carry 9999-12-31 past year 9999, which has no 4-digit form: a
  // filter value only, never formatted (fuzz/regressions/timestamp/past-year-9999).
  constexpr auto kLast = std::chrono::sys_days(std::chrono::year(9999) / 12 / 31) + std::chrono::hours(24);
  if (*time >= kLast) return 0;
  auto again = wire::ParseTimestamp(wire::FormatTimestamp(*time));
  FUZZ_CHECK(again && std::chrono::floor<std::chrono::milliseconds>(*again) == millis);
  return 0;
}
