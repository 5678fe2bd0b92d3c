// The one status table (error.hpp, kErrorKinds) as both error writers answer
// it: the Bandwidth XML shape (ErrorResponse, api.hpp) and the control API's
// JSON shape (ControlErrorResponse, control.hpp).
#include <catch2/catch.hpp>
#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "csrsim/api.hpp"
#include "csrsim/control.hpp"
#include "csrsim/error.hpp"
#include "csrsim/http.hpp"

using namespace csrsim;
using Json = nlohmann::json;

namespace {

constexpr int kInjectedStatus = 418;

// An Error of `kind` with one detail; an injected one answers kInjectedStatus.
Error SampleOf(ErrorKind kind) {
  Error error(kind, {{1234, "what went wrong"}}, kind == ErrorKind::kInjected ? kInjectedStatus : 0);
  error.WithHeader("X-Sample", "1");
  return error;
}

std::string HeaderOf(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

// The exception in flight, through the one catch-all (not logged).
template <typename Exception>
Error Caught(const Exception& exception) {
  HttpRequest request;
  request.method = "GET";
  request.path = "/accounts/1/csrs";
  try {
    throw exception;
  } catch (...) {
    return CurrentError(request, false);
  }
}

}  // namespace

TEST_CASE("every error kind answers one status in the XML and the JSON shape", "[error]") {
  for (const ErrorKindInfo& row : kErrorKinds) {
    const Error error = SampleOf(row.kind);
    const int status = row.http_status != 0 ? row.http_status : kInjectedStatus;
    INFO("kind " << static_cast<int>(row.kind) << ", status " << status);
    CHECK(error.http_status() == status);
    for (const char* root : {"CsrResponse", "NoteResponse", "SubscriptionsResponse"}) {
      const HttpResponse xml = ErrorResponse(error, root);
      CHECK(xml.status == status);
      CHECK(xml.body.empty() == (row.xml_body == XmlErrorBody::kNone));
      CHECK(HeaderOf(xml, "X-Sample") == "1");
    }
    const HttpResponse json = ControlErrorResponse(error);
    CHECK(json.status == status);
    CHECK(json.content_type == "application/json");
    CHECK(Json::parse(json.body).contains("error"));
    CHECK(HeaderOf(json, "X-Sample") == "1");
  }
}

TEST_CASE("the named factories answer their documented statuses in both shapes", "[error]") {
  struct Case {
    Error error;
    int status;
  };
  const Case cases[] = {
      {Error::Unauthorized(), 401},
      {Error::ControlUnauthorized(), 401},
      {Error::AccessDenied(), 403},
      {Error::NotFound(12002, "no order"), 404},
      {Error::NoRoute("no such path"), 404},
      {Error::MethodNotAllowed("no"), 405},
      {Error::Timeout("nothing came"), 408},
      {Error::Invalid(1003, "empty"), 400},
      {Error::MalformedRequest("bad chunk"), 400},
      {Error::Conflict(16008, "duplicate"), 409},
      {Error::LimitReached("--max-orders"), 409},
      {Error::PayloadTooLarge(10), 413},
      {Error::UriTooLong(10), 414},
      {Error::UnsupportedMediaType("JSON only"), 415},
      {Error::RateLimited(1), 429},
      {Error::HeadersTooLarge("too many"), 431},
      {Error::Internal(), 500},
      {Error::CapacityExceeded("--max-connections"), 503},
      {Error::OutOfMemory(), 503},
      {Error::Stopping(), 503},
      {Error::StateWriteFailed("disk full"), 503},
      {Error::Injected(502, SimTime{}), 502},
  };
  for (const Case& c : cases) {
    INFO(c.error.what());
    CHECK(ErrorResponse(c.error, "CsrResponse").status == c.status);
    CHECK(ControlErrorResponse(c.error).status == c.status);
  }
  CHECK(HeaderOf(ErrorResponse(Error::Unauthorized(), "CsrResponse"), "WWW-Authenticate") ==
        "Basic realm=\"Bandwidth\"");
  CHECK(HeaderOf(ControlErrorResponse(Error::ControlUnauthorized()), "WWW-Authenticate") ==
        "Bearer realm=\"csr-simulator control API\"");
}

TEST_CASE("the catch-all turns any exception into an Error both shapes answer", "[error]") {
  const Error passed = Caught(Error::Conflict(16008, "duplicate"));
  CHECK(passed.kind() == ErrorKind::kConflict);
  CHECK(passed.details().front().code == 16008);

  const Error bug = Caught(std::runtime_error("secret detail"));
  CHECK(bug.kind() == ErrorKind::kInternal);
  const HttpResponse xml = ErrorResponse(bug, "CsrResponse");
  CHECK(xml.status == 500);
  CHECK(xml.body.find("<ErrorCode>1000</ErrorCode>") != std::string::npos);
  CHECK(xml.body.find("secret detail") == std::string::npos);
  const HttpResponse json = ControlErrorResponse(bug);
  CHECK(json.status == 500);
  CHECK(Json::parse(json.body) == Json{{"error", "internal error; the simulator logged it"}});

  CHECK(Caught(42).kind() == ErrorKind::kInternal);
  const Error memory = Caught(std::bad_alloc());
  CHECK(memory.http_status() == 503);
  CHECK(memory.details().front().code == 1016);
}
