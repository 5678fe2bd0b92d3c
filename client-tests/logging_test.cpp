// The log on stderr (include/csrsim/log.hpp) from the real binary: with
// --log-format json every line is one JSON object with ts, level and event;
// the access log covers requests the server refuses itself; a client-chosen
// path cannot break a line; --log-level warn drops the access log; a failed
// callback delivery, a fired fault and scenario reloads each write one line.
//
// Nothing polls the log: each test stops the simulator (SIGTERM) and reads
// everything it wrote.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ports.hpp"
#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

// Sends `bytes` on a new loopback connection and returns what comes back
// until the server closes it (or 30 s pass).
std::string Exchange(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd pfd{fd, POLLIN, 0};
      if (left.count() <= 0 || poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
      char chunk[4096];
      const auto got = recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) break;
      answer.append(chunk, static_cast<std::size_t>(got));
    }
  }
  close(fd);
  return answer;
}

int StatusOf(const std::string& answer) { return answer.size() > 12 ? std::atoi(answer.c_str() + 9) : 0; }

// Every line of `log` parsed; a line that is not a JSON object fails the test.
std::vector<Json> JsonLines(const std::string& log) {
  std::vector<Json> lines;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    INFO(line);
    Json parsed = Json::parse(line, nullptr, false);
    REQUIRE(parsed.is_object());
    CHECK(parsed["ts"].is_string());
    CHECK(parsed["level"].is_string());
    CHECK(parsed["event"].is_string());
    lines.push_back(std::move(parsed));
  }
  return lines;
}

// The access lines whose path is `path`.
std::vector<Json> AccessLines(const std::vector<Json>& lines, const std::string& path) {
  std::vector<Json> found;
  for (const auto& line : lines) {
    if (line["event"] == "access" && line.value("path", "") == path) found.push_back(line);
  }
  return found;
}

}  // namespace

TEST_CASE("logging: --log-format json writes one object per line for answered and refused requests") {
  SimulatorProcess sim({"--clock", "manual", "--log-format", "json"});
  REQUIRE(sim.Client()->Get("/api/accounts/9900000/subscriptions"));

  std::string flood = "GET /api/accounts/9900000/csrs HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (int i = 0; i < 101; ++i) flood += "X-" + std::to_string(i) + ": 1\r\n";
  CHECK(StatusOf(Exchange(sim.port(), flood + "\r\n")) == 431);
  CHECK(StatusOf(Exchange(sim.port(), "GARBAGE /_sim/health\r\n\r\n")) == 400);
  const std::string crlf_path =
      "GET /api/accounts/9900000/x%0Ainjected%0D%0A{\"event\":\"forged\"} HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
  CHECK(StatusOf(Exchange(sim.port(), crlf_path)) != 0);

  REQUIRE(sim.Stop() == 0);
  const std::string log = sim.Stderr();
  INFO(log);
  const std::vector<Json> lines = JsonLines(log);

  const auto ok = AccessLines(lines, "/api/accounts/9900000/subscriptions");
  REQUIRE(ok.size() == 1);
  CHECK(ok[0]["level"] == "info");
  CHECK(ok[0]["method"] == "GET");
  CHECK(ok[0]["status"] == 200);
  CHECK(ok[0]["duration_us"].is_number_integer());
  CHECK(ok[0]["bytes"].is_number_integer());
  CHECK(ok[0]["account"] == "9900000");
  CHECK(ok[0]["outcome"] == "answered");

  const auto flooded = AccessLines(lines, "/api/accounts/9900000/csrs");
  REQUIRE(flooded.size() == 1);
  CHECK(flooded[0]["status"] == 431);
  CHECK(flooded[0]["outcome"] == "refused");

  std::size_t malformed = 0;
  for (const auto& line : lines) malformed += line["event"] == "access" && line["status"] == 400 ? 1 : 0;
  CHECK(malformed == 1);

  // The decoded path holds LF and CR: escaped, so no line was split and
  // nothing was forged.
  const auto injected = AccessLines(lines, "/api/accounts/9900000/x\ninjected\r\n{\"event\":\"forged\"}");
  CHECK(injected.size() == 1);
  for (const auto& line : lines) CHECK(line["event"] != "forged");

  std::size_t shutdowns = 0;
  for (const auto& line : lines) {
    if (line["event"] != "shutdown") continue;
    ++shutdowns;
    CHECK(line["dropped_callbacks"] == 0);
    CHECK(line["dropped_steps"].is_number_integer());
  }
  CHECK(shutdowns == 1);
}

