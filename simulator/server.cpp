#include "csrsim/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "csrsim/encoding.hpp"
#include "csrsim/http1.hpp"
#include "csrsim/log.hpp"
#include "csrsim/mutex.hpp"
#include "csrsim/tls.hpp"

namespace csrsim {

namespace {

using SteadyClock = std::chrono::steady_clock;

// How long a connection we close after refusing it may keep sending before
// we stop reading it: reading (and discarding) what the client still sends
// lets it read our answer instead of a reset.
constexpr auto kLingerTime = std::chrono::seconds(2);
// Threads an idle pool keeps; more retire after kIdleRetire without work.
constexpr std::size_t kWarmThreads = 8;
constexpr auto kIdleRetire = std::chrono::seconds(10);
constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// A TLS write's bound; plain sockets get the same from httplib's SO_SNDTIMEO.
constexpr auto kTlsWriteTimeout = std::chrono::seconds(5);

// Set on the accept thread while it runs a task the pool had no thread for:
// the connection is then refused instead of served (Listener below).
thread_local bool t_refusing = false;

// ---------------------------------------------------------------------------
// Lingerer: closes refused connections after the client stops sending.

class Lingerer {
 public:
  Lingerer() {
    if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
    thread_ = std::thread([this] { Run(); });
  }
  ~Lingerer() {
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    Wake();
    thread_.join();
    if (wake_[0] >= 0) close(wake_[0]);
    if (wake_[1] >= 0) close(wake_[1]);
  }
  Lingerer(const Lingerer&) = delete;
  Lingerer& operator=(const Lingerer&) = delete;

  // Ends our side of `fd` (the answer is written) and closes it once the
  // client has closed too, or after kLingerTime.
  void Add(int fd) {
    shutdown(fd, SHUT_WR);
    {
      MutexLock lock(mu_);
      if (!stopping_ && wake_[1] >= 0 && added_.size() < 4096) {
        added_.push_back(fd);
        fd = -1;
      }
    }
    if (fd >= 0) {
      close(fd);
      return;
    }
    Wake();
  }

 private:
  struct Item {
    int fd;
    SteadyClock::time_point deadline;
  };

  void Wake() {
    if (wake_[1] < 0) return;
    char byte = 1;
    [[maybe_unused]] auto written = write(wake_[1], &byte, 1);
  }

  void Run() {
    std::vector<Item> items;
    std::vector<pollfd> fds;
    for (;;) {
      {
        MutexLock lock(mu_);
        for (int fd : added_) items.push_back({fd, SteadyClock::now() + kLingerTime});
        added_.clear();
        if (stopping_) break;
      }
      fds.assign(1, pollfd{wake_[0], POLLIN, 0});
      auto timeout = std::chrono::milliseconds(1000);
      const auto now = SteadyClock::now();
      for (const auto& item : items) {
        fds.push_back({item.fd, POLLIN, 0});
        timeout = std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(
                                        std::max(item.deadline - now, SteadyClock::duration::zero())));
      }
      poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
      if (fds[0].revents & POLLIN) DrainWakePipe();
      CloseFinished(items, fds);
    }
    for (const auto& item : items) close(item.fd);  // added_ is empty: Add refuses once stopping_
  }

  void DrainWakePipe() const {
    char discard[64];
    while (read(wake_[0], discard, sizeof discard) > 0) {
    }
  }

  // Reads and drops what the client sent; true once it has closed.
  static bool ClientClosed(int fd) {
    char discard[kReadChunk];
    for (;;) {
      const auto got = recv(fd, discard, sizeof discard, MSG_DONTWAIT);
      if (got > 0) continue;
      return got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    }
  }

  // Closes the items whose client closed or whose time is up; `fds` holds
  // the poll results, the wake pipe first.
  static void CloseFinished(std::vector<Item>& items, const std::vector<pollfd>& fds) {
    const auto now = SteadyClock::now();
    std::vector<Item> kept;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const bool done = now >= items[i].deadline || (fds[i + 1].revents != 0 && ClientClosed(items[i].fd));
      if (done) {
        close(items[i].fd);
      } else {
        kept.push_back(items[i]);
      }
    }
    items.swap(kept);
  }

