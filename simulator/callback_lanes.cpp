// The dispatcher's lanes and their round-robin hand-out (callback_lanes.hpp).
#include "csrsim/callback_lanes.hpp"

#include <algorithm>
#include <tuple>
#include <utility>

#include "csrsim/url.hpp"

namespace csrsim {

namespace {

// One lane per order and subscriber: a dead receiver never holds back
// another subscriber's callbacks of the same order.
std::string LaneKey(const Delivery& d) { return d.account_id + '\x1f' + d.order_id + '\x1f' + d.subscription_id; }

// The host and the scheme://host:port of a URL; the whole URL twice when it does not parse.
std::pair<std::string, std::string> HostAndReceiverOf(const std::string& url) {
  auto parsed = ParseHttpUrl(url);
  if (!parsed) return {url, url};
  const std::string host = parsed->host.find(':') == std::string::npos ? parsed->host : '[' + parsed->host + ']';
  return {parsed->host, (parsed->https ? "https://" : "http://") + host + ':' + std::to_string(parsed->port)};
}

int CountIn(const std::unordered_map<std::string, int>& counts, const std::string& key) {
  auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

void Decrement(std::unordered_map<std::string, int>& counts, const std::string& key) {
  auto it = counts.find(key);
  if (it != counts.end() && --it->second <= 0) counts.erase(it);
}

}  // namespace

CallbackLanes::CallbackLanes(LaneLimits limits)
    : limits_{std::max(1, limits.per_receiver), std::max(1, limits.per_host), std::max(1, limits.per_account)} {}

CallbackLanes::Lane& CallbackLanes::LaneOf(const Delivery& delivery, std::string& key) {
  key = LaneKey(delivery);
  Lane& lane = lanes_[key];
  if (lane.account.empty() && lane.host.empty()) {
    lane.account = delivery.account_id;
    std::tie(lane.host, lane.receiver) = HostAndReceiverOf(delivery.url);
  }
  return lane;
}

void CallbackLanes::Enqueue(std::vector<PendingDelivery> batch) {
  if (batch.empty()) return;
  std::string key;
  Lane& lane = LaneOf(batch.front().delivery, key);
  for (auto& pending : batch) lane.queue.push_back(std::move(pending));
  if (!lane.busy) MarkReady(key, lane);
}

void CallbackLanes::Hold(PendingDelivery pending) {
  std::string key;
  LaneOf(pending.delivery, key).held.push_back(std::move(pending));
}

std::vector<PendingDelivery> CallbackLanes::TakeHeld(const Delivery& delivery) {
  auto it = lanes_.find(LaneKey(delivery));
  if (it == lanes_.end()) return {};
  std::vector<PendingDelivery> held = std::move(it->second.held);
  it->second.held.clear();
  return held;
}

std::string CallbackLanes::Reserve(const Delivery& delivery) {
  std::string key;
  Lane& lane = LaneOf(delivery, key);
  Unready(key, lane);
  lane.busy = true;
  return key;
}

void CallbackLanes::MarkReady(const std::string& key, Lane& lane) {
  if (lane.ready || lane.queue.empty()) return;
  lane.ready = true;
  ++ready_count_;
  auto [account, new_account] = ready_.groups.try_emplace(lane.account);
  if (new_account) ready_.order.push_back(lane.account);
  auto [host, new_host] = account->second.groups.try_emplace(lane.host);
  if (new_host) account->second.order.push_back(lane.host);
  auto [receiver, new_receiver] = host->second.groups.try_emplace(lane.receiver);
  if (new_receiver) host->second.order.push_back(lane.receiver);
  receiver->second.push_back(key);
}

void CallbackLanes::Unready(const std::string& key, Lane& lane) {
  if (!lane.ready) return;
  lane.ready = false;
  --ready_count_;
  auto account = ready_.groups.find(lane.account);
  auto host = account->second.groups.find(lane.host);
  auto receiver = host->second.groups.find(lane.receiver);
  std::erase(receiver->second, key);
  if (!receiver->second.empty()) return;
  host->second.groups.erase(receiver);
  std::erase(host->second.order, lane.receiver);
  if (!host->second.order.empty()) return;
  account->second.groups.erase(host);
  std::erase(account->second.order, lane.host);
  if (!account->second.order.empty()) return;
  ready_.groups.erase(account);
  std::erase(ready_.order, lane.account);
}

bool CallbackLanes::HostFull(const std::string& account, const std::string& host) const {
  return CountIn(host_in_flight_, account + '\x1f' + host) >= limits_.per_host;
}

bool CallbackLanes::ReceiverFull(const std::string& account, const std::string& receiver) const {
  return CountIn(receiver_in_flight_, account + '\x1f' + receiver) >= limits_.per_receiver;
}

bool CallbackLanes::AccountFull(const std::string& account) const {
  return CountIn(account_in_flight_, account) >= limits_.per_account;
}

// The next lane of `account` on a host and receiver below their limits,
// rotating its hosts and each host's receivers.
std::optional<std::string> CallbackLanes::TakeFrom(const std::string& account, ReadyHosts& hosts) {
  for (std::size_t i = 0; i < hosts.order.size(); ++i) {
    std::string host = std::move(hosts.order.front());
    hosts.order.pop_front();
    ReadyReceivers& receivers = hosts.groups.at(host);
    std::optional<std::string> key;
    for (std::size_t j = 0; !key && !HostFull(account, host) && j < receivers.order.size(); ++j) {
      std::string receiver = std::move(receivers.order.front());
      receivers.order.pop_front();
      auto& lanes = receivers.groups.at(receiver);
      if (!ReceiverFull(account, receiver)) {
        key = std::move(lanes.front());
        lanes.pop_front();
      }
      if (lanes.empty()) {
        receivers.groups.erase(receiver);
      } else {
        receivers.order.push_back(std::move(receiver));
      }
    }
    if (receivers.order.empty()) {
      hosts.groups.erase(host);
    } else {
      hosts.order.push_back(std::move(host));
    }
    if (key) return key;
  }
  return std::nullopt;
}

std::optional<LaneTurn> CallbackLanes::Take() {
  for (std::size_t i = 0; i < ready_.order.size(); ++i) {
    std::string account = std::move(ready_.order.front());
    ready_.order.pop_front();
    ReadyHosts& hosts = ready_.groups.at(account);
    std::optional<std::string> key;
    if (!AccountFull(account)) key = TakeFrom(account, hosts);
    if (hosts.order.empty()) {
      ready_.groups.erase(account);
    } else {
      ready_.order.push_back(account);
    }
    if (!key) continue;

    Lane& lane = lanes_.at(*key);
    lane.ready = false;
    lane.busy = true;
    --ready_count_;
    ++in_flight_;
    ++account_in_flight_[lane.account];
    ++host_in_flight_[lane.account + '\x1f' + lane.host];
    ++receiver_in_flight_[lane.account + '\x1f' + lane.receiver];
    LaneTurn turn{*key, std::move(lane.queue.front())};
    lane.queue.pop_front();
    return turn;
  }
  return std::nullopt;
}

bool CallbackLanes::CanTake() const {
  for (const auto& [account, hosts] : ready_.groups) {
    if (AccountFull(account)) continue;
    for (const auto& [host, receivers] : hosts.groups) {
      if (HostFull(account, host)) continue;
      for (const auto& [receiver, lanes] : receivers.groups) {
        if (!ReceiverFull(account, receiver)) return true;
      }
    }
  }
  return false;
}

bool CallbackLanes::EndAttempt(const std::string& key) {
  auto it = lanes_.find(key);
  if (it == lanes_.end()) return false;  // cleared while in flight; counts went with it
  const Lane& lane = it->second;
  const std::string receiver = lane.account + '\x1f' + lane.receiver;
  const bool was_full =
      AccountFull(lane.account) || HostFull(lane.account, lane.host) || ReceiverFull(lane.account, lane.receiver);
  --in_flight_;
  Decrement(account_in_flight_, lane.account);
  Decrement(host_in_flight_, lane.account + '\x1f' + lane.host);
  Decrement(receiver_in_flight_, receiver);
  return was_full && ready_.groups.count(lane.account) != 0;
}

void CallbackLanes::Release(const std::string& key) {
  auto it = lanes_.find(key);
  if (it == lanes_.end()) return;
  Lane& lane = it->second;
  lane.busy = false;
  if (!lane.queue.empty()) {
    MarkReady(key, lane);
  } else if (lane.held.empty()) {
    lanes_.erase(it);
  }
}

bool CallbackLanes::Resume(const std::string& key, PendingDelivery pending) {
  auto it = lanes_.find(key);
  if (it == lanes_.end()) return false;
  it->second.queue.push_front(std::move(pending));
  Release(key);
  return true;
}

std::size_t CallbackLanes::Drop(const std::function<bool(const PendingDelivery&)>& matches) {
  std::size_t dropped = 0;
  for (auto it = lanes_.begin(); it != lanes_.end();) {
    Lane& lane = it->second;
    dropped += static_cast<std::size_t>(std::erase_if(lane.queue, matches));
    dropped += static_cast<std::size_t>(std::erase_if(lane.held, matches));
    if (lane.queue.empty()) Unready(it->first, lane);
    if (!lane.busy && lane.queue.empty() && lane.held.empty()) {
      it = lanes_.erase(it);
    } else {
      ++it;
    }
  }
  return dropped;
}

std::size_t CallbackLanes::Clear() {
  std::size_t dropped = 0;
  for (const auto& [key, lane] : lanes_) dropped += lane.queue.size() + lane.held.size();
  lanes_.clear();
  ready_ = {};
  account_in_flight_.clear();
  host_in_flight_.clear();
  receiver_in_flight_.clear();
  ready_count_ = 0;
  in_flight_ = 0;
  return dropped;
}

}  // namespace csrsim
