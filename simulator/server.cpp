#include "csrsim/server.hpp"

#include "csrsim/encoding.hpp"

#include <httplib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace csrsim {

namespace {

int PortOf(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return -1;
}

// httplib does not expose its sockets, so find connections by their ports by
// scanning this process's descriptors. Used only on an injected fault and at Stop.
template <typename F>
void ForEachConnectionOnPort(int local_port, F&& visit) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  const int max_fd = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 65536));
  for (int fd = 0; fd < max_fd; ++fd) {
    sockaddr_storage local{};
    sockaddr_storage peer{};
    socklen_t local_size = sizeof local;
    socklen_t peer_size = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) continue;
    if (PortOf(local) == local_port) visit(fd, PortOf(peer));
  }
}

// Closes the connection a request came in on without answering (injected fault).
void ShutdownConnectionOf(const httplib::Request& request) {
  ForEachConnectionOnPort(request.local_port, [&request](int fd, int peer_port) {
    if (peer_port == request.remote_port) shutdown(fd, SHUT_RDWR);
  });
}

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  std::function<HttpResponse(HttpRequest&)> handler;
  int port = 0;
  httplib::Server server;
  std::thread thread;
};

HttpServer::HttpServer(ServerOptions options, std::function<HttpResponse(HttpRequest&)> handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::Start() {
  auto& server = impl_->server;
  const auto threads = static_cast<std::size_t>(impl_->options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second simulator
  // bind a port that is in use; keep only SO_REUSEADDR. Keep the listening
  // socket too: httplib 0.11.4 listens with a backlog of 5 (baked into the
  // .so), and a burst of connects (a CI suite's pool, wrk's 64) overflows it,
  // each dropped handshake costing the client a 0.2-1 s retransmission.
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  // Never httplib's default, which copies what() into an EXCEPTION_WHAT header.
  // The application's handler catches everything; this is for httplib's own throws.
  server.set_exception_handler([](const httplib::Request& in, httplib::Response& out, std::exception_ptr) {
    std::fprintf(stderr, "csr-simulator: internal error in the HTTP server on %s %s\n",
                 EchoToken(in.method).c_str(), EchoToken(in.path, 200).c_str());
    out.status = 500;
    out.set_content(R"({"error":"internal error; the simulator logged it"})", "application/json");
  });
  server.set_keep_alive_max_count(100000);
  server.set_keep_alive_timeout(5);
  // A hard cap well above the API's own limit, which answers with its envelope.
  server.set_payload_max_length(impl_->options.max_body_bytes * 4 + 4096);

  auto serve = [this](const httplib::Request& in, httplib::Response& out) {
    const auto started = std::chrono::steady_clock::now();
    HttpRequest request;
    request.method = in.method;
    request.path = in.path;
    request.target = in.target;
    request.body = in.body;
    request.remote_addr = in.remote_addr;
    // From the URL only: httplib's params also hold form-encoded body fields.
    if (auto question = in.target.find('?'); question != std::string::npos) {
      for (auto& [name, value] : ParseFormUrlEncoded(std::string_view(in.target).substr(question + 1))) {
        request.query.emplace(std::move(name), std::move(value));
      }
    }
    for (const auto& [name, value] : in.headers) request.headers.emplace(name, value);
    HttpResponse response = impl_->handler(request);
    if (response.drop_connection) {
      ShutdownConnectionOf(in);
      out.status = 500;  // never reaches the client
    } else {
      out.status = response.status;
      for (const auto& [name, value] : response.headers) out.set_header(name, value);
      if (response.stream) {
        // httplib 0.11.4 would gzip a text/event-stream, holding every event in
        // the compressor: a stream goes uncompressed. (The Request is httplib's
        // own non-const object; its encoding choice reads it after this handler.)
        const_cast<httplib::Request&>(in).headers.erase("Accept-Encoding");
        out.set_chunked_content_provider(response.content_type, [stream = std::move(response.stream)](
                                                                    std::size_t, httplib::DataSink& sink) {
          stream([&sink](std::string_view chunk) { return sink.write(chunk.data(), chunk.size()); });
          sink.done();
          return true;
        });
      } else if (!response.content_type.empty()) {
        out.set_content(response.body, response.content_type.c_str());
      }
    }
    if (impl_->options.log_requests) {
      auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                          started).count();
      std::fprintf(stderr, "%s %s %d %lldus%s\n", in.method.c_str(), in.path.c_str(),
                   response.drop_connection ? 0 : response.status, static_cast<long long>(micros),
                   response.drop_connection ? " (connection dropped by fault)" : "");
    }
  };
  server.Get(".*", serve);
  server.Post(".*", serve);
  server.Put(".*", serve);
  server.Delete(".*", serve);
  server.Patch(".*", serve);

  int port = impl_->options.port;
  if (port == 0) {
    port = server.bind_to_any_port(impl_->options.host);
    if (port < 0) throw std::runtime_error("cannot bind " + impl_->options.host + ":0");
  } else if (!server.bind_to_port(impl_->options.host, port)) {
    throw std::runtime_error("cannot bind " + impl_->options.host + ":" + std::to_string(port) +
                             " (in use or not permitted)");
  }
  listen(listen_fd, SOMAXCONN);  // on Linux, listening again resizes the accept queue
  impl_->port = port;
  impl_->thread = std::thread([&server] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();  // 0.11.4 has no wait_until_ready
  return port;
}

void HttpServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  // Idle keep-alive connections would hold their worker for the whole
  // keep-alive timeout: end their reading side. A request in flight still
  // writes its response.
  ForEachConnectionOnPort(impl_->port, [](int fd, int) { shutdown(fd, SHUT_RD); });
  impl_->thread.join();
}

}  // namespace csrsim