  int wake_[2] = {-1, -1};
  Mutex mu_;
  std::vector<int> added_ CSRSIM_GUARDED_BY(mu_);
  bool stopping_ CSRSIM_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// ---------------------------------------------------------------------------
// ElasticPool: httplib's task queue, one thread per task (a connection),
// growing up to a cap; a task beyond the cap is refused on the caller's thread.

class ElasticPool : public httplib::TaskQueue {
 public:
  ElasticPool(std::size_t max_threads, std::function<void(std::function<void()>)> refuse)
      : max_threads_(std::max<std::size_t>(1, max_threads)), refuse_(std::move(refuse)) {}
  ~ElasticPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      MutexLock lock(mu_);
      JoinRetired();
      if (!stopping_) {
        if (idle_ > jobs_.size()) {
          jobs_.push_back(std::move(fn));
          ready_.notify_one();
          return;
        }
        if (threads_.size() < max_threads_) {
          bool queued = false;
          try {
            jobs_.push_back(std::move(fn));
            queued = true;
            const std::size_t id = next_id_++;
            std::thread worker([this, id] { Work(id); });
            try {
              threads_.emplace(id, std::move(worker));
            } catch (...) {
              worker.detach();  // out of memory for the map node: it still serves, unjoined
            }
            return;
          } catch (const std::exception&) {  // no thread to be had (std::system_error, bad_alloc): refuse
            if (queued) {
              fn = std::move(jobs_.back());
              jobs_.pop_back();
            }
          }
        }
      }
    }
    t_refusing = true;
    refuse_(std::move(fn));
    t_refusing = false;
  }

  void shutdown() override {
    std::map<std::size_t, std::thread> threads;
    {
      MutexLock lock(mu_);
      stopping_ = true;
      ready_.notify_all();
    }
    // Workers run the queued tasks, then leave; join without the lock.
    for (;;) {
      {
        MutexLock lock(mu_);
        JoinRetired();
        if (threads_.empty()) break;
        threads.swap(threads_);
      }
      for (auto& [id, thread] : threads) thread.join();
      threads.clear();
    }
  }

 private:
  void Work(std::size_t id) {
    MutexLock lock(mu_);
    for (;;) {
      if (jobs_.empty()) {
        ++idle_;
        const auto retire_at = SteadyClock::now() + kIdleRetire;
        bool woken = true;  // by a job or by shutdown, not by kIdleRetire
        while (jobs_.empty() && !stopping_ && woken) woken = lock.WaitUntil(ready_, retire_at);
        woken = woken || !jobs_.empty() || stopping_;
        --idle_;
        if (jobs_.empty() && (stopping_ || (!woken && threads_.size() > kWarmThreads))) break;
        if (jobs_.empty()) continue;
      }
      auto fn = std::move(jobs_.front());
      jobs_.pop_front();
      lock.Unlock();
      fn();  // never throws: Listener catches everything
      fn = nullptr;
      lock.Lock();
    }
    retired_.push_back(id);
  }

  // Joins threads that have left Work (they no longer need mu_).
  void JoinRetired() CSRSIM_REQUIRES(mu_) {
    for (std::size_t id : retired_) {
      auto it = threads_.find(id);
      if (it == threads_.end()) continue;
      it->second.join();
      threads_.erase(it);
    }
    retired_.clear();
  }

  const std::size_t max_threads_;
  const std::function<void(std::function<void()>)> refuse_;
  Mutex mu_;
  std::condition_variable ready_;  // waited on with mu_
  std::deque<std::function<void()>> jobs_ CSRSIM_GUARDED_BY(mu_);
  std::map<std::size_t, std::thread> threads_ CSRSIM_GUARDED_BY(mu_);
  std::vector<std::size_t> retired_ CSRSIM_GUARDED_BY(mu_);
  std::size_t idle_ CSRSIM_GUARDED_BY(mu_) = 0;
  std::size_t next_id_ CSRSIM_GUARDED_BY(mu_) = 0;
  bool stopping_ CSRSIM_GUARDED_BY(mu_) = false;
};