TEST_CASE("logging: a text line escapes a path's control characters; --log-level warn drops the access log") {
  SimulatorProcess text({"--clock", "manual"});
  CHECK(StatusOf(Exchange(text.port(),
                          "GET /_sim/x%0Ay%0D HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")) == 404);
  REQUIRE(text.Stop() == 0);
  const std::string text_log = text.Stderr();
  INFO(text_log);
  CHECK(text_log.find(" info access method=GET path=/_sim/x\\x0ay\\x0d status=404 ") != std::string::npos);

  SimulatorProcess quiet({"--clock", "manual", "--log-level", "warn", "--log-format", "json"});
  REQUIRE(quiet.Client()->Get("/api/accounts/9900000/subscriptions"));
  CHECK(StatusOf(Exchange(quiet.port(), "GARBAGE /_sim/health\r\n\r\n")) == 400);
  REQUIRE(quiet.Stop() == 0);
  CHECK(quiet.Stderr().empty());
}

TEST_CASE("logging: a failed callback, a fired fault and scenario reloads each write one JSON line") {
  const std::string dir = MakeTempDir();
  const std::string file = WriteFile(dir, "mine.yaml",
                                     "scenarios:\n  - name: fast\n    steps:\n      - after: 1s\n"
                                     "        status: COMPLETE\n");
  SimulatorProcess sim({"--clock", "manual", "--log-format", "json", "--scenarios", file});
  RefusingPort refusing;
  auto api = sim.Client();
  auto control = sim.Client("");
  const std::string order_id = SubscribeAndCreate(*api, "9900000", refusing.Url());
  REQUIRE(AdvanceClock(sim, "3s"));  // returns once the COMPLETE callback was attempted

  auto fault = control->Post(
      "/_sim/faults", R"({"target":"api","route":"GET /subscriptions","action":"status","status":503,"count":1})",
      "application/json");
  REQUIRE(fault);
  REQUIRE(fault->status == 201);
  auto faulted = api->Get("/api/accounts/9900000/subscriptions");
  REQUIRE(faulted);
  CHECK(faulted->status == 503);

  auto reloaded = control->Post("/_sim/scenarios/reload", "", "application/json");
  REQUIRE(reloaded);
  CHECK(reloaded->status == 200);
  WriteFile(dir, "mine.yaml", "scenarios:\n  - name: broken\n    steps:\n      - after: whenever\n");
  auto broken = control->Post("/_sim/scenarios/reload", "", "application/json");
  REQUIRE(broken);
  CHECK(broken->status == 400);

  REQUIRE(sim.Stop() == 0);
  const std::string log = sim.Stderr();
  INFO(log);
  std::map<std::string, std::vector<Json>> by_event;
  for (auto& line : JsonLines(log)) by_event[line["event"].get<std::string>()].push_back(line);

  REQUIRE(by_event["callback_failed"].size() == 1);
  const Json& failed = by_event["callback_failed"][0];
  CHECK(failed["level"] == "warn");
  CHECK(failed["order_id"] == order_id);
  CHECK(failed["url"] == refusing.Url());
  CHECK(failed["attempt"] == 1);
  CHECK(failed["status"] == 0);
  CHECK_FALSE(failed["error"].get<std::string>().empty());

  REQUIRE(by_event["fault_fired"].size() == 1);
  const Json& fired = by_event["fault_fired"][0];
  CHECK(fired["level"] == "info");
  CHECK(fired["rule"] == Json::parse(fault->body)["id"]);
  CHECK(fired["target"] == "api");
  CHECK(fired["route"] == "GET /subscriptions");
  CHECK(fired["did"] == "status 503");

  REQUIRE(by_event["scenarios_reloaded"].size() == 1);
  const Json& reload = by_event["scenarios_reloaded"][0];
  CHECK(reload["level"] == "info");
  CHECK(reload["files"] == file);
  CHECK(reload["file_count"] == 1);
  CHECK(reload["scenarios"] == 1);

  REQUIRE(by_event["scenarios_reload_failed"].size() == 1);
  const Json& refused = by_event["scenarios_reload_failed"][0];
  CHECK(refused["level"] == "warn");
  CHECK(refused["error"].get<std::string>().starts_with(file + ":4:"));
}
