// Loopback ports that misbehave on purpose, for callback receivers that are
// down: one that refuses every connection, one that hangs.
//
// Thread-safety: not shared between threads.
#pragma once

#include <string>

namespace csrsim::testing {

// A loopback port that is bound but not listening: every connection to it is
// refused at once.
class RefusingPort {
 public:
  RefusingPort();  // throws std::runtime_error when no port can be bound
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path = "/callbacks") const;

 private:
  int fd_;
  int port_ = 0;
};

// A loopback port that listens but never accepts: the kernel completes each
// connection into the backlog and takes the request bytes, and nothing ever
// answers. Close() resets every waiting connection.
class DeadPort {
 public:
  DeadPort();  // throws std::runtime_error when no port can be bound
  ~DeadPort();
  DeadPort(const DeadPort&) = delete;
  DeadPort& operator=(const DeadPort&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path = "/callbacks") const;
  void Close();

 private:
  int fd_;
  int port_ = 0;
};

}  // namespace csrsim::testing