// ---------------------------------------------------------------------------
// One connection's bytes

enum class ReadResult { kData, kTimeout, kClosed };

// Waits until `fd` has bytes to read (or its peer closed: the read says
// which), `deadline` passes, or poll fails.
ReadResult WaitReadable(int fd, SteadyClock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return ReadResult::kTimeout;
    pollfd watched{fd, POLLIN, 0};
    const int ready = poll(&watched, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000)));
    if (ready > 0) return ReadResult::kData;
    if (ready < 0 && errno != EINTR) return ReadResult::kClosed;
  }
}

// A connection's bytes, read and written through TLS when `tls` is given.
class Connection {
 public:
  explicit Connection(int fd, TlsSession* tls = nullptr) : fd_(fd), tls_(tls) {}

  int fd() const { return fd_; }

  std::string_view Buffered() const { return std::string_view(buffer_).substr(start_); }
  void Consume(std::size_t n) {
    start_ += n;
    if (start_ == buffer_.size()) {
      buffer_.clear();
      start_ = 0;
    } else if (start_ > kReadChunk) {
      buffer_.erase(0, start_);
      start_ = 0;
    }
  }
  // Waits until `deadline` for more bytes and appends them.
  ReadResult ReadMore(SteadyClock::time_point deadline) {
    if (tls_) return ReadTls(deadline);
    for (;;) {
      if (const ReadResult waited = WaitReadable(fd_, deadline); waited != ReadResult::kData) return waited;
      char chunk[kReadChunk];  // not buffer_.resize(): that would zero 16 KiB per read
      const auto got = recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (got > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(got));
        return ReadResult::kData;
      }
      if (got == 0) return ReadResult::kClosed;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return ReadResult::kClosed;
    }
  }
  // `pieces` one after the other, in one sendmsg for up to IOV_MAX of them,
  // without allocating (a TLS write of several pieces joins them first).
  bool Write(std::span<const std::string_view> pieces) const {
    if (tls_) return WriteTls(pieces);
    std::array<iovec, IOV_MAX> window;  // filled before each use
    std::size_t piece = 0;              // the first piece not sent whole yet
    std::size_t offset = 0;             // how much of it was sent
    for (;;) {
      std::size_t count = 0;
      for (std::size_t i = piece; i < pieces.size() && count < window.size(); ++i) {
        const std::string_view rest = pieces[i].substr(i == piece ? offset : 0);
        if (!rest.empty()) window[count++] = iovec{const_cast<char*>(rest.data()), rest.size()};
      }
      if (count == 0) return true;
      msghdr message{};
      message.msg_iov = window.data();
      message.msg_iovlen = count;
      const auto sent = sendmsg(fd_, &message, MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return false;  // includes the SO_SNDTIMEO write timeout
      for (auto left = static_cast<std::size_t>(sent); left > 0;) {
        const std::size_t rest = pieces[piece].size() - offset;
        if (left < rest) {  // a partial write: the rest of this piece next time
          offset += left;
          break;
        }
        left -= rest;
        ++piece;
        offset = 0;
      }
    }
  }
  bool Write(std::string_view bytes) const { return Write(std::span<const std::string_view>(&bytes, 1)); }

 private:
  bool WriteTls(std::span<const std::string_view> pieces) const {
    const auto deadline = SteadyClock::now() + kTlsWriteTimeout;
    if (pieces.size() == 1) return tls_->Write(pieces[0], deadline) == TlsResult::kOk;
    std::string joined;
    for (const auto piece : pieces) joined += piece;
    return tls_->Write(joined, deadline) == TlsResult::kOk;
  }
  ReadResult ReadTls(SteadyClock::time_point deadline) {
    char chunk[kReadChunk];
    std::size_t got = 0;
    const TlsResult result = tls_->Read(chunk, sizeof chunk, got, deadline);
    if (result == TlsResult::kOk) {
      buffer_.append(chunk, got);
      return ReadResult::kData;
    }
    return result == TlsResult::kTimeout ? ReadResult::kTimeout : ReadResult::kClosed;
  }

  int fd_;
  TlsSession* tls_;
  std::string buffer_;
  std::size_t start_ = 0;
};

