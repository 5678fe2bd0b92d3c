// Unit tests of the log module: the text and JSON line formats, escaping,
// level filtering and whole lines from many threads, on an injected sink and
// a fixed wall clock.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "csrsim/log.hpp"

using namespace csrsim;

namespace {

// 2026-12-05T04:53:51.123Z
const std::chrono::system_clock::time_point kAt =
    std::chrono::system_clock::time_point(std::chrono::milliseconds(1796446431123LL));

struct Captured {
  std::vector<std::string> lines;
  Logger logger;
  explicit Captured(LogLevel level, LogFormat format = LogFormat::kText)
      : logger(
            level, format, [this](std::string_view line) { lines.emplace_back(line); }, [] { return kAt; }) {}
};

std::size_t CountNewlines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("a text line: timestamp, level, event, then key=value fields in order") {
  const std::string line = FormatLogLine(LogFormat::kText, kAt, LogLevel::kInfo, "access",
                                         {{"method", "GET"}, {"path", "/a/b"}, {"status", 200}, {"bytes", 12u}});
  CHECK(line == "2026-12-05T04:53:51.123Z info access method=GET path=/a/b status=200 bytes=12\n");
}

TEST_CASE("a JSON line: ts, level, event first, then the fields; numbers and booleans bare") {
  const std::string line = FormatLogLine(
      LogFormat::kJson, kAt, LogLevel::kWarn, "callback_failed",
      {{"order_id", "o-1"}, {"attempt", 2}, {"status", -1}, {"final", true}, {"big", 18446744073709551615ull}});
  CHECK(line ==
        R"({"ts":"2026-12-05T04:53:51.123Z","level":"warn","event":"callback_failed","order_id":"o-1","attempt":2,)"
        R"("status":-1,"final":true,"big":18446744073709551615})"
        "\n");
  const auto parsed = nlohmann::json::parse(line);
  CHECK(parsed["attempt"] == 2);
}

TEST_CASE("text values: control characters and non-ASCII bytes become \\xNN, spaces and quotes are quoted") {
  const std::string line = FormatLogLine(LogFormat::kText, kAt, LogLevel::kError, "x",
                                         {{"path", "/a\nb\r\x01\x7f\xc3\xa9"},
                                          {"why", "two words"},
                                          {"q", "say \"hi\""},
                                          {"eq", "a=b"},
                                          {"empty", ""},
                                          {"slash", "a\\x0a"}});
  CHECK(line ==
        "2026-12-05T04:53:51.123Z error x path=/a\\x0ab\\x0d\\x01\\x7f\\xc3\\xa9 why=\"two words\" "
        "q=\"say \\\"hi\\\"\" eq=\"a=b\" empty=\"\" slash=a\\\\x0a\n");
  CHECK(CountNewlines(line) == 1);
}

TEST_CASE("JSON values: escapes keep one parseable line whatever the bytes") {
  const std::string raw = std::string("/p\n\r\t\"\\\x01\x7f") + "\xc3\xa9" + "\xff" + "\xe2\x80\xa8" + "\xed\xa0\x80" +
                          std::string(1, '\0') + "\xf0\x9f\x98\x80" + "\xe2\x82";
  const std::string line = FormatLogLine(LogFormat::kJson, kAt, LogLevel::kInfo, "access", {{"path", raw}});
  CHECK(CountNewlines(line) == 1);
  CHECK(line.find("\\n") != std::string::npos);
  CHECK(line.find("\\u2028") != std::string::npos);
  CHECK(line.find("\xe2\x80\xa8") == std::string::npos);
  const auto parsed = nlohmann::json::parse(line);  // throws on invalid UTF-8 or a bad escape
  CHECK(parsed["path"] == "/p\n\r\t\"\\\x01\x7f\xc3\xa9\xef\xbf\xbd\xe2\x80\xa8\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" +
                              std::string(1, '\0') + "\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("levels: parsed by name; a logger writes its level and above, nothing at off") {
  CHECK(ParseLogLevel("warn") == LogLevel::kWarn);
  CHECK(ParseLogLevel("WARN") == std::nullopt);
  CHECK(ParseLogFormat("json") == LogFormat::kJson);
  CHECK(ParseLogFormat("yaml") == std::nullopt);

  Captured warn(LogLevel::kWarn);
  CHECK_FALSE(warn.logger.Enabled(LogLevel::kInfo));
  CHECK(warn.logger.Enabled(LogLevel::kError));
  warn.logger.Debug("d");
  warn.logger.Info("i");
  warn.logger.Warn("w", {{"n", 1}});
  warn.logger.Error("e");
  warn.logger.Write(LogLevel::kOff, "never");
  REQUIRE(warn.lines.size() == 2);
  CHECK(warn.lines[0] == "2026-12-05T04:53:51.123Z warn w n=1\n");
  CHECK(warn.lines[1] == "2026-12-05T04:53:51.123Z error e\n");

  Captured off(LogLevel::kOff);
  off.logger.Error("e");
  CHECK(off.lines.empty());
  off.logger.Configure(LogLevel::kDebug, LogFormat::kJson);
  off.logger.Debug("d");
  REQUIRE(off.lines.size() == 1);
  CHECK(off.lines[0] == R"({"ts":"2026-12-05T04:53:51.123Z","level":"debug","event":"d"})"
                        "\n");
}

TEST_CASE("lines written from many threads reach the sink whole, one call each") {
  std::string all;  // guarded by the logger's mutex: the sink is called under it
  Logger logger(LogLevel::kInfo, LogFormat::kJson, [&all](std::string_view line) { all += line; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&logger, t] {
      for (int i = 0; i < 200; ++i) logger.Info("tick", {{"thread", t}, {"i", i}, {"pad", std::string(64, 'x')}});
    });
  }
  for (auto& thread : threads) thread.join();
  std::size_t lines = 0;
  for (std::size_t start = 0; start < all.size();) {
    const std::size_t end = all.find('\n', start);
    REQUIRE(end != std::string::npos);
    CHECK_NOTHROW(nlohmann::json::parse(all.substr(start, end - start)));
    start = end + 1;
    ++lines;
  }
  CHECK(lines == 800);
}

TEST_CASE("timestamps are UTC with milliseconds, before 1970 too") {
  const auto line = [](long long millis) {
    return FormatLogLine(LogFormat::kText, std::chrono::system_clock::time_point(std::chrono::milliseconds(millis)),
                         LogLevel::kInfo, "t", {});
  };
  CHECK(line(0) == "1970-01-01T00:00:00.000Z info t\n");
  CHECK(line(-1) == "1969-12-31T23:59:59.999Z info t\n");
  CHECK(line(951782400005LL) == "2000-02-29T00:00:00.005Z info t\n");
}
