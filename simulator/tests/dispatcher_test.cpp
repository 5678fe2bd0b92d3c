// The dispatcher on a fake transport and the manual clock: ordering, retry
// and backoff, the Basic challenge flow, every fault kind, isolation of hung
// receivers, Stop. No sockets.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <map>
#include <mutex>

#include "csrsim/callbacks.hpp"
#include "delivery_support.hpp"

using namespace csrsim;
using csrsim::testing::HeaderOf;
using namespace std::chrono_literals;

namespace {

constexpr auto kPatience = 10s;  // wall-time bound for waits that should end at once

struct FakeRequest {
  std::string host;
  int port = 0;
  std::string target;
  HeaderList headers;
  std::string body;
  std::optional<std::string> Header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

// Decides the answer to the n-th (0-based) request.
using Responder = std::function<CallbackAnswer(const FakeRequest&, std::size_t index)>;

CallbackAnswer Ok(const FakeRequest&, std::size_t) { return {200, false, ""}; }

// Records every POST and answers with the responder. Requests to a hung host
// (any port) block until Release(), then end as a time-out.
class FakeTransport final : public CallbackTransport {
 public:
  explicit FakeTransport(Responder responder = Ok) : responder_(std::move(responder)) {}

  std::unique_ptr<CallbackSession> OpenSession() override { return std::make_unique<Session>(*this); }

  void Hang(const std::string& host) {
    std::lock_guard lock(mu_);
    hung_hosts_.push_back(host);
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    changed_.notify_all();
  }
  // Waits until `count` requests are hanging at once.
  bool WaitUntilHanging(std::size_t count) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, kPatience, [&] { return hanging_ >= count; });
  }
  std::size_t hanging() const {
    std::lock_guard lock(mu_);
    return hanging_;
  }
  std::vector<FakeRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<std::string> Bodies() const {
    std::vector<std::string> bodies;
    for (const auto& request : requests()) bodies.push_back(request.body);
    return bodies;
  }
  int idles() const {
    std::lock_guard lock(mu_);
    return idles_;
  }

 private:
  class Session final : public CallbackSession {
   public:
    explicit Session(FakeTransport& transport) : transport_(transport) {}
    CallbackAnswer Post(const CallbackPost& post) override { return transport_.Handle(post); }
    void Idle() override {
      std::lock_guard lock(transport_.mu_);
      ++transport_.idles_;
    }

   private:
    FakeTransport& transport_;
  };

  CallbackAnswer Handle(const CallbackPost& post) {
    FakeRequest request{post.url.host, post.url.port, post.url.target, post.headers, std::string(post.body)};
    std::size_t index = 0;
    {
      std::unique_lock lock(mu_);
      index = requests_.size();
      requests_.push_back(request);
      if (std::find(hung_hosts_.begin(), hung_hosts_.end(), request.host) != hung_hosts_.end()) {
        ++hanging_;
        changed_.notify_all();
        changed_.wait(lock, [this] { return released_; });
        --hanging_;
        return {0, false, "timeout"};
      }
    }
    return responder_(request, index);
  }

  Responder responder_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<FakeRequest> requests_;
  std::vector<std::string> hung_hosts_;
  std::size_t hanging_ = 0;
  bool released_ = false;
  int idles_ = 0;
};

DispatcherOptions WithTransport(DispatcherOptions options, std::shared_ptr<CallbackTransport> transport) {
  options.transport = std::move(transport);
  return options;
}

// A dispatcher on a manual clock and a fake transport.
struct Harness : csrsim::testing::DispatcherHarness {
  explicit Harness(DispatcherOptions options = {}, Responder responder = Ok)
      : Harness(std::make_shared<FakeTransport>(std::move(responder)), std::move(options)) {}
  Harness(std::shared_ptr<FakeTransport> fake, DispatcherOptions options)
      : DispatcherHarness(WithTransport(std::move(options), fake)), transport(std::move(fake)) {}
  ~Harness() {
    transport->Release();
    dispatcher->Stop();
  }
  void Advance(Duration by) {
    scheduler.Advance(by);
    dispatcher->WaitIdle();
  }

  std::shared_ptr<FakeTransport> transport;
};

Delivery MakeDelivery(const std::string& order_id = "order-1", const std::string& body = "<Notification/>",
                      const std::string& url = "http://receiver.test:9000/callbacks") {
  return csrsim::testing::MakeDelivery(url, order_id, body);
}

