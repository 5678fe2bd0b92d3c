// log: the simulator's one leveled logger. Every module that reports
// something to the operator (the access log, failed callback deliveries,
// scenario reloads, fired faults, shutdown, state write failures, internal
// errors) writes one line through it; docs/architecture.md lists who logs what.
//
// A line is an event name, a level and named fields:
//   text (--log-format text, the default):
//     2026-12-05T04:53:51.123Z info access method=GET path=/x status=200
//   json (--log-format json): one object per line, keys in this order
//     {"ts":"2026-12-05T04:53:51.123Z","level":"info","event":"access","method":"GET",...}
// `ts` is wall-clock UTC with milliseconds. Field values are escaped so that
// no value can end or split a line: in JSON by JSON's rules (control
// characters as \uXXXX, invalid UTF-8 bytes as U+FFFD, U+2028/U+2029 as
// escapes); in text every byte outside printable ASCII becomes \xNN, a
// backslash is doubled, and a value holding a space, '"' or '=' (or an
// empty one) is quoted with '"' escaped as \".
//
// Levels: debug < info < warn < error; a logger at `off` writes nothing. A line
// below the logger's level is dropped before it is formatted, so a filtered
// call costs one atomic load (check Enabled() first when building the fields
// costs something).
//
// Thread-safety: Write() and Enabled() may be called from any thread. Each
// line is formatted outside the lock and handed to the sink whole, under the
// logger's mutex, so lines from different threads never interleave; the
// stderr sink writes a line with write(2) (retrying partial writes). Configure()
// and SetSink() may be called at any time (start-up, tests).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "csrsim/mutex.hpp"

namespace csrsim {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kText, kJson };

// "debug", "info", "warn", "error", "off"; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view name);
// "text", "json"; nullopt for anything else.
std::optional<LogFormat> ParseLogFormat(std::string_view name);
std::string_view LogLevelName(LogLevel level);

// One named value of a line. Holds views: a field lives for the call that
// writes it. Integers and booleans are bare in JSON; everything else a string.
class LogField {
 public:
  enum class Kind { kString, kSigned, kUnsigned, kBool };

  LogField(std::string_view key, std::string_view value) : key_(key), text_(value) {}
  LogField(std::string_view key, const std::string& value) : key_(key), text_(value) {}
  LogField(std::string_view key, const char* value) : key_(key), text_(value) {}
  template <typename Int, std::enable_if_t<std::is_integral_v<Int>, int> = 0>
  LogField(std::string_view key, Int value) : key_(key) {
    if constexpr (std::is_same_v<Int, bool>) {
      kind_ = Kind::kBool;
      unsigned_ = value ? 1 : 0;
    } else if constexpr (std::is_signed_v<Int>) {
      kind_ = Kind::kSigned;
      signed_ = value;
    } else {
      kind_ = Kind::kUnsigned;
      unsigned_ = value;
    }
  }

  std::string_view key() const { return key_; }
  Kind kind() const { return kind_; }
  std::string_view text() const { return text_; }
  std::int64_t signed_value() const { return signed_; }
  std::uint64_t unsigned_value() const { return unsigned_; }

 private:
  std::string_view key_;
  Kind kind_ = Kind::kString;
  std::string_view text_;
  std::int64_t signed_ = 0;
  std::uint64_t unsigned_ = 0;
};

using LogFields = std::initializer_list<LogField>;

// One whole line, ending in '\n'. Pure: the unit tests pin the formats.
std::string FormatLogLine(LogFormat format, std::chrono::system_clock::time_point at, LogLevel level,
                          std::string_view event, LogFields fields);

class Logger {
 public:
  // Receives whole lines (with their '\n'), one call per line, under the
  // logger's mutex.
  using Sink = std::function<void(std::string_view line)>;
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  // Writes to stderr, at info, in text.
  Logger();
  Logger(LogLevel level, LogFormat format, Sink sink, WallClock clock = nullptr);

  void Configure(LogLevel level, LogFormat format);
  void SetSink(Sink sink);  // null: stderr

  bool Enabled(LogLevel level) const {
    const LogLevel threshold = level_.load(std::memory_order_relaxed);
    return level != LogLevel::kOff && threshold != LogLevel::kOff && level >= threshold;
  }

  void Write(LogLevel level, std::string_view event, LogFields fields = {});
  void Debug(std::string_view event, LogFields fields = {}) { Write(LogLevel::kDebug, event, fields); }
  void Info(std::string_view event, LogFields fields = {}) { Write(LogLevel::kInfo, event, fields); }
  void Warn(std::string_view event, LogFields fields = {}) { Write(LogLevel::kWarn, event, fields); }
  void Error(std::string_view event, LogFields fields = {}) { Write(LogLevel::kError, event, fields); }

 private:
  std::atomic<LogLevel> level_;
  std::atomic<LogFormat> format_;
  WallClock clock_;
  Mutex mu_;
  Sink sink_ CSRSIM_GUARDED_BY(mu_);
};

// The process's logger (stderr). The app configures it from --log-level and
// --log-format at start-up; tests may point its sink elsewhere.
Logger& ProcessLog();

}  // namespace csrsim
