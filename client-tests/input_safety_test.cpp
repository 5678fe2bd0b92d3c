// Input safety (nothing a client sends can crash, leak or corrupt the
// simulator): each case sends a hostile input over real HTTP to the real binary
// (or runs the binary on a hostile file) and checks the documented answer, and
// that the process is still alive and well afterwards.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "support.hpp"

using namespace csrsim::testing;
using Json = nlohmann::json;

namespace {

const std::string kAccount = "/api/accounts/9900000";

// A JSON answer: the status, application/json, a body that parses, and no
// header carrying exception text (httplib's EXCEPTION_WHAT).
Json CheckedJson(const httplib::Result& result, int status) {
  REQUIRE(result);
  INFO(result->status << " " << result->body);
  CHECK(result->status == status);
  CHECK(result->get_header_value("Content-Type") == "application/json");
  for (const auto& [name, value] : result->headers) {
    INFO(name << ": " << value);
    CHECK(name.find("EXCEPTION") == std::string::npos);
    CHECK(value.find("json.exception") == std::string::npos);
  }
  Json body = Json::parse(result->body, nullptr, false);
  CHECK_FALSE(body.is_discarded());
  return body;
}

bool Healthy(const SimulatorProcess& sim) {
  auto health = sim.Client("")->Get("/_sim/health");
  return health && health->status == 200;
}

std::string NestedGroups(std::size_t depth) { return std::string(depth, '(') + "1" + std::string(depth, ')'); }

std::string RegexScenario(const std::string& regex) {
  return "scenarios:\n  - name: deep\n    match: { tn_regex: \"" + regex +
         "\" }\n    steps:\n      - after: 1s\n        status: COMPLETE\n";
}

}  // namespace

TEST_CASE("a number overflow or a wrong type on every JSON-body /_sim route is a 400 JSON error") {
  SimulatorProcess sim(kManual);
  auto control = sim.Client("");
  auto api = sim.Client();
  auto created = api->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(created);
  const std::string order_id = XmlText(created->body, "OrderId").value_or("");
  REQUIRE_FALSE(order_id.empty());

  const std::vector<std::pair<std::string, std::string>> calls = {
      {"/_sim/clock/advance", R"({"by":1e400})"},
      {"/_sim/clock/advance", R"({"by":-1e400})"},
      {"/_sim/clock/advance", R"({"by":5})"},
      {"/_sim/clock/advance", R"({"by":["5s"]})"},
      {"/_sim/orders/" + order_id + "/transition", R"({"status":"FAILED","errors":[{"code":1e400}]})"},
      {"/_sim/orders/" + order_id + "/transition", R"({"status":{"a":1}})"},
      {"/_sim/orders/" + order_id + "/transition", R"({"status":"FAILED","errors":[{"code":18446744073709551615}]})"},
      {"/_sim/callbacks/settings", R"({"attempts":1e400})"},
      {"/_sim/callbacks/settings", R"({"attempts":18446744073709551615})"},
      {"/_sim/callbacks/settings", R"({"attempts":2,"multiplier":"x"})"},
      {"/_sim/scenarios/reload", R"({"paths":1e400})"},
      {"/_sim/scenarios/reload", R"({"paths":[1]})"},
      {"/_sim/faults", R"({"target":"api","action":"status","count":1e400})"},
      {"/_sim/faults", R"({"target":"api","action":"status","fraction":1e400})"},
      {"/_sim/faults", R"({"target":"callback","fault":"drop","count":-18446744073709551616})"},
      {"/_sim/faults", R"({"target":1e400})"},
  };
  for (const auto& [path, body] : calls) {
    INFO("POST " << path << " " << body);
    Json answer = CheckedJson(control->Post(path.c_str(), body, "application/json"), 400);
    CHECK(answer["error"].is_string());
  }
  CHECK(Healthy(sim));
  CHECK(sim.Stop() == 0);
  CHECK(sim.Stderr().find("internal_error") == std::string::npos);
}