Delivery WithFault(Delivery delivery, CallbackFaultKind kind, Duration duration = Duration::zero()) {
  delivery.fault.Set(kind, duration);
  return delivery;
}

// One worker, busy with a delivery to a host that hangs.
void HangTheOnlyWorker(Harness& harness) {
  harness.transport->Hang("hung.test");
  harness.dispatcher->Submit(MakeDelivery("order-0", "in flight", "http://hung.test/cb"));
  REQUIRE(harness.transport->WaitUntilHanging(1));
}

}  // namespace

// ---------------------------------------------------------------------------
// One delivery

TEST_CASE("dispatcher: a delivery is POSTed once with its headers and journaled with its outcome") {
  Harness harness;
  Delivery delivery =
      MakeDelivery("order-1", "<Notification>1</Notification>", "http://Receiver.Test:9000/hooks/csr?token=1#frag");
  delivery.credentials = BasicCredentials{"alice", "s3cret"};
  harness.dispatcher->Submit(delivery);
  harness.dispatcher->WaitIdle();

  auto requests = harness.transport->requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].host == "receiver.test");
  CHECK(requests[0].port == 9000);
  CHECK(requests[0].target == "/hooks/csr?token=1");
  CHECK(requests[0].Header("Authorization") == "Basic YWxpY2U6czNjcmV0");  // alice:s3cret
  CHECK(requests[0].Header("Content-Type") == "application/xml; charset=utf-8");
  CHECK(requests[0].Header("User-Agent") == "csr-simulator");
  CHECK(requests[0].body == "<Notification>1</Notification>");

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].attempt == 1);
  CHECK(entries[0].response_status == 200);
  CHECK(entries[0].error.empty());
  CHECK(entries[0].fault.empty());
  CHECK(HeaderOf(entries[0], "Authorization") == "Basic YWxpY2U6czNjcmV0");
  CHECK(entries[0].sent_at == harness.clock.Now());
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"200 OK"});
}

TEST_CASE("dispatcher: the outcome names the status, or the transport error") {
  auto [answer, outcome] = GENERATE(table<CallbackAnswer, std::string>({
      {CallbackAnswer{500, false, ""}, "500 Internal Server Error"},
      {CallbackAnswer{299, false, ""}, "299"},
      {CallbackAnswer{0, false, "connection refused"}, "connection refused"},
  }));
  Harness harness({}, [answer = answer](const FakeRequest&, std::size_t) { return answer; });
  harness.dispatcher->Submit(MakeDelivery());
  harness.dispatcher->WaitIdle();
  REQUIRE(harness.Entries().size() == 1);
  CHECK(harness.Entries()[0].response_status == answer.status);
  CHECK(harness.Entries()[0].error == answer.error);
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{outcome});
}

TEST_CASE("dispatcher: a URL the shared parser refuses is journaled without a request") {
  auto url = GENERATE(as<std::string>{}, "not a url", "ftp://127.0.0.1/x", "http://", "http://:8080/x",
                      "http://127.0.0.1:99999/x", "http://[::1]:/cb", "http://[::1/x");
  Harness harness;
  harness.dispatcher->Submit(MakeDelivery("order-1", "<Notification/>", url));
  harness.dispatcher->WaitIdle();
  CHECK(harness.transport->requests().empty());
  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].error == "invalid callback URL");
  CHECK(entries[0].request_headers.empty());
}

// ---------------------------------------------------------------------------
// Basic challenge flow

TEST_CASE("dispatcher: in the challenge flow a 401 with WWW-Authenticate is answered with credentials") {
  DispatcherOptions options;
  options.auth_mode = CallbackAuthMode::kChallenge;
  Harness harness(options, [](const FakeRequest& request, std::size_t) {
    return request.Header("Authorization") ? CallbackAnswer{200, false, ""} : CallbackAnswer{401, true, ""};
  });
  Delivery delivery = MakeDelivery();
  delivery.credentials = BasicCredentials{"eve", "passwd"};
  harness.dispatcher->Submit(delivery);
  harness.dispatcher->WaitIdle();

  auto requests = harness.transport->requests();
  REQUIRE(requests.size() == 2);
  CHECK_FALSE(requests[0].Header("Authorization"));
  CHECK(requests[1].Header("Authorization") == "Basic ZXZlOnBhc3N3ZA==");
  auto entries = harness.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].attempt == 1);
  CHECK(entries[0].response_status == 401);
  CHECK(entries[1].attempt == 2);
  CHECK(entries[1].response_status == 200);
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"200 OK"});
}

