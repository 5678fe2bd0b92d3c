#include "csrsim/log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

#include "csrsim/encoding.hpp"

namespace csrsim {

namespace {

bool NeedsQuotes(std::string_view text) { return text.empty() || text.find_first_of(" \"=") != std::string_view::npos; }

void AppendTextValue(std::string& out, std::string_view text) {
  const bool quoted = NeedsQuotes(text);
  if (quoted) out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c < 0x20 || c >= 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;
    }
  }
  if (quoted) out += '"';
}

void AppendValue(std::string& out, LogFormat format, const LogField& field) {
  switch (field.kind()) {
    case LogField::Kind::kSigned:
      out += std::to_string(field.signed_value());
      return;
    case LogField::Kind::kUnsigned:
      out += std::to_string(field.unsigned_value());
      return;
    case LogField::Kind::kBool:
      out += field.unsigned_value() != 0 ? "true" : "false";
      return;
    case LogField::Kind::kString:
      if (format == LogFormat::kJson) {
        AppendJsonString(out, field.text());
      } else {
        AppendTextValue(out, field.text());
      }
      return;
  }
}

// "2026-12-05T04:53:51.123Z"
std::string IsoTimestamp(std::chrono::system_clock::time_point at) {
  const auto since_epoch = std::chrono::floor<std::chrono::milliseconds>(at.time_since_epoch());
  const auto whole_seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto ms = static_cast<int>((since_epoch - whole_seconds).count());  // 0..999
  const auto seconds = static_cast<std::time_t>(whole_seconds.count());
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
  return buffer;
}

void WriteToStderr(std::string_view line) {
  while (!line.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report it
    }
    line.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (const LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError, LogLevel::kOff}) {
    if (name == LogLevelName(level)) return level;
  }
  return std::nullopt;
}

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "off";
}

std::string FormatLogLine(LogFormat format, std::chrono::system_clock::time_point at, LogLevel level,
                          std::string_view event, LogFields fields) {
  std::string line;
  line.reserve(128);
  const std::string ts = IsoTimestamp(at);
  if (format == LogFormat::kJson) {
    line += "{\"ts\":\"" + ts + "\",\"level\":\"";
    line += LogLevelName(level);
    line += "\",\"event\":";
    AppendJsonString(line, event);
    for (const LogField& field : fields) {
      line += ',';
      AppendJsonString(line, field.key());
      line += ':';
      AppendValue(line, format, field);
    }
    line += "}\n";
    return line;
  }
  line += ts;
  line += ' ';
  line += LogLevelName(level);
  line += ' ';
  AppendTextValue(line, event);
  for (const LogField& field : fields) {
    line += ' ';
    AppendTextValue(line, field.key());
    line += '=';
    AppendValue(line, format, field);
  }
  line += '\n';
  return line;
}

Logger::Logger() : Logger(LogLevel::kInfo, LogFormat::kText, nullptr) {}

Logger::Logger(LogLevel level, LogFormat format, Sink sink, WallClock clock)
    : level_(level), format_(format), clock_(std::move(clock)), sink_(std::move(sink)) {}

void Logger::Configure(LogLevel level, LogFormat format) {
  level_.store(level, std::memory_order_relaxed);
  format_.store(format, std::memory_order_relaxed);
}

void Logger::SetSink(Sink sink) {
  MutexLock lock(mu_);
  sink_ = std::move(sink);
}

void Logger::Write(LogLevel level, std::string_view event, LogFields fields) {
  if (!Enabled(level)) return;
  const auto now = clock_ ? clock_() : std::chrono::system_clock::now();
  const std::string line = FormatLogLine(format_.load(std::memory_order_relaxed), now, level, event, fields);
  MutexLock lock(mu_);
  if (sink_) {
    sink_(line);
  } else {
    WriteToStderr(line);
  }
}

Logger& ProcessLog() {
  static Logger* const logger = new Logger();  // never destroyed: threads may log until the process ends
  return *logger;
}

}  // namespace csrsim
