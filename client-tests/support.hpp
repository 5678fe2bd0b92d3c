// Test support for client tests: run the real csr-simulator binary as a
// downstream system would, and receive its callbacks on a local HTTP server.
//
// Everything binds port 0 on 127.0.0.1; nothing sleeps: the simulator's port
// is read from its stdout ("listening on 127.0.0.1:PORT"), and receivers wait
// on condition variables.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "receiver.hpp"  // CallbackReceiver (test-support/)
#include "temp_dir.hpp"  // TempDir, MakeTempDir, WriteFile (test-support/)

namespace csrsim::testing {

// The public guide's create body: CustomerOrderId MyId5, TN 9198675309.
inline const std::string kGuideCsrBody =
    "<Csr><CustomerOrderId>MyId5</CustomerOrderId>"
    "<WorkingOrBillingTelephoneNumber>9198675309</WorkingOrBillingTelephoneNumber></Csr>";

// The arguments of a simulator on the manual clock that logs nothing.
inline const std::vector<std::string> kManual = {"--clock", "manual", "--log-level", "off"};

// A create body for `tn`, with `extra` elements after the TN.
std::string CsrBody(const std::string& tn, const std::string& extra = "");

// The guide's Basic credentials ("username:password") as a header value.
std::string GuideAuthorization();
std::string BasicAuthorization(const std::string& user, const std::string& password);

// The real binary (CSRSIM_BINARY), started with --port 0 plus `args`.
class SimulatorProcess {
 public:
  explicit SimulatorProcess(std::vector<std::string> args = {});
  ~SimulatorProcess();  // Stop()
  SimulatorProcess(const SimulatorProcess&) = delete;
  SimulatorProcess& operator=(const SimulatorProcess&) = delete;

  int port() const { return port_; }
  std::string BaseUrl() const;  // http://127.0.0.1:PORT
  // A client with 10 s timeouts and, when `authorization` is non-empty, that
  // Authorization header on every request.
  std::unique_ptr<httplib::Client> Client(const std::string& authorization = GuideAuthorization()) const;
  // Sends `signal` (SIGTERM: a graceful stop; 9: a crash), waits; returns the
  // exit code (or 128+signal). Idempotent.
  int Stop(int signal = 15);
  int pid() const { return pid_; }
  // Everything the process wrote to stderr so far (after Stop: all of it).
  std::string Stderr() const;

 private:
  int pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  std::string stderr_path_;
};

// Runs the binary to completion with `args` (e.g. {"validate", path});
// returns exit code, stdout and stderr.
struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
ProcessResult RunBinary(const std::vector<std::string>& args);

// POST /_sim/clock/advance {"by": by} (e.g. "3s") on a --clock manual
// simulator; returns once due steps ran and their callbacks were attempted.
// True when the simulator answered 200.
bool AdvanceClock(const SimulatorProcess& simulator, const std::string& by);

// A <Subscription> request body for callbacks to `url`, Basic credentials
// cb-user / cb-pass unless changed; setters chain.
struct SubscriptionRequest {
  explicit SubscriptionRequest(std::string callback_url) : url(std::move(callback_url)) {}
  SubscriptionRequest& ForOrder(std::string id) {
    order_id = std::move(id);
    return *this;
  }
  SubscriptionRequest& WithExpiry(long long seconds) {
    expiry = seconds;
    return *this;
  }
  SubscriptionRequest& WithCredentials(std::string user, std::string pass) {
    username = std::move(user);
    password = std::move(pass);
    return *this;
  }
  std::string Xml() const;

  std::string url;
  std::string order_type = "csrs";
  std::string order_id;              // empty: account-wide
  std::optional<long long> expiry;   // nullopt: no <Expiry>
  std::string username = "cb-user";  // both empty: no <CallbackCredentials>
  std::string password = "cb-pass";
};

// The usual start of a callback test: subscribes `callback_url` to account
// `account`'s orders (SubscriptionRequest's defaults), then POSTs `csr_body`
// to the account's /csrs. REQUIREs the 201 and the 200; returns the order's id.
std::string SubscribeAndCreate(httplib::Client& api, const std::string& account, const std::string& callback_url,
                               const std::string& csr_body = kGuideCsrBody);

// A response read off a RawConnection.
struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  // The value of header `name` (any case), leading spaces dropped.
  std::optional<std::string> Header(const std::string& name) const;
};

// One client connection to 127.0.0.1:port over a plain socket: exactly the
// bytes a test writes. Every wait is bounded (30 s unless told).
class RawConnection {
 public:
  static constexpr std::chrono::milliseconds kBound = std::chrono::seconds(30);

  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes);
  // Reads one response (Content-Length framed, or none for 204/1xx).
  std::optional<RawResponse> Read(std::chrono::milliseconds bound = kBound);
  // True when the server closes the connection (all it sent is discarded).
  bool WaitClosed(std::chrono::milliseconds bound = kBound);
  // Whether the server has sent something (or closed) by now, without waiting.
  bool Answered();
  int fd() const { return fd_; }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

// The id at the end of a response's Location header ("" when absent).
std::string LocationId(const httplib::Result& response);

// Name of the root element of `xml` (after any prolog), "" when there is none.
std::string XmlRoot(const std::string& xml);

// Text of the first <name>...</name> element in `xml` (tests read responses
// like a client would, without a full parser). nullopt when absent.
std::optional<std::string> XmlText(const std::string& xml, const std::string& name);
// Number of <name> or <name/> elements in `xml`.
std::size_t XmlCount(const std::string& xml, const std::string& name);

}  // namespace csrsim::testing