// The first byte a client sends, left unread; nothing when it sends none
// before `deadline`.
std::optional<unsigned char> PeekFirstByte(int fd, SteadyClock::time_point deadline) {
  for (;;) {
    if (WaitReadable(fd, deadline) != ReadResult::kData) return std::nullopt;
    unsigned char byte = 0;
    const auto got = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (got == 1) return byte;
    if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return std::nullopt;
  }
}

std::string PeerAddress(int fd) {
  sockaddr_storage address{};
  socklen_t size = sizeof address;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return "";
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text, sizeof text);
  }
  return text;
}

// Used only when shaping an error itself failed (out of memory): fixed bytes.
constexpr std::string_view kLastResortResponse =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: 140\r\n"
    "Connection: close\r\n\r\n"
    "<ErrorResponse><ResponseStatus><ErrorCode>1016</ErrorCode><Description>The simulator is out of memory"
    "</Description></ResponseStatus></ErrorResponse>";

}  // namespace

// ---------------------------------------------------------------------------

struct HttpServer::Impl {
  // httplib's server with our connection loop in place of its own.
  class Listener : public httplib::Server {
   public:
    explicit Listener(Impl& impl) : impl_(impl) {}

   private:
    bool process_and_close_socket(socket_t sock) override {
      try {
        if (t_refusing) {
          impl_.Refuse(sock);
        } else {
          impl_.Serve(sock);
        }
      } catch (...) {  // nothing escapes into httplib; Serve has closed or will never use sock
      }
      return true;
    }
    Impl& impl_;
  };

  Impl(ServerOptions o, Handler h, ErrorHandler e)
      : options(std::move(o)), handler(std::move(h)), on_error(std::move(e)), server(*this) {
    limits.max_request_line = options.max_request_line;
    limits.max_header_bytes = options.max_header_bytes;
    limits.max_headers = options.max_headers;
    limits.max_body_bytes = options.max_body_bytes;
  }

  void Serve(int fd);
  // Answers the connection's requests until it closes; true when the
  // caller must close it through the lingerer. A connection with
  // `wrong_scheme` (plain HTTP to the HTTPS listener) gets it as its answer.
  bool ServeRequests(Connection& connection, const std::optional<Error>& wrong_scheme);
  // Waits for the next request's first byte: false when the connection
  // closed or idled past its timeout.
  bool AwaitRequest(Connection& connection, bool first);
  // The request's head, read by `deadline`; nothing when the client stalled or left.
  std::optional<http1::HeadParse> ReadHead(Connection& connection, SteadyClock::time_point deadline);
  static HttpRequest RequestFromHead(http1::RequestHead& head, const std::string& peer);
  // Runs the handler and writes its answer; true to keep reading requests.
  bool Answer(Connection& connection, HttpRequest& request, const http1::RequestHead& head,
              SteadyClock::time_point started);
  bool ServeTls(int fd);
  void Refuse(int fd);
  // Reads the body into request.body; on a refusal returns its Error.
  enum class BodyResult { kRead, kGone };
  BodyResult ReadBody(Connection& connection, const http1::RequestHead& head, HttpRequest& request,
                      std::optional<Error>& refused);
  HttpResponse Call(HttpRequest& request);
  HttpResponse Shape(const HttpRequest& request, const Error& error);
  bool Send(Connection& connection, HttpResponse& response, bool head_only, bool keep_alive);
  static void Log(const HttpRequest& request, int status, std::size_t bytes, SteadyClock::time_point started,
                  std::string_view outcome);
  bool Register(int fd);
  void Unregister(int fd);