TEST_CASE("a tn_regex of 50000 nested groups is a load error from validate and from reload, not a crash") {
  const std::string dir = MakeTempDir();
  const std::string deep = WriteFile(dir, "deep.yaml", RegexScenario(NestedGroups(50'000)));

  ProcessResult validated = RunBinary({"validate", deep});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err.find(deep + ":3:") == 0);
  CHECK(validated.err.find("`tn_regex` is 100001 characters long") != std::string::npos);
  CHECK(validated.err.size() < 400);

  // Short enough to pass the length check, too deep for the depth check.
  const std::string nested = WriteFile(dir, "nested.yaml", RegexScenario(NestedGroups(40)));
  validated = RunBinary({"validate", nested});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err.find("nests groups more than 16 deep") != std::string::npos);
  // Repeat counts that would copy the pattern into millions of states.
  const std::string repeats = WriteFile(dir, "repeats.yaml", RegexScenario("((\\\\d{0,99}){99}){99}"));
  validated = RunBinary({"validate", repeats});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err.find("is too complex") != std::string::npos);

  const std::string good = WriteFile(dir, "good.yaml", RegexScenario("919\\\\d{3}0[0-9]{3}"));
  CHECK(RunBinary({"validate", good}).exit_code == 0);

  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--scenarios", good, "--scenarios-root", dir});
  auto control = sim.Client("");
  Json before = CheckedJson(control->Get("/_sim/scenarios"), 200);
  for (const std::string& file : {deep, nested, repeats}) {
    Json error =
        CheckedJson(control->Post("/_sim/scenarios/reload", Json{{"paths", {file}}}.dump(), "application/json"), 400);
    CHECK(error["error"].get<std::string>().find(file + ":3:") == 0);
  }
  CHECK(Healthy(sim));
  CHECK(CheckedJson(control->Get("/_sim/scenarios"), 200) == before);
}

TEST_CASE("failed subscription calls on unknown accounts create no account") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  for (int i = 0; i < 50; ++i) {
    const std::string account = "/api/accounts/77" + std::to_string(i);
    auto deleted = api->Delete((account + "/subscriptions/x").c_str());
    REQUIRE(deleted);
    CHECK(deleted->status == 404);
    auto replaced = api->Put((account + "/subscriptions/x").c_str(), SubscriptionRequest("http://127.0.0.1:9/cb").Xml(),
                             "application/xml");
    REQUIRE(replaced);
    CHECK(replaced->status == 404);
    CHECK(api->Get((account + "/subscriptions/x").c_str())->status == 404);
    CHECK(api->Get((account + "/csrs").c_str())->status == 200);
  }
  CHECK(CheckedJson(control->Get("/_sim/health"), 200)["accounts"] == 0);

  // An account appears with its first subscription and goes with its last.
  auto created = api->Post((kAccount + "/subscriptions").c_str(), SubscriptionRequest("http://127.0.0.1:9/cb").Xml(),
                           "application/xml");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  CHECK(CheckedJson(control->Get("/_sim/health"), 200)["accounts"] == 1);
  CHECK(api->Delete((kAccount + "/subscriptions/" + LocationId(created)).c_str())->status == 200);
  CHECK(CheckedJson(control->Get("/_sim/health"), 200)["accounts"] == 0);
}

