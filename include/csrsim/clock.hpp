// clock: the one source of simulated time. Nothing in the simulator reads the
// system time directly; everything asks a Clock.
//
//  - RealClock: simulated time is wall time.
//  - ScaledClock: simulated time runs N times faster than wall time, from the
//    wall time at construction.
//  - ManualClock: time stands still until Advance(); starts at a fixed instant
//    (2026-01-01T00:00:00Z by default) so runs are reproducible.
//
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "csrsim/model.hpp"

namespace csrsim {

// The latest simulated time anything may reach (9999-12-31T23:59:59Z): far
// enough for any test, and far from the int64 microsecond limit.
SimTime LatestSimTime();
// The longest duration ParseDuration accepts: 100 years.
inline constexpr Duration kMaxDuration = std::chrono::hours(24 * 36525);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SimTime Now() const = 0;
  // The steady-clock instant at which simulated time reaches `t`, or nullopt
  // when only Advance() moves time (manual clock).
  virtual std::optional<std::chrono::steady_clock::time_point> WallTimeOf(SimTime t) const = 0;
  // "real", "manual" or "scale=N".
  virtual std::string Describe() const = 0;
  // Moves a manual clock forward; returns false for clocks that cannot be moved.
  virtual bool Advance(Duration by) {
    (void)by;
    return false;
  }
  bool IsManual() const { return !WallTimeOf(Now()).has_value(); }
};

class RealClock final : public Clock {
 public:
  SimTime Now() const override;
  std::optional<std::chrono::steady_clock::time_point> WallTimeOf(SimTime t) const override;
  std::string Describe() const override { return "real"; }
};

class ScaledClock final : public Clock {
 public:
  explicit ScaledClock(double factor);
  SimTime Now() const override;
  std::optional<std::chrono::steady_clock::time_point> WallTimeOf(SimTime t) const override;
  std::string Describe() const override;

 private:
  double factor_;
  SimTime sim_origin_;
  std::chrono::steady_clock::time_point wall_origin_;
};

class ManualClock final : public Clock {
 public:
  static SimTime DefaultStart();  // 2026-01-01T00:00:00Z
  explicit ManualClock(SimTime start = DefaultStart());
  SimTime Now() const override;
  std::optional<std::chrono::steady_clock::time_point> WallTimeOf(SimTime) const override { return std::nullopt; }
  std::string Describe() const override { return "manual"; }
  // False (and no change) for a negative duration or one past LatestSimTime().
  bool Advance(Duration by) override;

 private:
  std::atomic<std::int64_t> now_micros_;
};

// Parses "real", "manual" or "scale=N" (0.001 <= N <= 1000000). nullptr when invalid.
std::unique_ptr<Clock> MakeClock(std::string_view spec);

// Parses "250ms", "2s", "5m", "1h", "1.5s", "0s". nullopt when invalid,
// negative or longer than kMaxDuration.
std::optional<Duration> ParseDuration(std::string_view text);
std::string FormatDuration(Duration d);  // "1500ms", "2s", ...

}  // namespace csrsim
