// http: the simulator's own request/response values and route table, so that
// route handlers (api, control) are plain functions testable without sockets.
// Only the server module (server.hpp) knows cpp-httplib's server types.
//
// Thread-safety: a Router is built once, then Dispatch() is safe from many
// threads (it only reads the table). Handlers must be thread-safe themselves.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csrsim {

struct RequestTrace;  // request_journal.hpp
class Error;          // error.hpp

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct HttpRequest {
  std::string method;                             // "GET", ...
  std::string path;                               // without the query string
  std::multimap<std::string, std::string> query;  // decoded parameters
  std::multimap<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  std::string remote_addr;
  std::vector<std::string> path_params;  // segments matched by "*" in the route
  std::string prefix;                    // path prefix the API stripped before routing (e.g. "/api")
  std::string target;                    // as sent: path and query, undecoded ("" when built in code)
  std::string account;                   // set by the app once the API knew the account: for the access log
  // Set by the caller that journals the request (app.cpp); the api pipeline
  // fills it in as it goes. Null: nobody is recording.
  RequestTrace* trace = nullptr;

  std::optional<std::string> Header(const std::string& name) const;
  std::optional<std::string> Query(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type;  // empty: none
  std::vector<std::pair<std::string, std::string>> headers;
  bool drop_connection = false;  // injected fault: close without answering
  // A streaming body (server-sent events): when set, the server sends the
  // status and headers with chunked transfer encoding, then calls `stream`
  // once on its worker thread; it writes chunks through `write`, which returns
  // false once the client has gone, and the response ends when it returns.
  // A chunk is the concatenation of `pieces`, written without copying them
  // into one buffer first (one system call on a plain connection).
  // `body` is ignored. The stream holds its worker thread for its whole life.
  using ChunkWriter = std::function<bool(std::span<const std::string_view> pieces)>;
  std::function<void(const ChunkWriter& write)> stream;

  static HttpResponse Xml(int status, std::string body);
  static HttpResponse Json(int status, std::string body);
  static HttpResponse Empty(int status);
  HttpResponse& WithHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// One error line "internal_error" (log.hpp) for an exception a handler did
// not expect (a bug): method, path and what(), escaped by the logger. The
// client gets a 500 with a body from the module that caught it; exception
// text never goes into a response.
void LogInternalError(const HttpRequest& request, std::string_view what);

// The one catch-all, called inside a `catch (...)` around a handler: the
// exception in flight as an Error. An Error stays itself; std::bad_alloc is
// Error::OutOfMemory() (503); anything else is a bug, logged with
// LogInternalError and answered as Error::Internal() (500). Both API shapes
// answer the result (ErrorResponse in api.hpp, ControlErrorResponse in
// control.hpp). `log` false logs nothing (--log-level off).
Error CurrentError(const HttpRequest& request, bool log = true);

// An ordered list of (method, path pattern, handler). A pattern is a path whose
// segments are literals or "*" (any one non-empty segment), e.g.
// "/accounts/*/csrs/*". The first route whose pattern matches the whole path
// wins; the segments matched by "*" become path_params. No regex on the hot path.
class Router {
 public:
  void Add(std::string method, std::string_view pattern, Handler handler);
  // nullopt when no route matches the path at all; a 405 response when the path
  // matches but the method does not (decided by `method_not_allowed`).
  std::optional<HttpResponse> Dispatch(HttpRequest& request) const;
  void set_method_not_allowed(Handler handler) { method_not_allowed_ = std::move(handler); }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "*" = wildcard
    Handler handler;
  };
  std::vector<Route> routes_;
  Handler method_not_allowed_;
};

}  // namespace csrsim
