// store: the simulator's in-memory state — orders (with their scenario
// progress), notes and subscriptions — partitioned by account.
//
// Contract: every order lives in an OrderSlot; all reads and changes of one
// order happen under that slot's own mutex (per-order locking, never a global
// state lock while an order changes). The account index is guarded by a
// shared mutex held only for O(1) lookups and inserts. Subscriptions of an
// account are guarded by the same index lock (they are few and small).
// Lookups are scoped by account: another account's id is simply not found.
//
// Thread-safety: every method is safe from any thread. OrderSlot::mu must be
// held to read or write OrderSlot::order and OrderSlot::progress.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "csrsim/model.hpp"
#include "csrsim/mutex.hpp"
#include "csrsim/scenario.hpp"

namespace csrsim {

struct OrderSlot {
  OrderSlot(Order o, ScenarioProgress p) : order(std::move(o)), progress(std::move(p)) {}
  // The order's id and account never change once the slot exists, so these
  // read them without `mu` (the store's index, account checks).
  const std::string& id() const CSRSIM_NO_THREAD_SAFETY_ANALYSIS { return order.id; }
  const std::string& account_id() const CSRSIM_NO_THREAD_SAFETY_ANALYSIS { return order.account_id; }

  std::uint64_t sequence = 0;  // creation order across accounts, from 1; set by AddOrder, then constant
  // Shared by readers (they only copy), exclusive for changes: readers of one
  // order never wait for each other, so a reader the scheduler preempts
  // inside it holds up no other GET of that order (bench/results/latest.md).
  mutable SharedMutex mu;
  Order order CSRSIM_GUARDED_BY(mu);
  ScenarioProgress progress CSRSIM_GUARDED_BY(mu);
};

// A copy of the order without its notes (empty `notes`), for readers that do
// not show them, so the copy costs nothing per note; it only reads the slot,
// so the shared lock is enough. GET of an order, its PUT answer and the order
// list read orders this way; notes are read as a NoteList snapshot.
// (A new field of Order must be copied here too.)
Order OrderWithoutNotes(const OrderSlot& slot) CSRSIM_REQUIRES_SHARED(slot.mu);

// Makes the slot's order `before` again — a copy taken (OrderWithoutNotes)
// before a change the state file refused — except its id and account_id:
// they never change, and the store's index views the slot's own id string;
// and except its notes, which the caller puts back itself (a change only
// appends notes or replaces one: Engine::CommitChange undoes just that).
// (A new field of Order must be put back here too.)
void PutBack(OrderSlot& slot, Order before) CSRSIM_REQUIRES(slot.mu);

class Store {
 public:
  // Adds an order; its id must be new. nullptr (and nothing added) when the
  // store already holds `max_orders` orders: the check and the insert are one
  // step, so concurrent creates never pass the cap.
  std::shared_ptr<OrderSlot> AddOrder(Order order, ScenarioProgress progress, std::size_t max_orders = SIZE_MAX);
  // Takes back an order just added whose create failed (its state write).
  void RemoveOrder(const std::shared_ptr<OrderSlot>& slot);
  // Makes room for `orders` more orders (a restore from --state adds them all at once).
  void Reserve(std::size_t orders);
  // nullptr when the id is unknown in this account.
  std::shared_ptr<OrderSlot> FindOrder(std::string_view account_id, std::string_view order_id) const;
  // nullptr when unknown; any account (control API).
  std::shared_ptr<OrderSlot> FindOrderAnyAccount(std::string_view order_id) const;
  // One account's orders (or every account's when nullopt), in creation order.
  std::vector<std::shared_ptr<OrderSlot>> Orders(const std::optional<std::string>& account_id) const;
  // At most `max` of those orders created after the one with sequence `after`
  // (0: from the first), in creation order: a page read in O(log n + max).
  std::vector<std::shared_ptr<OrderSlot>> OrdersAfter(const std::optional<std::string>& account_id, std::uint64_t after,
                                                      std::size_t max) const;
  std::size_t OrderCount() const;
  // Accounts holding any order or subscription.
  std::size_t AccountCount() const;

  std::optional<Subscription> FindSubscription(std::string_view account_id, std::string_view id) const;
  std::vector<Subscription> Subscriptions(std::string_view account_id) const;
  // Runs `edit` on one account's subscriptions (creation order) under the
  // exclusive lock, so a check and the change it guards are one step (the
  // duplicate rule). `edit` must not call back into the Store; it may throw.
  // An account is kept only while it holds orders or subscriptions, so a
  // failed call on an unknown account leaves no state behind.
  void EditSubscriptions(std::string_view account_id, const std::function<void(std::vector<Subscription>&)>& edit);

  // Drops orders, notes and subscriptions of one account, or of all.
  void Reset(const std::optional<std::string>& account_id);

 private:
  struct AccountData {
    std::vector<std::shared_ptr<OrderSlot>> orders;  // creation order
    std::vector<Subscription> subscriptions;         // creation order
  };

  mutable SharedMutex mu_;
  std::unordered_map<std::string, AccountData> accounts_ CSRSIM_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<OrderSlot>> all_orders_ CSRSIM_GUARDED_BY(mu_);  // creation order
  std::uint64_t next_sequence_ CSRSIM_GUARDED_BY(mu_) = 1;
  // Keyed by a view of the slot's own (immutable) id: no second copy per order.
  std::unordered_map<std::string_view, std::shared_ptr<OrderSlot>> orders_by_id_ CSRSIM_GUARDED_BY(mu_);
};

}  // namespace csrsim
