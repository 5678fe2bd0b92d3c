// The reference of bench.py's serving benchmark: bare cpp-httplib (the Debian
// package csr-simulator is built on) answering one path with fixed bytes from
// memory, tuned as simulator/server.cpp tunes its listener: TCP_NODELAY, a
// keep-alive timeout of 5 s with no cap on requests per connection, a listen
// backlog of SOMAXCONN, SO_REUSEADDR only. Its thread pool has THREADS
// threads: httplib holds one for each keep-alive connection, so the pool must
// be at least the number of connections of the run to serve them all (0:
// httplib's default pool, 8 threads on this machine).
//
//   bare-httplib PORT PATH BODY_FILE THREADS
//
// Prints "listening on 127.0.0.1:PORT" once bound (PORT 0: any free port), as
// csr-simulator does; GET /_sim/health answers 200 like the simulator's, so
// start-up is measured the same way. Built by bench/run.sh (g++ directly), not
// by CMake: it is no part of the product.
#include <httplib.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: bare-httplib PORT PATH BODY_FILE THREADS\n");
    return 2;
  }
  const int wanted_port = std::atoi(argv[1]);
  const std::string path = argv[2];
  std::ifstream file(argv[3], std::ios::binary);
  std::stringstream read;
  read << file.rdbuf();
  const std::string body = read.str();
  const auto threads = static_cast<std::size_t>(std::atol(argv[4]));

  httplib::Server server;
  if (threads > 0) server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(static_cast<std::size_t>(-1));
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_fd = sock;
  });
  server.Get(path, [&body](const httplib::Request&, httplib::Response& response) {
    response.set_content(body, "application/xml");
  });
  server.Get("/_sim/health", [](const httplib::Request&, httplib::Response& response) {
    response.set_content(R"({"status":"ok"})", "application/json");
  });
  int port = wanted_port;
  if (port == 0) {
    port = server.bind_to_any_port("127.0.0.1");
  } else if (!server.bind_to_port("127.0.0.1", port)) {
    port = -1;
  }
  if (port < 0) {
    std::fprintf(stderr, "bare-httplib: cannot bind 127.0.0.1:%d\n", wanted_port);
    return 2;
  }
  listen(listen_fd, SOMAXCONN);  // httplib 0.11.4 listens with a backlog of 5
  std::printf("bare-httplib listening on 127.0.0.1:%d\n", port);
  std::fflush(stdout);
  return server.listen_after_bind() ? 0 : 1;
}