TEST_CASE("dispatcher: in the challenge flow a 401 without a challenge, or no credentials, gets no second POST") {
  const bool challenged = GENERATE(false, true);
  DispatcherOptions options;
  options.auth_mode = CallbackAuthMode::kChallenge;
  Harness harness(options, [challenged](const FakeRequest&, std::size_t) {
    return CallbackAnswer{401, challenged, ""};
  });
  Delivery delivery = MakeDelivery();
  if (!challenged) delivery.credentials = BasicCredentials{"eve", "passwd"};
  harness.dispatcher->Submit(delivery);
  harness.dispatcher->WaitIdle();
  REQUIRE(harness.transport->requests().size() == 1);
  CHECK_FALSE(harness.transport->requests()[0].Header("Authorization"));
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"401 Unauthorized"});
}

// ---------------------------------------------------------------------------
// Ordering

TEST_CASE("dispatcher: 50 deliveries of one order go in submission order, other orders in between") {
  DispatcherOptions options;
  options.workers = 8;
  Harness harness(options);
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) {
    sent.push_back("one-" + std::to_string(i));
    harness.dispatcher->Submit(MakeDelivery("order-1", sent.back()));
    harness.dispatcher->Submit(MakeDelivery("order-" + std::to_string(i + 2), "other"));
  }
  harness.dispatcher->WaitIdle();

  std::vector<std::string> order_one;
  for (const auto& body : harness.transport->Bodies()) {
    if (body.starts_with("one-")) order_one.push_back(body);
  }
  CHECK(order_one == sent);
  CHECK(harness.Entries().size() == 100);
}

// ---------------------------------------------------------------------------
// Every fault kind

TEST_CASE("dispatcher: drop journals the delivery without a request") {
  Harness harness;
  harness.dispatcher->Submit(WithFault(MakeDelivery(), CallbackFaultKind::kDrop));
  harness.dispatcher->WaitIdle();
  CHECK(harness.transport->requests().empty());
  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].error == "dropped by fault");
  CHECK(entries[0].fault == "drop");
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"dropped by fault"});
}

TEST_CASE("dispatcher: duplicate sends twice, the copy named in the journal") {
  Harness harness;
  harness.dispatcher->Submit(WithFault(MakeDelivery("order-1", "dup"), CallbackFaultKind::kDuplicate));
  harness.dispatcher->WaitIdle();
  CHECK(harness.transport->Bodies() == std::vector<std::string>{"dup", "dup"});
  auto entries = harness.Entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].fault.empty());
  CHECK(entries[1].fault == "duplicate");
}

TEST_CASE("dispatcher: delay sends once the simulated delay has passed") {
  Harness harness;
  harness.dispatcher->Submit(WithFault(MakeDelivery(), CallbackFaultKind::kDelay, 5s));
  harness.dispatcher->WaitIdle();
  CHECK(harness.transport->requests().empty());
  harness.Advance(4s);
  CHECK(harness.transport->requests().empty());
  harness.Advance(1s);
  REQUIRE(harness.transport->requests().size() == 1);
  auto entries = harness.Entries();
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].fault == "delay");
  CHECK(entries[0].scheduled_at == ManualClock::DefaultStart());
  CHECK(entries[0].sent_at == ManualClock::DefaultStart() + 5s);
}

TEST_CASE("dispatcher: out_of_order holds a delivery until the order's next one has gone") {
  Harness harness;
  harness.dispatcher->Submit(WithFault(MakeDelivery("order-1", "first"), CallbackFaultKind::kOutOfOrder));
  harness.dispatcher->Submit(MakeDelivery("order-2", "other order"));
  harness.dispatcher->WaitIdle();
  CHECK(harness.transport->Bodies() == std::vector<std::string>{"other order"});
  harness.dispatcher->Submit(MakeDelivery("order-1", "second"));
  harness.dispatcher->WaitIdle();
  CHECK(harness.transport->Bodies() == std::vector<std::string>{"other order", "second", "first"});
  auto entries = harness.Entries("order-1");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].fault.empty());
  CHECK(entries[1].fault == "out_of_order");
}

