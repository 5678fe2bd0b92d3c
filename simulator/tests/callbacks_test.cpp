#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

// The httplib transport and the journal against real local receivers; the
// dispatcher's own behaviour is tested on a fake transport in dispatcher_test.cpp.
#include "csrsim/callbacks.hpp"
#include "delivery_support.hpp"

using namespace csrsim;
using csrsim::testing::HeaderOf;
using csrsim::testing::MakeDelivery;
using namespace std::chrono_literals;

namespace {

constexpr auto kPatience = 10s;  // wall-time bound for waits that should end at once

// A one-shot gate: Wait() blocks until Open().
class Gate {
 public:
  void Open() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    opened_.notify_all();
  }
  bool Wait(std::chrono::milliseconds timeout = kPatience) {
    std::unique_lock lock(mu_);
    return opened_.wait_for(lock, timeout, [this] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable opened_;
  bool open_ = false;
};

struct ReceivedRequest {
  std::string path;
  std::string body;
  std::string authorization;  // "" when absent
  std::string content_type;
  std::string user_agent;
};

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Decides the reply to the n-th (0-based) request a receiver gets.
using Responder = std::function<Reply(const ReceivedRequest&, std::size_t index)>;

Reply AlwaysOk(const ReceivedRequest&, std::size_t) { return {}; }

struct ReceiverOptions {
  bool holding = false;     // keep each request unanswered until Release()
  std::size_t threads = 8;  // cpp-httplib serves one connection per thread
};

// A local callback receiver on 127.0.0.1:<any port> recording every POST.
class Receiver {
 public:
  explicit Receiver(Responder responder = AlwaysOk, ReceiverOptions options = {})
      : responder_(std::move(responder)), holding_(options.holding) {
    server_.set_tcp_nodelay(true);
    server_.new_task_queue = [threads = options.threads] { return new httplib::ThreadPool(threads); };
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      Handle(req, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~Receiver() {
    Release();
    server_.stop();
    thread_.join();
  }

  std::string Url(const std::string& path = "/callbacks") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Waits until a request is being held.
  bool WaitUntilHolding() { return holding_request_.Wait(); }
  void Release() { release_.Open(); }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    ReceivedRequest received{req.path, req.body, req.get_header_value("Authorization"),
                             req.get_header_value("Content-Type"),
                             req.get_header_value("User-Agent")};
    std::size_t index = 0;
    {
      std::lock_guard lock(mu_);
      index = requests_.size();
      requests_.push_back(received);
    }
    if (holding_) {
      holding_request_.Open();
      release_.Wait(60s);
    }
    Reply reply = responder_(received, index);
    res.status = reply.status;
    for (auto& [name, value] : reply.headers) res.set_header(name, value);
  }

  Responder responder_;
  bool holding_;
  Gate holding_request_;
  Gate release_;
  mutable std::mutex mu_;
  std::vector<ReceivedRequest> requests_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// A loopback port that refuses connections: bound, never listening.
class RefusingPort {
 public:
  RefusingPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { close(fd_); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/callbacks"; }

 private:
  int fd_;
  int port_ = 0;
};

using Harness = csrsim::testing::DispatcherHarness;

}  // namespace

// ---------------------------------------------------------------------------
// Delivery and authentication

TEST_CASE("pre-emptive Basic credentials reach the receiver on the first POST") {
  Receiver receiver;
  Harness harness;
  Delivery delivery = MakeDelivery(receiver.Url("/hooks/csr?token=1"), "order-1", "<Notification>1</Notification>");
  delivery.credentials = BasicCredentials{"alice", "s3cret"};
  harness.dispatcher->Submit(delivery);
  harness.dispatcher->WaitIdle();

  auto requests = receiver.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].path == "/hooks/csr");
  CHECK(requests[0].authorization == "Basic YWxpY2U6czNjcmV0");  // alice:s3cret
  CHECK(requests[0].content_type == "application/xml; charset=utf-8");
  CHECK(requests[0].user_agent == "csr-simulator");
  CHECK(requests[0].body == "<Notification>1</Notification>");

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].id == 1);
  CHECK(entries[0].attempt == 1);
  CHECK(entries[0].response_status == 200);
  CHECK(entries[0].Succeeded());
  CHECK(entries[0].error.empty());
  CHECK(entries[0].fault.empty());
  CHECK(HeaderOf(entries[0], "Authorization") == "Basic YWxpY2U6czNjcmV0");
  CHECK(entries[0].status == OrderStatus::kComplete);
  CHECK(entries[0].scheduled_at == ManualClock::DefaultStart());
  CHECK(entries[0].sent_at == harness.clock.Now());
  CHECK(entries[0].finished_at == harness.clock.Now());
  CHECK(entries[0].wall_micros > 0);
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"200 OK"});
  CHECK(harness.outcomes[0].subscription_id == "sub-1");
}