TEST_CASE("a config file with a non-scalar key gives one line and exit 2") {
  const std::string dir = MakeTempDir();
  for (const std::string& yaml : {std::string("accounts: [ { [a]: 1 } ]\n"), std::string("{ [a]: 1 }\n"),
                                  std::string("accounts:\n  - id: \"1\"\n    users: [ { {u: 1}: x } ]\n"),
                                  std::string("accounts:\n  - id: [1, 2]\n")}) {
    INFO(yaml);
    const std::string file = WriteFile(dir, "config.yaml", yaml);
    ProcessResult result = RunBinary({"--port", "0", "--config", file});
    CHECK(result.exit_code == 2);
    CHECK(result.err.rfind("csr-simulator: " + file + ":", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
  }
}

TEST_CASE("a reload reads only files under the scenario roots and never echoes a file's content") {
  const std::string root = MakeTempDir();
  const std::string outside = MakeTempDir();
  const std::string configured = WriteFile(root, "mine.yaml", RegexScenario("919\\\\d{7}"));
  const std::string secret_text =
      "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n";
  const std::string secret = WriteFile(outside, "secret.yaml", secret_text);
  const std::string extra_root = MakeTempDir();
  // Looks like YAML, holds a secret: the error may name the file and the rule only.
  const std::string leaky = WriteFile(extra_root, "leaky.yaml", secret_text);
  std::filesystem::create_symlink(secret, root + "/link.yaml");

  SimulatorProcess sim(
      {"--clock", "manual", "--log-level", "off", "--scenarios", configured, "--scenarios-root", extra_root});
  auto control = sim.Client("");
  auto reload = [&](const Json& body, int status) {
    return CheckedJson(control->Post("/_sim/scenarios/reload", body.dump(), "application/json"), status);
  };
  Json before = CheckedJson(control->Get("/_sim/scenarios"), 200);

  for (const std::string& path : {std::string("/etc/passwd"), std::string("/etc"), secret, outside, root + "/link.yaml",
                                  root + "/../" + std::filesystem::path(outside).filename().string() + "/secret.yaml",
                                  std::string("/no/such/file.yaml")}) {
    INFO(path);
    Json error = reload(Json{{"paths", {path}}}, 403);
    const std::string text = error["error"].get<std::string>();
    CHECK(text.find("outside the scenario files") != std::string::npos);
    CHECK(text.find("root:") == std::string::npos);
    CHECK(text.find("SECRET") == std::string::npos);
  }
  // A file under a root may be read; its errors name file:line:col and the rule.
  Json error = reload(Json{{"paths", {leaky}}}, 400);
  const std::string text = error["error"].get<std::string>();
  CHECK(text.rfind(leaky + ":1:1: ", 0) == 0);
  CHECK(text.find("wJalrXUtnFEMI") == std::string::npos);
  CHECK(text.find("PRIVATE KEY") == std::string::npos);
  CHECK(text.size() < leaky.size() + 200);
  CHECK(CheckedJson(control->Get("/_sim/scenarios"), 200) == before);
  // The configured file itself, and files under a root, reload.
  CHECK(reload(Json{{"paths", {configured}}}, 200)["scenarios"][0]["name"] == "deep");
  WriteFile(extra_root, "other.yaml", RegexScenario("1"));
  std::filesystem::remove(leaky);
  CHECK(reload(Json{{"paths", {extra_root}}}, 200)["scenarios"][0]["name"] == "deep");
}

TEST_CASE("a reload of a directory without YAML keeps the scenarios and default:true restores the bundled set") {
  const std::string root = MakeTempDir();
  const std::string empty = root + "/empty";
  std::filesystem::create_directory(empty);
  WriteFile(empty, "notes.txt", "not a scenario");
  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--scenarios-root", root});
  auto control = sim.Client("");
  Json bundled = CheckedJson(control->Get("/_sim/scenarios"), 200);
  REQUIRE(bundled["scenarios"].size() == 6);

  Json error =
      CheckedJson(control->Post("/_sim/scenarios/reload", Json{{"paths", {empty}}}.dump(), "application/json"), 400);
  CHECK(error["error"] == empty + ": no scenario files in " + empty + " (expected *.yaml or *.yml)");
  CHECK(CheckedJson(control->Get("/_sim/scenarios"), 200) == bundled);
  ProcessResult validated = RunBinary({"validate", empty});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err.find("no scenario files in") != std::string::npos);

  const std::string mine = WriteFile(root, "mine.yaml", RegexScenario("1"));
  CHECK(CheckedJson(control->Post("/_sim/scenarios/reload", Json{{"paths", {mine}}}.dump(), "application/json"),
                    200)["scenarios"]
            .size() == 1);
  CHECK(CheckedJson(control->Post("/_sim/scenarios/reload", R"({"default":true})", "application/json"), 200) ==
        bundled);
  CHECK(CheckedJson(control->Get("/_sim/scenarios"), 200) == bundled);
  CheckedJson(control->Post("/_sim/scenarios/reload", R"({"default":false})", "application/json"), 400);
  CheckedJson(control->Post("/_sim/scenarios/reload", R"({"default":true,"paths":["x"]})", "application/json"), 400);
}

namespace {

// Whether `xml` is well-formed (an empty body counts: 201/204 answers have none).
bool WellFormed(const std::string& xml) {
  if (xml.empty()) return true;
  pugi::xml_document doc;
  return doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8) && doc.document_element();
}

std::string CsrWith(const std::string& element, const std::string& text) {
  return "<Csr><WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber><" + element + ">" + text +
         "</" + element + "></Csr>";
}

}  // namespace