TEST_CASE("dispatcher: wrong_credentials replaces the Basic password") {
  Harness harness;
  Delivery delivery = WithFault(MakeDelivery(), CallbackFaultKind::kWrongCredentials);
  delivery.credentials = BasicCredentials{"alice", "s3cret"};
  harness.dispatcher->Submit(delivery);
  harness.dispatcher->WaitIdle();
  REQUIRE(harness.transport->requests().size() == 1);
  // alice:wrong-password
  CHECK(harness.transport->requests()[0].Header("Authorization") == "Basic YWxpY2U6d3JvbmctcGFzc3dvcmQ=");
  CHECK(harness.Entries().at(0).fault == "wrong_credentials");
}

TEST_CASE("dispatcher: every fault kind of the table at once is applied and named in table order") {
  Harness harness;
  Delivery delivery = MakeDelivery("order-1", "all");
  delivery.credentials = BasicCredentials{"alice", "s3cret"};
  for (const auto& kind : kCallbackFaultKinds) delivery.fault.Set(kind.kind, 2s);
  harness.dispatcher->Submit(delivery);
  harness.Advance(2s);  // delayed, then held out of order
  CHECK(harness.Entries().empty());
  harness.dispatcher->Submit(MakeDelivery("order-1", "next"));
  harness.dispatcher->WaitIdle();
  auto entries = harness.Entries();
  REQUIRE(entries.size() == 3);  // next, then the held one and its duplicate, both dropped
  CHECK(entries[0].body == "next");
  CHECK(entries[1].fault == "delay,out_of_order,drop,wrong_credentials");
  CHECK(entries[2].fault == "delay,out_of_order,duplicate,drop,wrong_credentials");
  CHECK(entries[2].error == "dropped by fault");
  CHECK(harness.transport->Bodies() == std::vector<std::string>{"next"});
}

TEST_CASE("dispatcher: Reset forgets holds and queued deliveries of one account only") {
  DispatcherOptions options;
  options.workers = 1;
  Harness harness(options);
  HangTheOnlyWorker(harness);
  harness.dispatcher->Submit(WithFault(MakeDelivery("order-1", "held"), CallbackFaultKind::kOutOfOrder));
  harness.dispatcher->Submit(MakeDelivery("order-2", "queued, reset"));
  Delivery other = MakeDelivery("order-3", "other account");
  other.account_id = "9900001";
  harness.dispatcher->Submit(other);

  harness.dispatcher->Reset("9900000");
  harness.transport->Release();
  harness.dispatcher->WaitIdle();
  harness.dispatcher->Submit(MakeDelivery("order-1", "next"));
  harness.dispatcher->WaitIdle();
  CHECK(harness.transport->Bodies() == std::vector<std::string>{"in flight", "other account", "next"});
}

// ---------------------------------------------------------------------------
// Retry policy

TEST_CASE("dispatcher: a retry policy repeats failed deliveries after simulated backoff, keeping order") {
  Harness harness({}, [](const FakeRequest&, std::size_t index) {
    return index < 2 ? CallbackAnswer{503, false, ""} : CallbackAnswer{200, false, ""};
  });
  harness.dispatcher->SetRetryPolicy({/*max_attempts=*/3, /*initial_backoff=*/10s, /*multiplier=*/2});
  harness.dispatcher->Submit(MakeDelivery("order-1", "one"));
  harness.dispatcher->Submit(MakeDelivery("order-1", "two"));
  harness.dispatcher->WaitIdle();
  CHECK(harness.transport->Bodies() == std::vector<std::string>{"one"});
  CHECK(harness.OutcomeTexts().empty());

  harness.Advance(9s);
  CHECK(harness.transport->requests().size() == 1);
  harness.Advance(1s);  // t = 10s: second try, fails again
  CHECK(harness.transport->requests().size() == 2);
  harness.Advance(19s);
  CHECK(harness.transport->requests().size() == 2);
  harness.Advance(1s);  // t = 30s: third try succeeds, then "two" goes
  CHECK(harness.transport->Bodies() == std::vector<std::string>{"one", "one", "one", "two"});

  auto entries = harness.Entries();
  REQUIRE(entries.size() == 4);
  CHECK(entries[1].attempt == 2);
  CHECK(entries[1].sent_at == ManualClock::DefaultStart() + 10s);
  CHECK(entries[2].attempt == 3);
  CHECK(entries[2].sent_at == ManualClock::DefaultStart() + 30s);
  CHECK(entries[3].attempt == 1);
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"200 OK", "200 OK"});
}