  ServerOptions options;
  Handler handler;
  ErrorHandler on_error;
  http1::Limits limits;
  Lingerer lingerer;
  Listener server;
  std::thread thread;
  int port = 0;

  Mutex connections_mu;
  std::set<int> connections CSRSIM_GUARDED_BY(connections_mu);
  // Written under connections_mu; read without it by each answer (keep-alive).
  std::atomic<bool> stopping{false};
};

bool HttpServer::Impl::Register(int fd) {
  MutexLock lock(connections_mu);
  if (stopping) return false;
  connections.insert(fd);
  if (options.on_connection) options.on_connection(ConnectionEvent::kOpened);
  return true;
}

void HttpServer::Impl::Unregister(int fd) {
  MutexLock lock(connections_mu);
  connections.erase(fd);
  if (options.on_connection) options.on_connection(ConnectionEvent::kClosed);
}

// The access log: one info line per request, those the server refused itself
// included. `outcome`: answered, refused (a framing limit), over_capacity,
// over_capacity_closed (HTTPS, unanswered) or dropped_by_fault. `bytes`: the
// response body.
void HttpServer::Impl::Log(const HttpRequest& request, int status, std::size_t bytes, SteadyClock::time_point started,
                           std::string_view outcome) {
  Logger& log = ProcessLog();
  if (!log.Enabled(LogLevel::kInfo)) return;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started).count();
  log.Info("access", {{"method", request.method},
                      {"path", request.path},
                      {"status", status},
                      {"duration_us", micros},
                      {"bytes", bytes},
                      {"account", request.account},
                      {"remote", request.remote_addr},
                      {"outcome", outcome}});
}

HttpResponse HttpServer::Impl::Shape(const HttpRequest& request, const Error& error) {
  try {
    return on_error(request, error);
  } catch (...) {
    HttpResponse fallback;
    fallback.status = -1;  // Send writes kLastResortResponse
    return fallback;
  }
}

HttpResponse HttpServer::Impl::Call(HttpRequest& request) {
  // The application catches what its routes throw; this is the last net, so
  // that nothing escapes into httplib. The cause goes to the log only.
  try {
    return handler(request);
  } catch (...) {
    return Shape(request, CurrentError(request));
  }
}

bool HttpServer::Impl::Send(Connection& connection, HttpResponse& response, bool head_only, bool keep_alive) {
  if (response.status < 0) {
    connection.Write(kLastResortResponse);
    return false;  // that answer closes the connection
  }
  if (!response.stream) {
    std::string bytes = http1::ResponseHead(response, response.body.size(), false, keep_alive);
    if (!head_only) bytes += response.body;
    return connection.Write(bytes);
  }
  if (!connection.Write(http1::ResponseHead(response, 0, true, keep_alive))) return false;
  if (head_only) return true;
  // Each chunk goes to the socket as it is produced.
  bool alive = true;
  std::vector<std::string_view> framed;
  response.stream([&connection, &alive, &framed](std::span<const std::string_view> pieces) {
    if (!alive) return false;
    std::size_t size = 0;
    for (const auto piece : pieces) size += piece.size();
    if (size == 0) return true;
    const std::string size_line = http1::ChunkSizeLine(size);
    framed.assign(1, size_line);
    framed.insert(framed.end(), pieces.begin(), pieces.end());
    framed.emplace_back("\r\n");
    alive = connection.Write(std::span<const std::string_view>(framed));
    return alive;
  });
  return alive && connection.Write(http1::Chunk({}));
}

