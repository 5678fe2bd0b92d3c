#include "store.hpp"

#include <algorithm>

namespace csrsim {

Order OrderWithoutNotes(const OrderSlot& slot) {
  const Order& order = slot.order;
  // Every field but notes, each copy-constructed: a default SharedText would
  // take the intern table's lock (model.cpp) on every read.
  return Order{.id = order.id,
               .account_id = order.account_id,
               .last_modified_by = order.last_modified_by,
               .created = order.created,
               .last_modified = order.last_modified,
               .status = order.status,
               .message = order.message,
               .fields = order.fields,
               .csr_data = order.csr_data,
               .errors = order.errors,
               .notes = {},
               .scenario_name = order.scenario_name,
               .history = order.history};
}

void PutBack(OrderSlot& slot, Order before) {
  Order& order = slot.order;  // every field of Order but id, account_id and notes
  order.last_modified_by = std::move(before.last_modified_by);
  order.created = before.created;
  order.last_modified = before.last_modified;
  order.status = before.status;
  order.message = before.message;
  order.fields = std::move(before.fields);
  order.csr_data = std::move(before.csr_data);
  order.errors = std::move(before.errors);
  order.scenario_name = before.scenario_name;
  order.history = std::move(before.history);
}

std::shared_ptr<OrderSlot> Store::AddOrder(Order order, ScenarioProgress progress, std::size_t max_orders) {
  auto slot = std::make_shared<OrderSlot>(std::move(order), std::move(progress));
  WriterLock lock(mu_);
  if (orders_by_id_.size() >= max_orders) return nullptr;
  slot->sequence = next_sequence_++;
  orders_by_id_.emplace(std::string_view(slot->id()), slot);
  accounts_[slot->account_id()].orders.push_back(slot);
  all_orders_.push_back(slot);
  return slot;
}

void Store::RemoveOrder(const std::shared_ptr<OrderSlot>& slot) {
  WriterLock lock(mu_);
  auto it = orders_by_id_.find(std::string_view(slot->id()));
  if (it == orders_by_id_.end() || it->second != slot) return;
  orders_by_id_.erase(it);
  std::erase(all_orders_, slot);
  auto account = accounts_.find(slot->account_id());
  if (account == accounts_.end()) return;
  std::erase(account->second.orders, slot);
  if (account->second.orders.empty() && account->second.subscriptions.empty()) accounts_.erase(account);
}

void Store::Reserve(std::size_t orders) {
  WriterLock lock(mu_);
  orders_by_id_.reserve(orders_by_id_.size() + orders);
  all_orders_.reserve(all_orders_.size() + orders);
}

std::shared_ptr<OrderSlot> Store::FindOrder(std::string_view account_id, std::string_view order_id) const {
  auto slot = FindOrderAnyAccount(order_id);
  if (!slot || slot->account_id() != account_id) return nullptr;
  return slot;
}

std::shared_ptr<OrderSlot> Store::FindOrderAnyAccount(std::string_view order_id) const {
  ReaderLock lock(mu_);
  auto it = orders_by_id_.find(order_id);
  return it == orders_by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<OrderSlot>> Store::Orders(const std::optional<std::string>& account_id) const {
  ReaderLock lock(mu_);
  if (account_id) {
    auto it = accounts_.find(*account_id);
    return it == accounts_.end() ? std::vector<std::shared_ptr<OrderSlot>>{} : it->second.orders;
  }
  return all_orders_;
}

std::vector<std::shared_ptr<OrderSlot>> Store::OrdersAfter(const std::optional<std::string>& account_id,
                                                           std::uint64_t after, std::size_t max) const {
  ReaderLock lock(mu_);
  const std::vector<std::shared_ptr<OrderSlot>>* orders = &all_orders_;
  if (account_id) {
    auto it = accounts_.find(*account_id);
    if (it == accounts_.end()) return {};
    orders = &it->second.orders;
  }
  // Sequences rise along each list, so the page starts where a binary search says.
  auto first = std::upper_bound(orders->begin(), orders->end(), after,
                                [](std::uint64_t value, const auto& slot) { return value < slot->sequence; });
  auto last =
      first + static_cast<std::ptrdiff_t>(std::min<std::size_t>(max, static_cast<std::size_t>(orders->end() - first)));
  return {first, last};
}

std::size_t Store::OrderCount() const {
  ReaderLock lock(mu_);
  return orders_by_id_.size();
}

std::size_t Store::AccountCount() const {
  ReaderLock lock(mu_);
  return accounts_.size();
}

std::optional<Subscription> Store::FindSubscription(std::string_view account_id, std::string_view id) const {
  ReaderLock lock(mu_);
  auto it = accounts_.find(std::string(account_id));
  if (it == accounts_.end()) return std::nullopt;
  for (const auto& subscription : it->second.subscriptions) {
    if (subscription.id == id) return subscription;
  }
  return std::nullopt;
}

std::vector<Subscription> Store::Subscriptions(std::string_view account_id) const {
  ReaderLock lock(mu_);
  auto it = accounts_.find(std::string(account_id));
  return it == accounts_.end() ? std::vector<Subscription>{} : it->second.subscriptions;
}

void Store::EditSubscriptions(std::string_view account_id,
                              const std::function<void(std::vector<Subscription>&)>& edit) {
  WriterLock lock(mu_);
  auto it = accounts_.find(std::string(account_id));
  if (it == accounts_.end()) {
    // A call that fails (or changes nothing) on an unknown account must not
    // create it: the account appears only once it holds something.
    std::vector<Subscription> fresh;
    edit(fresh);
    if (!fresh.empty()) accounts_[std::string(account_id)].subscriptions = std::move(fresh);
    return;
  }
  edit(it->second.subscriptions);
  if (it->second.subscriptions.empty() && it->second.orders.empty()) accounts_.erase(it);
}

void Store::Reset(const std::optional<std::string>& account_id) {
  WriterLock lock(mu_);
  if (!account_id) {
    accounts_.clear();
    orders_by_id_.clear();
    all_orders_.clear();
    return;
  }
  auto it = accounts_.find(*account_id);
  if (it == accounts_.end()) return;
  for (const auto& slot : it->second.orders) orders_by_id_.erase(std::string_view(slot->id()));
  if (!it->second.orders.empty()) {
    std::erase_if(all_orders_, [&](const auto& slot) { return slot->account_id() == *account_id; });
  }
  accounts_.erase(it);
}

}  // namespace csrsim
