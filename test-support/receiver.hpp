// A local HTTP server on 127.0.0.1:<any port> that records every request it
// gets: the callback receiver of the unit and client tests.
//
// Thread-safety: every method is safe from any thread; requests are handled on
// the receiver's own threads.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace csrsim::testing {

struct ReceiverOptions {
  std::size_t threads = 8;  // connections served at once (httplib: one thread each)
  bool holding = false;     // every request waits unanswered until Release()
};

class CallbackReceiver {
 public:
  struct Received {
    std::string method;
    std::string path;
    std::string body;
    std::multimap<std::string, std::string> headers;  // names as sent
    // The first header of that name, compared case-insensitively.
    std::optional<std::string> Header(const std::string& name) const;
  };
  // Shapes the answer to the request; `index` counts requests from 0.
  using Responder = std::function<void(const httplib::Request&, httplib::Response&, std::size_t index)>;

  explicit CallbackReceiver(ReceiverOptions options = {});
  ~CallbackReceiver();  // releases held requests, stops
  CallbackReceiver(const CallbackReceiver&) = delete;
  CallbackReceiver& operator=(const CallbackReceiver&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path = "/callbacks") const;
  // Status for the following requests (default 200); a responder overrides it.
  void SetStatus(int status);
  void SetResponder(Responder respond);
  void SetResponder(std::function<void(const httplib::Request&, httplib::Response&)> respond);

  std::vector<Received> Requests() const;
  // Waits (wall time) until `count` requests arrived.
  bool WaitForCount(std::size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  // With ReceiverOptions::holding: waits until a request is being held; then
  // Release() answers every held and later request.
  bool WaitUntilHolding(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  void Release();

 private:
  void Handle(const httplib::Request& request, httplib::Response& response);

  const bool holding_;
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<Received> received_;  // guarded by mu_
  int status_ = 200;                // guarded by mu_
  Responder responder_;             // guarded by mu_
  std::size_t held_ = 0;            // guarded by mu_
  bool released_ = false;           // guarded by mu_
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace csrsim::testing