TEST_CASE("a delivery without credentials sends no Authorization header") {
  Receiver receiver;
  Harness harness;
  harness.dispatcher->Submit(MakeDelivery(receiver.Url()));
  harness.dispatcher->WaitIdle();
  REQUIRE(receiver.requests().size() == 1);
  CHECK(receiver.requests()[0].authorization.empty());
  CHECK_FALSE(HeaderOf(harness.Entries().at(0), "Authorization"));
}

TEST_CASE("in the challenge flow a 401 with WWW-Authenticate is answered with credentials") {
  Receiver receiver([](const ReceivedRequest& request, std::size_t) {
    if (request.authorization.empty()) return Reply{401, {{"WWW-Authenticate", "Basic realm=\"csr\""}}};
    return Reply{};
  });
  Harness harness;
  harness.dispatcher->SetAuthMode(CallbackAuthMode::kChallenge);
  Delivery delivery = MakeDelivery(receiver.Url());
  delivery.credentials = BasicCredentials{"eve", "passwd"};
  harness.dispatcher->Submit(delivery);
  harness.dispatcher->WaitIdle();

  auto requests = receiver.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].authorization.empty());
  CHECK(requests[1].authorization == "Basic ZXZlOnBhc3N3ZA==");  // eve:passwd

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].attempt == 1);
  CHECK(entries[0].response_status == 401);
  CHECK_FALSE(HeaderOf(entries[0], "Authorization"));
  CHECK(entries[1].attempt == 2);
  CHECK(entries[1].response_status == 200);
  CHECK(HeaderOf(entries[1], "Authorization") == "Basic ZXZlOnBhc3N3ZA==");
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"200 OK"});
}

TEST_CASE("a receiver answering 500 is journaled and reported as 500 Internal Server Error") {
  Receiver receiver([](const ReceivedRequest&, std::size_t) { return Reply{500, {}}; });
  Harness harness;
  harness.dispatcher->Submit(MakeDelivery(receiver.Url()));
  harness.dispatcher->WaitIdle();

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].response_status == 500);
  CHECK_FALSE(entries[0].Succeeded());
  CHECK(entries[0].error.empty());
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"500 Internal Server Error"});
}

TEST_CASE("a port with nothing listening is journaled as a transport error") {
  RefusingPort refusing;
  Harness harness;
  harness.dispatcher->Submit(MakeDelivery(refusing.Url()));
  harness.dispatcher->WaitIdle();

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].response_status == 0);
  CHECK(entries[0].error == "connection refused");
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"connection refused"});
}

// ---------------------------------------------------------------------------
// Ordering and isolation

TEST_CASE("a hanging receiver does not delay another order's delivery") {
  Receiver hanging(AlwaysOk, {.holding = true});
  Receiver healthy;
  DispatcherOptions options;
  options.workers = 2;
  options.max_in_flight_per_host = 2;  // one each for the two ports of 127.0.0.1
  options.max_in_flight_per_account = 2;
  options.attempt_timeout = 30s;  // far longer than the wait below
  Harness harness(options);

  harness.dispatcher->Submit(MakeDelivery(hanging.Url(), "order-slow"));
  REQUIRE(hanging.WaitUntilHolding());
  harness.dispatcher->Submit(MakeDelivery(healthy.Url(), "order-fast"));

  JournalFilter fast;
  fast.order_id = "order-fast";
  auto entry = harness.journal.WaitFor(fast, 5s);
  REQUIRE(entry);
  CHECK(entry->response_status == 200);
  CHECK(healthy.requests().size() == 1);
  CHECK(harness.Entries("order-slow").empty());  // still in flight

  hanging.Release();
  harness.dispatcher->WaitIdle();
  REQUIRE(harness.Entries("order-slow").size() == 1);
  CHECK(harness.Entries("order-slow")[0].response_status == 200);
}

TEST_CASE("idle workers let go of keep-alive connections, so a one-thread receiver serves every order") {
  Receiver receiver(AlwaysOk, {.threads = 1});
  DispatcherOptions options;
  options.workers = 2;
  options.attempt_timeout = 2s;  // shorter than the receiver's 5s keep-alive wait
  Harness harness(options);
  harness.dispatcher->Submit(MakeDelivery(receiver.Url(), "order-1"));
  harness.dispatcher->Submit(MakeDelivery(receiver.Url(), "order-2"));
  harness.dispatcher->WaitIdle();

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].response_status == 200);
  CHECK(entries[1].response_status == 200);
}