TEST_CASE("dispatcher: without a retry policy a failed delivery is not repeated") {
  Harness harness({}, [](const FakeRequest&, std::size_t) { return CallbackAnswer{503, false, ""}; });
  harness.dispatcher->Submit(MakeDelivery());
  harness.Advance(1h);
  CHECK(harness.transport->requests().size() == 1);
  CHECK(harness.scheduler.pending() == 0);
  CHECK(harness.OutcomeTexts() == std::vector<std::string>{"503 Service Unavailable"});
}

// ---------------------------------------------------------------------------
// Isolation of receivers that hang

TEST_CASE("dispatcher: receivers hanging on many ports of one host hold at most the per-host limit") {
  DispatcherOptions options;
  options.workers = 8;
  options.max_in_flight_per_host = 2;
  Harness harness(options);
  harness.transport->Hang("dead.test");
  for (int port = 1; port <= 8; ++port) {
    Delivery delivery = MakeDelivery("order-" + std::to_string(port), "dead",
                                     "http://dead.test:" + std::to_string(9000 + port) + "/cb");
    delivery.account_id = "9900001";
    harness.dispatcher->Submit(delivery);
  }
  REQUIRE(harness.transport->WaitUntilHanging(2));
  // Same account, another host; and another account on the dead host's name.
  Delivery same_account = MakeDelivery("order-a", "same account, healthy host", "http://ok.test/cb");
  same_account.account_id = "9900001";
  harness.dispatcher->Submit(same_account);
  harness.dispatcher->Submit(MakeDelivery("order-b", "other account"));

  JournalFilter healthy;
  healthy.order_id = "order-a";
  REQUIRE(harness.journal.WaitFor(healthy, kPatience));
  healthy.order_id = "order-b";
  REQUIRE(harness.journal.WaitFor(healthy, kPatience));
  CHECK(harness.transport->hanging() == 2);
  CHECK(harness.transport->requests().size() == 4);  // 2 dead in flight, 6 dead waiting
}

TEST_CASE("dispatcher: an account hanging on many hosts holds at most the per-account limit") {
  DispatcherOptions options;
  options.workers = 8;
  options.max_in_flight_per_host = 8;
  options.max_in_flight_per_account = 3;
  Harness harness(options);
  for (int host = 1; host <= 6; ++host) {
    const std::string name = "dead" + std::to_string(host) + ".test";
    harness.transport->Hang(name);
    Delivery delivery = MakeDelivery("order-" + std::to_string(host), "dead", "http://" + name + "/cb");
    delivery.account_id = "9900001";
    harness.dispatcher->Submit(delivery);
  }
  REQUIRE(harness.transport->WaitUntilHanging(3));
  harness.dispatcher->Submit(MakeDelivery("order-b", "other account"));
  JournalFilter healthy;
  healthy.order_id = "order-b";
  REQUIRE(harness.journal.WaitFor(healthy, kPatience));
  CHECK(harness.transport->hanging() == 3);
}

// ---------------------------------------------------------------------------
// Stop

TEST_CASE("dispatcher: Stop finishes the attempt in flight and reports what it dropped") {
  DispatcherOptions options;
  options.workers = 1;
  Harness harness(options);
  HangTheOnlyWorker(harness);
  for (int i = 1; i <= 5; ++i) harness.dispatcher->Submit(MakeDelivery("order-" + std::to_string(i)));
  harness.dispatcher->Submit(WithFault(MakeDelivery("order-9"), CallbackFaultKind::kOutOfOrder));
  harness.dispatcher->Submit(WithFault(MakeDelivery("order-7"), CallbackFaultKind::kDelay, 1s));
  harness.dispatcher->Submit(WithFault(MakeDelivery("order-8"), CallbackFaultKind::kDelay, 2s));

  harness.transport->Release();
  DispatcherDrops drops = harness.dispatcher->Stop();
  auto entries = harness.Entries();
  REQUIRE(entries.size() >= 1);
  CHECK(entries[0].order_id == "order-0");
  CHECK(entries[0].error == "timeout");
  // The worker may take a few queued ones between the release and the stop;
  // every one of the six (five queued, one held) was either sent or dropped.
  CHECK(drops.queued + (entries.size() - 1) == 6);
  CHECK(drops.on_clock == 2);

  harness.dispatcher->Submit(MakeDelivery("order-late"));
  harness.dispatcher->WaitIdle();
  CHECK(harness.dispatcher->Stop().queued == 0);
}
