// callback_transport: how the dispatcher puts one POST on the wire. The
// interface keeps the dispatcher free of sockets, so its ordering, retry,
// challenge and fault behaviour is testable on a fake transport; the httplib
// implementation (MakeHttpTransport) is the only place that uses cpp-httplib's
// client, with its keep-alive connection cache.
//
// Thread-safety: a CallbackTransport is shared by every worker and must be
// safe from any thread. A CallbackSession belongs to one worker thread at a
// time and need not be thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csrsim/url.hpp"

namespace csrsim {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct CallbackPost {
  const HttpUrl& url;
  const HeaderList& headers;  // sent as given; "Content-Type" among them
  std::string_view body;
};

struct CallbackAnswer {
  int status = 0;           // 0 when no HTTP response arrived
  bool challenged = false;  // a 401 carrying WWW-Authenticate
  std::string error;        // when status is 0: "connection refused", "timeout", ...
};

// One worker's connections. Post blocks until the answer, a transport error
// or the attempt time-out.
class CallbackSession {
 public:
  virtual ~CallbackSession() = default;
  virtual CallbackAnswer Post(const CallbackPost& post) = 0;
  // The worker has nothing to send: let go of kept-alive connections, so an
  // idle worker never holds a receiver's connection (and, with
  // thread-per-connection receivers, one of its threads).
  virtual void Idle() = 0;
};

class CallbackTransport {
 public:
  virtual ~CallbackTransport() = default;
  virtual std::unique_ptr<CallbackSession> OpenSession() = 0;
};

// POSTs with cpp-httplib: keep-alive connections per worker and origin
// (scheme://host:port, at most 16 per worker), `attempt_timeout` for connect,
// read and write; https without certificate verification.
std::shared_ptr<CallbackTransport> MakeHttpTransport(std::chrono::milliseconds attempt_timeout);

// "200 OK", "503 Service Unavailable"; the bare number for an unknown status.
std::string StatusText(int status);

}  // namespace csrsim