// ---------------------------------------------------------------------------
// Stop

TEST_CASE("Stop finishes the attempt in flight and drops queued deliveries") {
  Receiver receiver(AlwaysOk, {.holding = true});
  DispatcherOptions options;
  options.workers = 1;
  options.attempt_timeout = 300ms;
  Harness harness(options);
  for (int i = 0; i < 20; ++i) {
    harness.dispatcher->Submit(MakeDelivery(receiver.Url(), "order-" + std::to_string(i)));
  }
  REQUIRE(receiver.WaitUntilHolding());
  harness.dispatcher->Stop();

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].order_id == "order-0");
  CHECK(entries[0].error == "timeout");
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"timeout"});

  harness.dispatcher->Submit(MakeDelivery(receiver.Url(), "order-late"));
  harness.dispatcher->WaitIdle();
  harness.dispatcher->Stop();
  CHECK(harness.Entries().size() == 1);
}

// ---------------------------------------------------------------------------
// Journal

namespace {
JournalEntry EntryFor(const std::string& order_id) {
  JournalEntry entry;
  entry.account_id = "9900000";
  entry.order_id = order_id;
  return entry;
}
}  // namespace

TEST_CASE("the journal numbers entries and evicts the oldest beyond its capacity") {
  Journal journal(3);
  for (int i = 1; i <= 5; ++i) CHECK(journal.Append(EntryFor("order-" + std::to_string(i))) == static_cast<std::uint64_t>(i));
  CHECK(journal.size() == 3);
  CHECK(journal.dropped() == 2);
  auto entries = journal.Query({});
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].id == 3);
  CHECK(entries[0].order_id == "order-3");
  CHECK(entries[2].id == 5);
}

TEST_CASE("journal queries filter by account, order, subscription, status and id") {
  Journal journal;
  JournalEntry complete = EntryFor("order-1");
  complete.status = OrderStatus::kComplete;
  complete.subscription_id = "sub-1";
  journal.Append(complete);
  journal.Append(EntryFor("order-2"));
  JournalEntry other_account = EntryFor("order-1");
  other_account.account_id = "9900001";
  journal.Append(other_account);

  JournalFilter by_order;
  by_order.order_id = "order-1";
  CHECK(journal.Query(by_order).size() == 2);
  by_order.account_id = "9900000";
  CHECK(journal.Query(by_order).size() == 1);
  JournalFilter by_status;
  by_status.status = OrderStatus::kComplete;
  CHECK(journal.Query(by_status).size() == 1);
  JournalFilter by_subscription;
  by_subscription.subscription_id = "sub-2";
  CHECK(journal.Query(by_subscription).empty());
  JournalFilter after;
  after.after_id = 2;
  REQUIRE(journal.Query(after).size() == 1);
  CHECK(journal.Query(after)[0].id == 3);

  journal.Clear("9900001");
  CHECK(journal.size() == 2);
  journal.Clear(std::nullopt);
  CHECK(journal.size() == 0);
  CHECK(journal.Append(EntryFor("order-3")) == 4);  // ids keep counting after a clear
}

TEST_CASE("WaitFor returns a matching entry appended before the call") {
  Journal journal;
  journal.Append(EntryFor("order-1"));
  JournalFilter filter;
  filter.order_id = "order-1";
  auto entry = journal.WaitFor(filter, 0ms);
  REQUIRE(entry);
  CHECK(entry->id == 1);
}

TEST_CASE("WaitFor wakes when a matching entry is appended") {
  Journal journal;
  journal.Append(EntryFor("order-1"));
  JournalFilter filter;
  filter.order_id = "order-1";
  filter.after_id = 1;
  std::optional<JournalEntry> found;
  std::thread waiter([&] { found = journal.WaitFor(filter, kPatience); });
  journal.Append(EntryFor("order-2"));
  journal.Append(EntryFor("order-1"));
  waiter.join();
  REQUIRE(found);
  CHECK(found->id == 3);
}

TEST_CASE("WaitFor times out without a match and returns on Shutdown") {
  Journal journal;
  journal.Append(EntryFor("order-2"));
  JournalFilter filter;
  filter.order_id = "order-1";
  CHECK_FALSE(journal.WaitFor(filter, 20ms));

  std::optional<JournalEntry> found = EntryFor("sentinel");
  auto started = std::chrono::steady_clock::now();
  std::thread waiter([&] { found = journal.WaitFor(filter, 60s); });
  journal.Shutdown();
  waiter.join();
  CHECK_FALSE(found);
  CHECK(std::chrono::steady_clock::now() - started < kPatience);
}
