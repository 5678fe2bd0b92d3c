// The cpp-httplib callback transport (callback_transport.hpp); reason phrases from http1.hpp.
#include "csrsim/callback_transport.hpp"

#include <httplib.h>

#include <unordered_map>

#include "csrsim/http1.hpp"

namespace csrsim {

std::string StatusText(int status) {
  std::string text = std::to_string(status);
  if (auto reason = http1::ReasonPhrase(status); !reason.empty()) {
    text += ' ';
    text += reason;
  }
  return text;
}

namespace {

std::string TransportErrorText(httplib::Error error, bool timed_out) {
  switch (error) {
    case httplib::Error::Connection:
      return "connection refused";
    case httplib::Error::ConnectionTimeout:
      return "timeout";
    case httplib::Error::Read:
      return timed_out ? "timeout" : "connection closed without a response";
    case httplib::Error::Write:
      return timed_out ? "timeout" : "connection closed while sending";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLServerVerification:
      return "TLS certificate rejected";
    default:
      return "transport error: " + httplib::to_string(error);
  }
}

// The keep-alive connections of one worker. A worker keeps them only while it
// has deliveries back to back and closes them before it idles, so it never
// holds a receiver's connection (and, with thread-per-connection servers such
// as cpp-httplib's, a receiver thread) while it has nothing to send.
class ConnectionCache {
 public:
  explicit ConnectionCache(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  httplib::ClientImpl& For(const HttpUrl& url) {
    auto& client = clients_[OriginOf(url)];
    if (client) return *client;
    if (clients_.size() > kMaxOrigins) {
      clients_.clear();
      return For(url);
    }
    if (url.https) {
      auto ssl = std::make_unique<httplib::SSLClient>(url.host, url.port);
      ssl->enable_server_certificate_verification(false);
      client = std::move(ssl);
    } else {
      client = std::make_unique<httplib::ClientImpl>(url.host, url.port);
    }
    client->set_connection_timeout(timeout_);
    client->set_read_timeout(timeout_);
    client->set_write_timeout(timeout_);
    client->set_tcp_nodelay(true);
    client->set_keep_alive(true);
    return *client;
  }
  void Discard(const HttpUrl& url) { clients_.erase(OriginOf(url)); }
  void Clear() { clients_.clear(); }

 private:
  static constexpr std::size_t kMaxOrigins = 16;
  static std::string OriginOf(const HttpUrl& url) {
    return (url.https ? "https://" : "http://") + url.host + ':' + std::to_string(url.port);
  }

  const std::chrono::milliseconds timeout_;
  std::unordered_map<std::string, std::unique_ptr<httplib::ClientImpl>> clients_;
};

class HttplibSession final : public CallbackSession {
 public:
  explicit HttplibSession(std::chrono::milliseconds timeout) : timeout_(timeout), connections_(timeout) {}

  CallbackAnswer Post(const CallbackPost& post) override {
    httplib::Headers headers;
    std::string content_type;
    for (const auto& [name, value] : post.headers) {
      if (name == "Content-Type") {
        content_type = value;  // httplib sends it from its own argument
      } else {
        headers.emplace(name, value);
      }
    }
    const auto wall_start = std::chrono::steady_clock::now();
    auto response = connections_.For(post.url).Post(post.url.target, headers, std::string(post.body), content_type);
    CallbackAnswer answer;
    if (response) {
      answer.status = response->status;
      answer.challenged = response->status == 401 && response->has_header("WWW-Authenticate");
      // Do not race the receiver's close on a connection it will not keep.
      if (response->get_header_value("Connection") == "close") connections_.Discard(post.url);
    } else {
      const bool timed_out = std::chrono::steady_clock::now() - wall_start >= timeout_;
      answer.error = TransportErrorText(response.error(), timed_out);
      connections_.Discard(post.url);
    }
    return answer;
  }

  void Idle() override { connections_.Clear(); }

 private:
  const std::chrono::milliseconds timeout_;
  ConnectionCache connections_;
};

class HttplibTransport final : public CallbackTransport {
 public:
  explicit HttplibTransport(std::chrono::milliseconds timeout) : timeout_(timeout) {}
  std::unique_ptr<CallbackSession> OpenSession() override { return std::make_unique<HttplibSession>(timeout_); }

 private:
  const std::chrono::milliseconds timeout_;
};

}  // namespace

std::shared_ptr<CallbackTransport> MakeHttpTransport(std::chrono::milliseconds attempt_timeout) {
  return std::make_shared<HttplibTransport>(attempt_timeout);
}

}  // namespace csrsim
