// GET /_sim/metrics against the real binary: the exposition parses as the
// Prometheus text format and counts what happened.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <regex>
#include <sstream>

#include "support.hpp"

using namespace csrsim::testing;

namespace {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the text format: "# HELP", "# TYPE" and "name{label="value",...} number"
// lines; a sample's family must be typed before it. Fails the test otherwise.
std::vector<Sample> ParseExposition(const std::string& text, std::map<std::string, std::string>& types) {
  static const std::regex kType(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex kSample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+))");
  static const std::regex kLabel(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  std::vector<Sample> samples;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    INFO(line);
    std::smatch match;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      REQUIRE(std::regex_match(line, match, kType));
      types[match[1]] = match[2];
      continue;
    }
    REQUIRE(std::regex_match(line, match, kSample));
    Sample sample;
    sample.name = match[1];
    std::string family = sample.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s = suffix;
      if (!types.count(family) && family.size() > s.size() && family.ends_with(s)) {
        family = family.substr(0, family.size() - s.size());
      }
    }
    REQUIRE(types.count(family) == 1);
    const std::string labels = match[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), kLabel), end; it != end; ++it) {
      sample.labels[(*it)[1]] = (*it)[2];
    }
    const std::string value = match[4];
    sample.value = value == "+Inf" ? INFINITY : std::stod(value);
    samples.push_back(std::move(sample));
  }
  return samples;
}

double ValueOf(const std::vector<Sample>& samples, const std::string& name,
               const std::map<std::string, std::string>& labels = {}) {
  for (const auto& sample : samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  FAIL("no sample " << name);
  return -1;
}

}  // namespace

TEST_CASE("GET /_sim/metrics parses as Prometheus text and counts requests, orders and callbacks") {
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off"});
  CallbackReceiver receiver;
  auto api = sim.Client();
  SubscribeAndCreate(*api, "9900000", receiver.Url());
  REQUIRE(api->Get("/api/accounts/9900000/nothing-here"));
  REQUIRE(AdvanceClock(sim, "5s"));

  auto scraped = sim.Client("")->Get("/_sim/metrics");
  REQUIRE(scraped);
  REQUIRE(scraped->status == 200);
  CHECK(scraped->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  std::map<std::string, std::string> types;
  const auto samples = ParseExposition(scraped->body, types);

  CHECK(types["csrsim_requests_total"] == "counter");
  CHECK(types["csrsim_request_duration_seconds"] == "histogram");
  CHECK(types["csrsim_orders"] == "gauge");
  CHECK(ValueOf(samples, "csrsim_requests_total", {{"route", "POST /subscriptions"}, {"status", "201"}}) == 1);
  CHECK(ValueOf(samples, "csrsim_requests_total", {{"route", "POST /csrs"}, {"status", "200"}}) == 1);
  CHECK(ValueOf(samples, "csrsim_requests_total", {{"route", "none"}, {"status", "404"}}) == 1);
  CHECK(ValueOf(samples, "csrsim_request_duration_seconds_count") == 3);
  CHECK(ValueOf(samples, "csrsim_request_duration_seconds_bucket", {{"le", "+Inf"}}) == 3);
  double previous = 0;
  for (const auto& sample : samples) {
    if (sample.name != "csrsim_request_duration_seconds_bucket") continue;
    CHECK(sample.value >= previous);  // cumulative
    previous = sample.value;
  }
  CHECK(ValueOf(samples, "csrsim_orders", {{"status", "COMPLETE"}}) == 1);
  CHECK(ValueOf(samples, "csrsim_orders", {{"status", "RECEIVED"}}) == 0);
  CHECK(ValueOf(samples, "csrsim_callbacks_total", {{"outcome", "success"}}) == 1);
  CHECK(ValueOf(samples, "csrsim_callbacks_total", {{"outcome", "transport_error"}}) == 0);
  CHECK(ValueOf(samples, "csrsim_callback_lateness_seconds_count") == 1);
  CHECK(ValueOf(samples, "csrsim_callback_lateness_seconds_bucket", {{"le", "0.001"}}) == 1);  // sent when due
  CHECK(ValueOf(samples, "csrsim_request_journal_dropped") == 0);
  CHECK(ValueOf(samples, "csrsim_callback_journal_dropped") == 0);
  CHECK(ValueOf(samples, "csrsim_event_streams_open") == 0);
  CHECK(ValueOf(samples, "csrsim_connections_open") >= 1);  // the scrape's own, at least
  CHECK(ValueOf(samples, "csrsim_connections_refused_total") == 0);
}
