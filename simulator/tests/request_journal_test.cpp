// RequestJournal and the request records (request_journal.hpp), without HTTP.
#include <catch2/catch.hpp>

#include "csrsim/request_journal.hpp"

using namespace csrsim;

namespace {

RequestRecord Record(std::string account, std::string method, std::optional<std::string> route, int status) {
  RequestRecord record;
  record.account = std::move(account);
  record.method = std::move(method);
  record.route = std::move(route);
  record.status = status;
  return record;
}

}  // namespace

TEST_CASE("a request record keeps only the scheme of Authorization and caps the body at 64 KiB") {
  HttpRequest request;
  request.method = "POST";
  request.path = "/api/accounts/1/csrs";
  request.query.emplace("a b", "c");
  request.headers.emplace("authorization", "Basic dXNlcm5hbWU6cGFzc3dvcmQ=");
  request.headers.emplace("Content-Type", "application/xml");
  request.body = std::string(kRequestBodyCap + 1, 'x');
  RequestRecord record = BeginRequestRecord(request);
  CHECK(record.path == "/api/accounts/1/csrs?a%20b=c");
  CHECK(record.headers == std::vector<std::pair<std::string, std::string>>{{"authorization", "Basic ***"},
                                                                           {"Content-Type", "application/xml"}});
  CHECK(record.body.size() == kRequestBodyCap);
  CHECK(record.body_truncated);

  request.target = "/raw%2Fpath?x=1";
  CHECK(BeginRequestRecord(request).path == "/raw%2Fpath?x=1");
}

TEST_CASE("a token request's record masks the client secret and the access token") {
  HttpRequest request;
  request.method = "POST";
  request.path = "/api/v1/oauth2/token";
  request.body = "client_secret=s3cret&grant_type=client_credentials&client_id=c";
  RequestRecord record = BeginRequestRecord(request);
  RequestTrace trace;
  trace.route = std::string(kTokenRouteKey);
  FinishRequestRecord(record, trace, HttpResponse::Json(200, R"({"access_token":"abc","token_type":"Bearer"})"),
                      std::chrono::microseconds(7));
  CHECK(record.body == "client_secret=***&grant_type=client_credentials&client_id=c");
  CHECK(record.response_body == R"({"access_token":"***","token_type":"Bearer"})");
  CHECK(record.latency_us == 7);
  CHECK(record.status == 200);
}

TEST_CASE("the request journal filters, pages with a cursor, counts and drops the oldest") {
  RequestJournal journal(4);
  journal.Append(Record("1", "GET", "GET /csrs", 200));
  journal.Append(Record("1", "POST", "POST /csrs", 503));
  journal.Append(Record("2", "POST", "POST /csrs", 200));
  journal.Append(Record("1", "GET", std::nullopt, 404));
  journal.Append(Record("1", "PUT", "PUT /csrs/*", 400));
  CHECK(journal.dropped() == 1);
  CHECK(journal.size() == 4);

  RequestFilter account_one;
  account_one.account = "1";
  auto page = journal.Query(account_one, 2);
  REQUIRE(page.records.size() == 2);
  CHECK(page.records[0].id == 2);
  CHECK(page.records[1].id == 4);
  REQUIRE(page.next == 4);
  account_one.since_id = *page.next;
  page = journal.Query(account_one, 2);
  REQUIRE(page.records.size() == 1);
  CHECK(page.records[0].id == 5);
  CHECK(!page.next);

  RequestFilter unrouted;
  unrouted.route = "none";
  CHECK(journal.Count(unrouted) == 1);
  RequestFilter client_errors;
  client_errors.status_class = 4;
  CHECK(journal.Count(client_errors) == 2);
  RequestFilter posts;
  posts.method = "POST";
  posts.status = 200;
  CHECK(journal.Count(posts) == 1);

  journal.Clear(std::string("1"));
  CHECK(journal.size() == 1);
  CHECK(journal.dropped() == 1);
  journal.Clear(std::nullopt);
  CHECK(journal.size() == 0);
  CHECK(journal.dropped() == 0);
}

TEST_CASE("the request journal's wait counts records from before the call and returns the first N") {
  RequestJournal journal(10);
  journal.Append(Record("1", "GET", "GET /csrs", 200));
  journal.Append(Record("1", "GET", "GET /csrs", 200));
  RequestFilter filter;
  auto found = journal.WaitFor(filter, 2, std::chrono::milliseconds(0));
  REQUIRE(found.size() == 2);
  CHECK(found[1].id == 2);
  CHECK(journal.WaitFor(filter, 3, std::chrono::milliseconds(0)).size() == 2);  // time-out: what there is
  journal.Shutdown();
  CHECK(journal.WaitFor(filter, 3, std::chrono::hours(1)).size() == 2);  // shutdown answers at once
}

TEST_CASE("a journal of capacity 0 records nothing") {
  RequestJournal journal(0);
  CHECK(!journal.enabled());
  journal.Append(Record("1", "GET", "GET /csrs", 200));
  CHECK(journal.size() == 0);
}