HttpServer::Impl::BodyResult HttpServer::Impl::ReadBody(Connection& connection, const http1::RequestHead& head,
                                                        HttpRequest& request, std::optional<Error>& refused) {
  if (head.framing == http1::BodyFraming::kNone) return BodyResult::kRead;
  if (head.expect_continue && head.minor_version == 1 && connection.Buffered().empty()) {
    if (!connection.Write("HTTP/1.1 100 Continue\r\n\r\n")) return BodyResult::kGone;
  }
  if (head.framing == http1::BodyFraming::kLength) {
    while (connection.Buffered().size() < head.content_length) {
      if (connection.ReadMore(SteadyClock::now() + options.header_timeout) != ReadResult::kData) {
        return BodyResult::kGone;
      }
    }
    request.body.assign(connection.Buffered().substr(0, head.content_length));
    connection.Consume(head.content_length);
    return BodyResult::kRead;
  }
  http1::ChunkedDecoder decoder(limits);
  for (;;) {
    std::size_t consumed = 0;
    const auto status = decoder.Feed(connection.Buffered(), request.body, consumed);
    connection.Consume(consumed);
    if (status == http1::ChunkedDecoder::Status::kDone) return BodyResult::kRead;
    if (status == http1::ChunkedDecoder::Status::kRefused) {
      refused = decoder.error();
      return BodyResult::kRead;
    }
    if (connection.ReadMore(SteadyClock::now() + options.header_timeout) != ReadResult::kData) {
      return BodyResult::kGone;
    }
  }
}

void HttpServer::Impl::Serve(int fd) {
  if (!Register(fd)) {
    close(fd);
    return;
  }
  int yes = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  bool linger = false;  // close through the lingerer: the client may still be sending
  try {
    if (options.tls) {
      linger = ServeTls(fd);
    } else {
      Connection connection(fd);
      linger = ServeRequests(connection, std::nullopt);
    }
  } catch (...) {
    // Out of memory while reading (the request was not answered): close.
  }
  Unregister(fd);
  if (linger) {
    lingerer.Add(fd);
  } else {
    close(fd);
  }
}

bool HttpServer::Impl::ServeTls(int fd) {
  const auto handshake_deadline = SteadyClock::now() + options.header_timeout;
  const auto first = PeekFirstByte(fd, handshake_deadline);
  if (!first) return false;
  if (!LooksLikeTlsHandshake(*first)) {
    Connection plain(fd);
    return ServeRequests(plain, Error::MalformedRequest("This simulator serves HTTPS only (--tls-cert): send the "
                                                        "request to https:// on this port"));
  }
  TlsSession session(*options.tls, fd);
  if (session.Handshake(handshake_deadline) != TlsResult::kOk) return false;  // not a client we can talk to
  Connection connection(fd, &session);
  const bool linger = ServeRequests(connection, std::nullopt);
  session.Close();
  return linger;
}

bool HttpServer::Impl::AwaitRequest(Connection& connection, bool first) {
  if (!connection.Buffered().empty()) return true;  // pipelined: the next request is here already
  const auto idle = first ? options.header_timeout : options.keep_alive_timeout;
  return connection.ReadMore(SteadyClock::now() + idle) == ReadResult::kData;
}

std::optional<http1::HeadParse> HttpServer::Impl::ReadHead(Connection& connection, SteadyClock::time_point deadline) {
  for (;;) {
    http1::HeadParse parsed = http1::ParseRequestHead(connection.Buffered(), limits);
    if (parsed.status != http1::HeadParse::Status::kIncomplete) return parsed;
    // A slow or gone client is closed without an answer.
    if (connection.ReadMore(deadline) != ReadResult::kData) return std::nullopt;
  }
}

HttpRequest HttpServer::Impl::RequestFromHead(http1::RequestHead& head, const std::string& peer) {
  HttpRequest request;
  request.method = head.method == "HEAD" ? "GET" : head.method;
  request.path = std::move(head.path);
  request.target = std::move(head.target);
  request.remote_addr = peer;
  for (auto& [name, value] : ParseFormUrlEncoded(head.query_string)) {
    request.query.emplace(std::move(name), std::move(value));
  }
  return request;
}

