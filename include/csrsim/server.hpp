// server: the HTTP listener. The only module that knows cpp-httplib's server
// types. httplib accepts connections and hands each to a task queue; we own
// what happens on a connection (Listener::process_and_close_socket in
// server.cpp): one buffered reader per connection, so pipelined requests are
// each parsed (http1.hpp) and answered in order, the head read against a
// deadline and every size limit checked while bytes arrive.
//
// Capacity: one worker thread per open connection, from an elastic pool that
// grows on demand up to max_connections and lets idle threads retire. A
// connection beyond the cap is answered at once with 503 (its request is read
// when already sent, to shape the body) and closed; over HTTPS it is closed
// unanswered, since a handshake could block the accepting thread. So a
// long-poll, a slow client or a latency fault holds only its own
// connection's thread, and /_sim always finds a thread below the cap.
//
// HTTPS: with ServerOptions::tls the same loop reads and writes through a
// TlsSession (tls.hpp), the handshake bounded by the header timeout.
//
// Logging (log.hpp, the process logger): one info line "access" per request,
// those refused here included (outcome refused, over_capacity,
// over_capacity_closed, dropped_by_fault); an exception escaping the handler
// is logged at error.
//
// Errors: a refused request (400/413/414/431, 503 over the cap) and any
// exception escaping the handler (std::bad_alloc: 503, others: 500) are
// answered through `on_error`, which shapes the body by path; no exception
// reaches httplib.
//
// Thread-safety: Start/Stop from one controlling thread; the handler runs on
// the pool's threads and must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "csrsim/error.hpp"
#include "csrsim/http.hpp"
#include "csrsim/tls.hpp"

namespace csrsim {

enum class ConnectionEvent { kOpened, kClosed, kRefused };

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                        // 0 = any free port
  std::size_t max_connections = 1024;  // open connections served at once (one thread each)
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  std::size_t max_header_bytes = 65536;  // request line + headers
  std::size_t max_headers = 100;
  std::size_t max_request_line = 8192;
  std::chrono::milliseconds header_timeout{10000};     // whole head, from its first byte; also a body stall
  std::chrono::milliseconds keep_alive_timeout{5000};  // idle between requests
  // Set: the listener speaks HTTPS only (a plain-HTTP request gets a 400
  // saying so); null: plain HTTP.
  std::shared_ptr<const TlsContext> tls;
  // Told when a connection starts being served, when it closes, and when one
  // is refused over max_connections. Called on the server's threads.
  std::function<void(ConnectionEvent)> on_connection;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(HttpRequest&)>;
  // Shapes an Error found outside the handler (framing, capacity, a caught
  // exception). `request` holds what was read: method, path, query, headers.
  using ErrorHandler = std::function<HttpResponse(const HttpRequest& request, const Error& error)>;

  HttpServer(ServerOptions options, Handler handler, ErrorHandler on_error);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving on a background thread; returns the bound port.
  // Throws std::runtime_error naming host:port when the bind fails.
  int Start();
  // Stops accepting, lets in-flight requests finish, closes idle
  // connections, joins. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace csrsim