TEST_CASE("invalid UTF-8 and control characters in free-text fields are refused with 1010") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  CallbackReceiver receiver;
  const std::string order = kAccount + "/csrs/" + SubscribeAndCreate(*api, "9900000", receiver.Url());

  const std::vector<std::string> bad_texts = {"Mick\xff", "\xc3\x28", "\xed\xa0\x80", "\xc0\xaf",
                                              "a&#1;b",   "a\x01z",   "&#xFFFE;",     "\xf4\x90\x80\x80"};
  for (const std::string& text : bad_texts) {
    INFO(text);
    for (const std::string field : {"EndUserName", "AuthorizingUserName", "AddressLine1", "City"}) {
      auto refused = api->Post((kAccount + "/csrs").c_str(), CsrWith(field, text), "application/xml");
      REQUIRE(refused);
      CHECK(refused->status == 400);
      CHECK(XmlText(refused->body, "Code") == "1010");
      CHECK(XmlText(refused->body, "Description").value_or("").find(field + " contains invalid characters") == 0);
      CHECK(WellFormed(refused->body));
      auto updated =
          api->Put(order.c_str(), "<Csr><" + field + ">" + text + "</" + field + "></Csr>", "application/xml");
      REQUIRE(updated);
      CHECK(updated->status == 400);
      CHECK(WellFormed(updated->body));
    }
    for (const std::string& note : {"<Note><UserId>" + text + "</UserId><Description>d</Description></Note>",
                                    "<Note><UserId>u</UserId><Description>" + text + "</Description></Note>"}) {
      auto refused = api->Post((order + "/notes").c_str(), note, "application/xml");
      REQUIRE(refused);
      CHECK(refused->status == 400);
      CHECK(XmlText(refused->body, "ErrorCode") == "1010");
      CHECK(WellFormed(refused->body));
    }
    auto subscription =
        api->Post((kAccount + "/subscriptions").c_str(),
                  SubscriptionRequest(receiver.Url("/x")).WithCredentials("cb" + text, "pw").Xml(), "application/xml");
    REQUIRE(subscription);
    CHECK(subscription->status == 400);
    CHECK(XmlText(subscription->body, "ErrorCode") == "1010");
  }
  // Good UTF-8 passes, and everything the account answers still parses.
  auto accented = api->Put(order.c_str(), "<Csr><EndUserName>Zo\xc3\xab M\xc3\xbcller \xe2\x82\xac</EndUserName></Csr>",
                           "application/xml");
  REQUIRE(accented);
  CHECK(accented->status == 200);
  REQUIRE(api->Post((order + "/notes").c_str(), "<Note><UserId>u</UserId><Description>caf\xc3\xa9</Description></Note>",
                    "application/xml")
              ->status == 201);
  REQUIRE(AdvanceClock(sim, "5s"));
  for (const std::string& path : {order, order + "/notes", kAccount + "/csrs", kAccount + "/subscriptions"}) {
    auto answer = api->Get(path.c_str());
    REQUIRE(answer);
    INFO(path << " " << answer->body);
    CHECK(answer->status == 200);
    CHECK(WellFormed(answer->body));
  }
  for (const auto& callback : receiver.Requests()) CHECK(WellFormed(callback.body));
}

