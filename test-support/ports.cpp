#include "ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace csrsim::testing {

namespace {

// Binds `fd` to 127.0.0.1:<any port> and returns the port.
int BindLoopback(int fd) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("cannot bind a loopback port");
  }
  return ntohs(address.sin_port);
}

std::string LoopbackUrl(int port, const std::string& path) { return "http://127.0.0.1:" + std::to_string(port) + path; }

}  // namespace

RefusingPort::RefusingPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)), port_(BindLoopback(fd_)) {}

RefusingPort::~RefusingPort() { close(fd_); }

std::string RefusingPort::Url(const std::string& path) const { return LoopbackUrl(port_, path); }

DeadPort::DeadPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)), port_(BindLoopback(fd_)) {
  if (listen(fd_, 128) != 0) throw std::runtime_error("cannot listen on a loopback port");
}

DeadPort::~DeadPort() { Close(); }

std::string DeadPort::Url(const std::string& path) const { return LoopbackUrl(port_, path); }

void DeadPort::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace csrsim::testing