bool HttpServer::Impl::Answer(Connection& connection, HttpRequest& request, const http1::RequestHead& head,
                              SteadyClock::time_point started) {
  const std::string path = request.path;  // the handler may rewrite it (the API strips its prefix)
  HttpResponse response = Call(request);
  request.path = path;
  if (response.drop_connection) {
    Log(request, 0, 0, started, "dropped_by_fault");
    shutdown(connection.fd(), SHUT_RDWR);
    return false;
  }
  const bool keep_alive = head.keep_alive && !stopping.load();
  const bool sent = Send(connection, response, head.method == "HEAD", keep_alive);
  Log(request, response.status, response.body.size(), started, "answered");
  return sent && keep_alive;
}

bool HttpServer::Impl::ServeRequests(Connection& connection, const std::optional<Error>& wrong_scheme) {
  const std::string peer = PeerAddress(connection.fd());
  for (bool first = true;; first = false) {
    if (!AwaitRequest(connection, first)) return false;
    const auto started = SteadyClock::now();
    std::optional<http1::HeadParse> parsed = ReadHead(connection, started + options.header_timeout);
    if (!parsed) return false;
    http1::RequestHead& head = parsed->head;
    HttpRequest request = RequestFromHead(head, peer);
    std::optional<Error> refused = std::move(parsed->error);
    if (!refused) refused = wrong_scheme;
    if (!refused) {
      connection.Consume(parsed->consumed);
      request.headers = std::move(head.headers);
      if (ReadBody(connection, head, request, refused) == BodyResult::kGone) return false;
    }
    if (refused) {
      HttpResponse response = Shape(request, *refused);
      Send(connection, response, head.method == "HEAD", false);
      Log(request, response.status, response.body.size(), started, "refused");
      return true;
    }
    if (!Answer(connection, request, head, started)) return false;
  }
}

void HttpServer::Impl::Refuse(int fd) {
  // On the accept thread: nothing here may block. Read the request if it
  // was sent already, so the answer has the shape of its route.
  const auto started = SteadyClock::now();
  if (options.tls) {  // a TLS handshake would block the accept thread: closed unanswered
    Log(HttpRequest{}, 0, 0, started, "over_capacity_closed");
    if (options.on_connection) options.on_connection(ConnectionEvent::kRefused);
    close(fd);
    return;
  }
  std::string bytes(limits.max_request_line + 16, '\0');
  const auto got = recv(fd, bytes.data(), bytes.size(), MSG_DONTWAIT);
  bytes.resize(static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
  HttpRequest request;
  if (auto line_end = bytes.find('\n'); line_end != std::string::npos) {
    // Only the request line matters here: parse it as a head of its own.
    auto parsed = http1::ParseRequestHead(bytes.substr(0, line_end + 1) + "\r\n", limits);
    request.method = parsed.head.method;
    request.path = parsed.head.path;
  }
  HttpResponse response = Shape(request, Error::CapacityExceeded("The simulator is serving its maximum of " +
                                                                 std::to_string(options.max_connections) +
                                                                 " connections (--max-connections); try again later"));
  std::string answer = response.status < 0
                           ? std::string(kLastResortResponse)
                           : http1::ResponseHead(response, response.body.size(), false, false) + response.body;
  [[maybe_unused]] auto sent = send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  Log(request, response.status, response.status < 0 ? 0 : response.body.size(), started, "over_capacity");
  if (options.on_connection) options.on_connection(ConnectionEvent::kRefused);
  lingerer.Add(fd);
}

// ---------------------------------------------------------------------------

HttpServer::HttpServer(ServerOptions options, Handler handler, ErrorHandler on_error)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(on_error))) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::Start() {
  auto& server = impl_->server;
  const std::size_t max_connections = impl_->options.max_connections;
  server.new_task_queue = [max_connections] {
    return new ElasticPool(max_connections, [](const std::function<void()>& refuse) { refuse(); });
  };
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
  {
    // Idle keep-alive connections would hold their thread for the whole
    // keep-alive timeout: end their reading side. A request in flight still
    // writes its response, then its connection closes.
    MutexLock lock(impl_->connections_mu);
    impl_->stopping = true;
    for (int fd : impl_->connections) shutdown(fd, SHUT_RD);
  }
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace csrsim
