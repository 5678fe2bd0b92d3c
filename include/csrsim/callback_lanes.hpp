// callback_lanes: the dispatcher's queues as a plain data structure — which
// delivery goes next, and which may not go yet.
//
//  - A lane per order and subscription keeps that pair's deliveries in
//    submission order, one turn at a time (a busy lane is not handed out).
//  - Ready lanes are handed out round-robin over accounts, then over the
//    hosts of an account, under three in-flight limits: per account and
//    receiver (scheme://host:port: one receiver that hangs leaves the rest of
//    its host's budget to the others), per account and host (all ports of a
//    host count as one, so receivers that hang on many ports of one machine
//    share one budget) and per account (an account's dead receivers on many
//    hosts still leave workers to the other accounts).
//  - Held deliveries (the out-of-order fault) wait aside in their lane until
//    the dispatcher takes them back.
//
// Thread-safety: none; the dispatcher guards a CallbackLanes with its mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "csrsim/model.hpp"

namespace csrsim {

// One notification to one subscriber, ready to send.
struct Delivery {
  std::string account_id;
  std::string subscription_id;
  std::string order_id;
  OrderStatus status = OrderStatus::kReceived;  // the Notification's <Status>
  std::string event = "status";                 // "status" or "note"
  std::string url;
  std::optional<BasicCredentials> credentials;
  std::string body;        // the Notification XML
  SimTime scheduled_at{};  // simulated time it became due
  CallbackFault fault;     // kinds not applied yet
};

// A delivery on its way through the dispatcher.
struct PendingDelivery {
  Delivery delivery;
  std::vector<std::string> faults;  // fault names applied so far, in order
  int next_attempt = 1;             // journal attempt number of the next POST
  int tries = 0;                    // failed rounds so far, for the retry policy
  std::uint64_t global_epoch = 0;   // the dispatcher's Reset() generations at acceptance
  std::uint64_t account_epoch = 0;
  std::int64_t durable_key = 0;  // its row in the DeliveryLog (callbacks.hpp); 0: none
};

// Attempts in flight at once; each at least 1.
struct LaneLimits {
  int per_receiver = 2;  // for one account to one scheme://host:port
  int per_host = 4;      // for one account to one host, all ports
  int per_account = 8;   // for one account
};

// A lane's turn, handed out by Take(): its head delivery.
struct LaneTurn {
  std::string lane;  // the lane's key, for EndAttempt, Release and Resume
  PendingDelivery pending;
};

class CallbackLanes {
 public:
  explicit CallbackLanes(LaneLimits limits);

  // Queues `batch` (deliveries of one lane) at the back of its lane, in order.
  // The lane becomes ready unless it is busy.
  void Enqueue(std::vector<PendingDelivery> batch);
  // Keeps a delivery aside in its lane, not queued, until TakeHeld.
  void Hold(PendingDelivery pending);
  // The deliveries held in `delivery`'s lane, oldest first; the lane keeps none.
  std::vector<PendingDelivery> TakeHeld(const Delivery& delivery);

  // The head of a ready lane whose account and host are below their limits:
  // marks the lane busy and counts the attempt in flight. nullopt when none.
  std::optional<LaneTurn> Take();
  bool CanTake() const;
  // The turn's attempt ended (its lane stays busy). True when that freed a
  // place a ready lane was waiting for.
  bool EndAttempt(const std::string& lane);
  // The lane's turn is over: ready again when more is queued, forgotten when empty.
  void Release(const std::string& lane);
  // Marks `delivery`'s lane busy without a turn (nothing in flight), as while
  // a retry waits; returns the lane's key for Resume.
  std::string Reserve(const Delivery& delivery);
  // Puts a delivery back at the head of its (busy) lane, then Release(). False,
  // and nothing queued, when the lane is gone.
  bool Resume(const std::string& lane, PendingDelivery pending);

  // Drops the queued and held deliveries `matches` selects (not those in a
  // turn); returns how many.
  std::size_t Drop(const std::function<bool(const PendingDelivery&)>& matches);
  // Drops everything queued or held; returns how many.
  std::size_t Clear();

  bool Idle() const { return ready_count_ == 0 && in_flight_ == 0; }
  // Nothing of the account is ready or in flight.
  bool Idle(const std::string& account) const {
    return !ready_.groups.contains(account) && !account_in_flight_.contains(account);
  }
  std::size_t in_flight() const { return in_flight_; }

 private:
  struct Lane {
    std::string account;
    std::string host;      // lower-case host of the URL (the whole URL when it does not parse)
    std::string receiver;  // its scheme://host:port (the whole URL when it does not parse)
    std::deque<PendingDelivery> queue;
    std::vector<PendingDelivery> held;
    bool ready = false;  // listed in ready_
    bool busy = false;   // in a turn, or its retry waits
  };
  // Named groups in round-robin order; a name is listed while its group holds
  // a ready lane.
  template <typename Group>
  struct Rotation {
    std::deque<std::string> order;
    std::unordered_map<std::string, Group> groups;
  };
  using ReadyReceivers = Rotation<std::deque<std::string>>;  // receiver -> lane keys, in order
  using ReadyHosts = Rotation<ReadyReceivers>;               // host -> its receivers
  using ReadyAccounts = Rotation<ReadyHosts>;                // account -> its hosts

  Lane& LaneOf(const Delivery& delivery, std::string& key);
  void MarkReady(const std::string& key, Lane& lane);
  void Unready(const std::string& key, Lane& lane);
  std::optional<std::string> TakeFrom(const std::string& account, ReadyHosts& hosts);
  bool HostFull(const std::string& account, const std::string& host) const;
  bool ReceiverFull(const std::string& account, const std::string& receiver) const;
  bool AccountFull(const std::string& account) const;

  const LaneLimits limits_;
  std::unordered_map<std::string, Lane> lanes_;
  ReadyAccounts ready_;
  std::unordered_map<std::string, int> account_in_flight_;
  std::unordered_map<std::string, int> host_in_flight_;      // by account '\x1f' host
  std::unordered_map<std::string, int> receiver_in_flight_;  // by account '\x1f' receiver
  std::size_t ready_count_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace csrsim
