#include "receiver.hpp"

#include <algorithm>
#include <cctype>

namespace csrsim::testing {

std::optional<std::string> CallbackReceiver::Received::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return value;
    }
  }
  return std::nullopt;
}

CallbackReceiver::CallbackReceiver(ReceiverOptions options) : holding_(options.holding) {
  server_.set_tcp_nodelay(true);
  server_.new_task_queue = [threads = options.threads] { return new httplib::ThreadPool(threads); };
  server_.Post(".*",
               [this](const httplib::Request& request, httplib::Response& response) { Handle(request, response); });
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::yield();
}

CallbackReceiver::~CallbackReceiver() {
  Release();
  server_.stop();
  thread_.join();
}

void CallbackReceiver::Handle(const httplib::Request& request, httplib::Response& response) {
  Responder respond;
  std::size_t index = 0;
  {
    std::unique_lock lock(mu_);
    Received received{request.method, request.path, request.body, {}};
    for (const auto& [name, value] : request.headers) received.headers.emplace(name, value);
    index = received_.size();
    received_.push_back(std::move(received));
    response.status = status_;
    respond = responder_;
    changed_.notify_all();
    if (holding_) {
      ++held_;
      changed_.notify_all();
      changed_.wait_for(lock, std::chrono::seconds(60), [this] { return released_; });
      --held_;
    }
  }
  if (respond) respond(request, response, index);
}

std::string CallbackReceiver::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void CallbackReceiver::SetStatus(int status) {
  std::lock_guard lock(mu_);
  status_ = status;
}

void CallbackReceiver::SetResponder(Responder respond) {
  std::lock_guard lock(mu_);
  responder_ = std::move(respond);
}

void CallbackReceiver::SetResponder(std::function<void(const httplib::Request&, httplib::Response&)> respond) {
  SetResponder(Responder([respond = std::move(respond)](const httplib::Request& request, httplib::Response& response,
                                                        std::size_t) { respond(request, response); }));
}

std::vector<CallbackReceiver::Received> CallbackReceiver::Requests() const {
  std::lock_guard lock(mu_);
  return received_;
}

bool CallbackReceiver::WaitForCount(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
}

bool CallbackReceiver::WaitUntilHolding(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, timeout, [this] { return held_ > 0; });
}

void CallbackReceiver::Release() {
  std::lock_guard lock(mu_);
  released_ = true;
  changed_.notify_all();
}

}  // namespace csrsim::testing
