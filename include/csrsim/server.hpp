// server: the HTTP listener. The only module that knows cpp-httplib's server
// types: it turns each httplib request into an HttpRequest, hands it to one
// Handler, writes the HttpResponse back, and logs one line per request.
//
// Tuned for cpp-httplib 0.11.4's slow defaults: TCP_NODELAY, a thread pool sized for keep-alive
// connections, a high keep-alive count, a hard payload cap above the API's own
// body limit (the API answers oversize bodies with its own envelope first).
//
// Thread-safety: Start/Stop from one controlling thread; the handler runs on
// the server's pool threads and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "csrsim/http.hpp"

namespace csrsim {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port
  int threads = 64;
  std::size_t max_body_bytes = 1024 * 1024;
  bool log_requests = true;  // one line per request to stderr
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, std::function<HttpResponse(HttpRequest&)> handler);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on a background thread; returns the bound port.
  // Throws std::runtime_error naming host:port when the bind fails.
  int Start();
  // Stops accepting, lets in-flight requests finish, joins. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace csrsim