TEST_CASE("echoes of client input are bounded and escaped in error bodies, Location and Links") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();

  const std::string long_name(900 * 1024, 'A');
  auto refused = api->Post((kAccount + "/csrs").c_str(), "<" + long_name + "/>", "application/xml");
  REQUIRE(refused);
  CHECK(refused->status == 400);
  CHECK(refused->body.size() < 1000);
  INFO(refused->body);
  CHECK(refused->body.find("got &lt;" + std::string(64, 'A') + "...(921600 bytes)&gt;") != std::string::npos);
  CHECK(WellFormed(refused->body));

  for (const std::string& query : std::vector<std::string>{"page=%00", "size=%FF%FE", "status=%01%02",
                                                           "modifiedDateFrom=" + std::string(3000, 'x')}) {
    INFO(query);
    auto listed = api->Get((kAccount + "/csrs?" + query).c_str());
    REQUIRE(listed);
    CHECK(listed->status == 400);
    CHECK(XmlText(listed->body, "Code") == "1010");
    CHECK(listed->body.size() < 1000);
    CHECK(WellFormed(listed->body));
  }
  auto page = api->Get((kAccount + "/csrs?page=%00").c_str());
  REQUIRE(page);
  CHECK(XmlText(page->body, "Description").value_or("").find("'\\x00' is not a valid value for page") == 0);

  // An account id that is not a plain id never comes back.
  for (const std::string& account :
       {std::string("%FF"), std::string("a%00b"), std::string(65, '9'), std::string("x%3Cy")}) {
    INFO(account);
    auto answer = api->Post(("/api/accounts/" + account + "/csrs").c_str(), kGuideCsrBody, "application/xml");
    REQUIRE(answer);
    CHECK(answer->status == 400);
    CHECK(XmlText(answer->body, "Code") == "4000");
    CHECK(WellFormed(answer->body));
    auto missing = api->Delete(("/api/accounts/" + account + "/subscriptions/x").c_str());
    REQUIRE(missing);
    CHECK(missing->status == 400);
    CHECK(WellFormed(missing->body));
  }
  // <Links> carry the list's own filters only; a Host that is not a plain host is left out.
  api->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  auto listed = api->Get((kAccount + "/csrs?size=1&junk=%FF%00&status=RECEIVED").c_str(), {{"Host", "evil<host>"}});
  REQUIRE(listed);
  INFO(listed->body);
  CHECK(listed->status == 200);
  CHECK(WellFormed(listed->body));
  CHECK(listed->body.find("junk") == std::string::npos);
  CHECK(listed->body.find("evil") == std::string::npos);
  CHECK(listed->body.find("Link=&lt;" + kAccount + "/csrs?status=RECEIVED&amp;page=1&amp;size=1&gt;") !=
        std::string::npos);
  auto created = api->Post((kAccount + "/csrs").c_str(), {{"Host", "a b"}}, kGuideCsrBody, "application/xml");
  REQUIRE(created);
  CHECK(created->get_header_value("Location").rfind(kAccount + "/csrs/", 0) == 0);
}

