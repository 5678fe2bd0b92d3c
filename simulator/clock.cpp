#include "csrsim/clock.hpp"

#include <algorithm>

#include <cctype>
#include <cmath>
#include <sstream>

namespace csrsim {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::steady_clock;

namespace {

SimTime SystemNow() { return std::chrono::time_point_cast<microseconds>(std::chrono::system_clock::now()); }

// How far ahead a wall-clock wait may aim: waits re-check the clock after this,
// and steady_clock (nanoseconds) never overflows on a far-off simulated time.
constexpr microseconds kLongestWait = std::chrono::hours(24);

}  // namespace

SimTime LatestSimTime() {
  using namespace std::chrono;
  return time_point_cast<microseconds>(sys_days{year{9999} / December / 31} + hours(23) + minutes(59) + seconds(59));
}

SimTime RealClock::Now() const { return SystemNow(); }

std::optional<steady_clock::time_point> RealClock::WallTimeOf(SimTime t) const {
  return steady_clock::now() + std::min<microseconds>(t - Now(), kLongestWait);
}

ScaledClock::ScaledClock(double factor)
    : factor_(factor), sim_origin_(SystemNow()), wall_origin_(steady_clock::now()) {}

SimTime ScaledClock::Now() const {
  auto wall_elapsed = duration_cast<microseconds>(steady_clock::now() - wall_origin_);
  return sim_origin_ + microseconds(static_cast<std::int64_t>(static_cast<double>(wall_elapsed.count()) * factor_));
}

std::optional<steady_clock::time_point> ScaledClock::WallTimeOf(SimTime t) const {
  const double wall_micros = std::ceil(static_cast<double>((t - Now()).count()) / factor_);
  const auto wait = wall_micros >= static_cast<double>(kLongestWait.count())
                        ? kLongestWait
                        : microseconds(static_cast<std::int64_t>(wall_micros));
  return steady_clock::now() + wait;
}

std::string ScaledClock::Describe() const {
  std::ostringstream out;
  out << "scale=" << factor_;
  return out.str();
}

SimTime ManualClock::DefaultStart() {
  using namespace std::chrono;
  return time_point_cast<microseconds>(sys_days{year{2026} / January / 1});
}

ManualClock::ManualClock(SimTime start) : now_micros_(start.time_since_epoch().count()) {}

SimTime ManualClock::Now() const { return SimTime(microseconds(now_micros_.load())); }

bool ManualClock::Advance(Duration by) {
  if (by.count() < 0) return false;
  const std::int64_t latest = LatestSimTime().time_since_epoch().count();
  std::int64_t now = now_micros_.load();
  do {
    if (by.count() > latest - now) return false;
  } while (!now_micros_.compare_exchange_weak(now, now + by.count()));
  return true;
}

std::unique_ptr<Clock> MakeClock(std::string_view spec) {
  if (spec == "real") return std::make_unique<RealClock>();
  if (spec == "manual") return std::make_unique<ManualClock>();
  if (spec.rfind("scale=", 0) == 0) {
    std::string number(spec.substr(6));
    try {
      std::size_t used = 0;
      double factor = std::stod(number, &used);
      if (used == number.size() && factor >= 1e-3 && factor <= 1e6) {
        return std::make_unique<ScaledClock>(factor);
      }
    } catch (const std::exception&) {
    }
  }
  return nullptr;
}

std::optional<Duration> ParseDuration(std::string_view text) {
  std::size_t unit_at = 0;
  while (unit_at < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_at])) || text[unit_at] == '.')) {
    ++unit_at;
  }
  if (unit_at == 0) return std::nullopt;
  std::string number(text.substr(0, unit_at));
  std::string_view unit = text.substr(unit_at);
  double value = 0;
  try {
    std::size_t used = 0;
    value = std::stod(number, &used);
    if (used != number.size()) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  double micros_per_unit = 0;
  if (unit == "us")
    micros_per_unit = 1;
  else if (unit == "ms")
    micros_per_unit = 1e3;
  else if (unit == "s")
    micros_per_unit = 1e6;
  else if (unit == "m")
    micros_per_unit = 60e6;
  else if (unit == "h")
    micros_per_unit = 3600e6;
  else
    return std::nullopt;
  double micros = value * micros_per_unit;
  if (!std::isfinite(micros) || micros < 0 || micros > static_cast<double>(kMaxDuration.count())) {
    return std::nullopt;
  }
  return Duration(static_cast<std::int64_t>(std::llround(micros)));
}

std::string FormatDuration(Duration d) {
  auto us = d.count();
  if (us % 1'000'000 == 0) return std::to_string(us / 1'000'000) + "s";
  if (us % 1'000 == 0) return std::to_string(us / 1'000) + "ms";
  return std::to_string(us) + "us";
}

}  // namespace csrsim
