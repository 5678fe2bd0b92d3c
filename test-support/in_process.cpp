#include "in_process.hpp"

#include <catch2/catch.hpp>
#include <utility>

#include "csrsim/encoding.hpp"

namespace csrsim::testing {

namespace {

Config WithFreePort(Config config) {
  config.port = 0;
  return config;
}

}  // namespace

Config ManualConfig() {
  Config config;
  config.clock = "manual";
  config.log_level = "off";
  config.scenario_paths = {std::string(CSRSIM_SOURCE_DIR) + "/scenarios/default.yaml"};
  return config;
}

HttpRequest MakeRequest(const std::string& method, const std::string& target, const std::string& body,
                        const std::string& authorization) {
  HttpRequest request;
  request.method = method;
  auto question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string::npos) {
    for (auto& [name, value] : ParseFormUrlEncoded(target.substr(question + 1))) {
      request.query.emplace(std::move(name), std::move(value));
    }
  }
  request.body = body;
  request.remote_addr = "127.0.0.1";
  request.headers.emplace("Host", "sim.test");
  if (request.path.rfind("/_sim", 0) == 0) request.headers.emplace("Content-Type", "application/json");
  if (!authorization.empty()) request.headers.emplace("Authorization", authorization);
  return request;
}

std::string CreateBody(const std::string& tn) {
  return "<Csr><WorkingOrBillingTelephoneNumber>" + tn + "</WorkingOrBillingTelephoneNumber></Csr>";
}

InProcessSimulator::InProcessSimulator(Config config, bool start) : sim_(WithFreePort(std::move(config))) {
  if (start) sim_.Start();
}

nlohmann::json InProcessSimulator::Control(const std::string& method, const std::string& target,
                                           const std::string& body, int expected_status) {
  HttpResponse response = Call(method, target, body);
  INFO(method << " " << target << " -> " << response.status << " " << response.body);
  REQUIRE(response.status == expected_status);
  REQUIRE(response.content_type == "application/json");
  return nlohmann::json::parse(response.body);
}

std::string InProcessSimulator::CreateOrder(const std::string& tn, const std::string& account) {
  HttpResponse response = Call("POST", "/accounts/" + account + "/csrs", CreateBody(tn), kGuideAuthorization);
  INFO(response.body);
  REQUIRE(response.status == 200);
  auto start = response.body.find("<OrderId>") + 9;
  return response.body.substr(start, response.body.find("</OrderId>") - start);
}

void InProcessSimulator::Subscribe(const std::string& url, const std::string& account) {
  HttpResponse response = Call("POST", "/accounts/" + account + "/subscriptions",
                               "<Subscription><OrderType>csrs</OrderType><CallbackSubscription><URL>" + url +
                                   "</URL><CallbackCredentials><BasicAuthentication><Username>cb</Username>"
                                   "<Password>secret</Password></BasicAuthentication></CallbackCredentials>"
                                   "</CallbackSubscription></Subscription>",
                               kGuideAuthorization);
  INFO(response.body);
  REQUIRE(response.status == 201);
}

nlohmann::json InProcessSimulator::Advance(const std::string& by) {
  return Control("POST", "/_sim/clock/advance", R"({"by":")" + by + R"("})");
}

}  // namespace csrsim::testing