TEST_CASE("note UserId and subscription fields are length-limited with Bandwidth-shaped 400s") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto created = api->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml");
  REQUIRE(created);
  const std::string notes = kAccount + "/csrs/" + XmlText(created->body, "OrderId").value_or("") + "/notes";
  auto note = [&](const std::string& user, const std::string& description) {
    return api->Post(notes.c_str(),
                     "<Note><UserId>" + user + "</UserId><Description>" + description + "</Description></Note>",
                     "application/xml");
  };
  auto huge = note(std::string(900 * 1024, 'u'), "d");
  REQUIRE(huge);
  CHECK(huge->status == 400);
  CHECK(XmlRoot(huge->body) == "NoteResponse");
  CHECK(XmlText(huge->body, "ErrorCode") == "1011");
  CHECK(XmlText(huge->body, "Description") == "UserId is too long. Max length 100 characters");
  CHECK(note(std::string(101, 'u'), "d")->status == 400);
  CHECK(note(std::string(100, 'u'), std::string(500, 'd'))->status == 201);
  CHECK(note("u", std::string(501, 'd'))->status == 400);
  for (int i = 0; i < 200; ++i) REQUIRE(note("u", "note " + std::to_string(i))->status == 201);
  auto listed = api->Get(notes.c_str());
  REQUIRE(listed);
  CHECK(XmlCount(listed->body, "Note") == 201);

  auto subscribe = [&](const SubscriptionRequest& request) {
    return api->Post((kAccount + "/subscriptions").c_str(), request.Xml(), "application/xml");
  };
  auto long_url = subscribe(SubscriptionRequest("http://127.0.0.1:9/" + std::string(3000, 'p')));
  REQUIRE(long_url);
  CHECK(long_url->status == 400);
  CHECK(XmlText(long_url->body, "Description") == "URL is too long. Max length 2048 characters");
  auto long_user = subscribe(SubscriptionRequest("http://127.0.0.1:9/cb").WithCredentials(std::string(101, 'u'), "p"));
  REQUIRE(long_user);
  CHECK(long_user->status == 400);
  CHECK(XmlText(long_user->body, "ErrorCode") == "1011");
  CHECK(subscribe(SubscriptionRequest("http://127.0.0.1:9/cb").WithCredentials(std::string(100, 'u'), "p"))->status ==
        201);
}

TEST_CASE("GET /_sim/orders answers a page at a time with a next cursor") {
  SimulatorProcess sim(kManual);
  auto api = sim.Client();
  auto control = sim.Client("");
  std::vector<std::string> ids;
  for (int i = 0; i < 250; ++i) {
    const std::string account = i % 2 == 0 ? kAccount : "/api/accounts/9900001";
    const std::string tn = i % 5 == 0 ? "9195550000" : "9195551234";
    auto created = api->Post((account + "/csrs").c_str(),
                             "<Csr><WorkingOrBillingTelephoneNumber>" + tn + "</WorkingOrBillingTelephoneNumber></Csr>",
                             "application/xml");
    REQUIRE(created);
    ids.push_back(XmlText(created->body, "OrderId").value_or(""));
  }
  REQUIRE(AdvanceClock(sim, "5s"));
  auto walk = [&](const std::string& query, std::size_t limit) {
    std::vector<std::string> seen;
    std::string cursor;
    do {
      Json page = CheckedJson(
          control->Get(("/_sim/orders?" + query + (cursor.empty() ? "" : "&cursor=" + cursor)).c_str()), 200);
      CHECK(page["orders"].size() <= limit);
      for (const auto& order : page["orders"]) seen.push_back(order["id"]);
      cursor = page["next"].is_null() ? "" : page["next"].get<std::string>();
      if (!cursor.empty()) CHECK(page["orders"].size() == limit);
    } while (!cursor.empty());
    return seen;
  };
  Json first = CheckedJson(control->Get("/_sim/orders"), 200);
  CHECK(first["orders"].size() == 100);
  CHECK(first["next"].is_string());
  CHECK(walk("limit=100", 100) == ids);  // every order once, in creation order
  CHECK(walk("limit=1000", 1000) == ids);
  CHECK(walk("limit=7", 7) == ids);
  std::vector<std::string> failed;
  for (std::size_t i = 0; i < ids.size(); i += 5) failed.push_back(ids[i]);
  CHECK(walk("limit=9&status=FAILED", 9) == failed);
  std::vector<std::string> one_account;
  for (std::size_t i = 0; i < ids.size(); i += 2) one_account.push_back(ids[i]);
  CHECK(walk("limit=10&account=9900000", 10) == one_account);
  Json last = CheckedJson(control->Get("/_sim/orders?limit=50&cursor=200"), 200);
  CHECK(last["orders"].size() == 50);
  CHECK(last["next"].is_null());
  for (const std::string bad : {"limit=0", "limit=1001", "limit=x", "cursor=-1", "cursor=abc", "cursor=%FF"}) {
    INFO(bad);
    CheckedJson(control->Get(("/_sim/orders?" + bad).c_str()), 400);
  }
}

TEST_CASE("a /_sim POST needs a JSON Content-Type, so a callback cannot drive the control API") {
  SimulatorProcess target(kManual);
  SimulatorProcess caller(kManual);
  auto target_api = target.Client();
  auto target_control = target.Client("");
  REQUIRE(target_api->Post((kAccount + "/csrs").c_str(), kGuideCsrBody, "application/xml")->status == 200);

  // Another simulator's callbacks (XML) posted at this one's /_sim/reset are refused.
  auto caller_api = caller.Client();
  SubscribeAndCreate(*caller_api, "9900000", target.BaseUrl() + "/_sim/reset");
  REQUIRE(AdvanceClock(caller, "5s"));
  Json journal = CheckedJson(caller.Client("")->Get("/_sim/callbacks"), 200);
  REQUIRE(journal["entries"].size() == 1);
  CHECK(journal["entries"][0]["responseStatus"] == 415);
  CHECK(CheckedJson(target_control->Get("/_sim/health"), 200)["orders"] == 1);

  for (const std::string type : {"application/xml", "text/plain", "application/x-www-form-urlencoded", ""}) {
    INFO(type);
    auto refused =
        type.empty() ? target_control->Post("/_sim/reset") : target_control->Post("/_sim/reset", "<a/>", type.c_str());
    Json error = CheckedJson(refused, 415);
    CHECK(error["error"].get<std::string>().find("application/json") != std::string::npos);
  }
  CheckedJson(target_control->Post("/_sim/clock/advance", R"({"by":"1s"})", "text/plain"), 415);
  CHECK(CheckedJson(target_control->Get("/_sim/health"), 200)["orders"] == 1);
  CheckedJson(target_control->Post("/_sim/reset", "", "Application/JSON; charset=utf-8"), 200);
  CHECK(CheckedJson(target_control->Get("/_sim/health"), 200)["orders"] == 0);

  // With --control-token, the token vouches for the call whatever its Content-Type.
  SimulatorProcess guarded({"--clock", "manual", "--log-level", "off", "--control-token", "T"});
  CheckedJson(guarded.Client("Bearer T")->Post("/_sim/reset", "", "text/plain"), 200);
  CheckedJson(guarded.Client("")->Post("/_sim/reset", "", "application/json"), 401);
}

TEST_CASE("a scenario file on which yaml-cpp reads empty documents forever is refused, not a hang") {
  // Found by fuzz/scenario_yaml_fuzz.cpp (fuzz/regressions/scenario_yaml/loadall-never-ends).
  const std::string dir = MakeTempDir();
  const std::string file = WriteFile(dir, "comma.yaml", ",# ");
  ProcessResult validated = RunBinary({"validate", file});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err == file + ":1:1: the file is empty: expected `scenarios:` with a list of scenarios\n");
  const std::string second = WriteFile(dir, "second.yaml", "scenarios: []\n---\nscenarios: []\n");
  validated = RunBinary({"validate", second});
  CHECK(validated.exit_code == 1);
  CHECK(validated.err == second + ":3:1: a scenario file holds one YAML document; remove the second `---`\n");

  SimulatorProcess sim({"--clock", "manual", "--log-level", "off", "--scenarios-root", dir});
  Json error = CheckedJson(
      sim.Client("")->Post("/_sim/scenarios/reload", Json{{"paths", {file}}}.dump(), "application/json"), 400);
  CHECK(error["error"].get<std::string>().find("the file is empty") != std::string::npos);
  CHECK(Healthy(sim));
}
