#include "csrsim/admin.hpp"

#include <mutex>
#include <utility>

#include "csrsim/api.hpp"
#include "csrsim/clock.hpp"
#include "csrsim/engine.hpp"
#include "csrsim/events.hpp"
#include "csrsim/metrics.hpp"
#include "csrsim/scheduler.hpp"
#include "csrsim/state_sink.hpp"
#include "store.hpp"

namespace csrsim {

namespace {

OrderView ViewOf(const OrderSlot& slot) CSRSIM_REQUIRES_SHARED(slot.mu) {
  return {slot.sequence, OrderWithoutNotes(slot), slot.order.notes, slot.progress};
}

OrderView ViewOf(const std::shared_ptr<OrderSlot>& slot) {
  ReaderLock lock(slot->mu);
  return ViewOf(*slot);
}

}  // namespace

SimulatorAdmin::SimulatorAdmin(Parts parts) : parts_(std::move(parts)) {}

HealthView SimulatorAdmin::Health() const {
  return {.version = parts_.version,
          .scenarios = parts_.scenarios.Current()->scenarios().size(),
          .clock = parts_.clock.Describe(),
          .now = parts_.clock.Now(),
          .orders = parts_.store.OrderCount(),
          .accounts = parts_.store.AccountCount(),
          .event_streams = parts_.events.subscriber_count(),
          .dropped_event_streams = parts_.events.dropped_subscribers()};
}

void SimulatorAdmin::Reset(const std::optional<std::string>& account_id) {
  parts_.store.Reset(account_id);
  if (parts_.state) parts_.state->Reset(account_id);
  parts_.dispatcher.Reset(account_id);
  parts_.journal.Clear(account_id);
  parts_.requests.Clear(account_id);
  parts_.faults.Clear(account_id);
  parts_.scenarios.RestoreGlobal(account_id);
  parts_.scheduler.ResetTimeline(account_id);
  if (!account_id) parts_.auth.Reset();
  EmitReset(&parts_.events, account_id);
}

// ---------------------------------------------------------------------------
// The clock

ClockView SimulatorAdmin::Clock(const std::optional<std::string>& account_id) const {
  ClockView view{.now = parts_.clock.Now(), .mode = parts_.clock.Describe()};
  if (account_id) {
    view.now = parts_.scheduler.Now(*account_id);
    view.offset = parts_.scheduler.Offset(*account_id);
  }
  return view;
}

bool SimulatorAdmin::ManualClock() const { return parts_.clock.IsManual(); }

void SimulatorAdmin::Settle(const std::optional<std::string>& account_id) {
  for (;;) {
    parts_.dispatcher.WaitIdle(account_id);
    if (!parts_.clock.IsManual()) return;
    if (parts_.scheduler.Busy()) {
      parts_.scheduler.RunDue();
      continue;
    }
    // The scheduler's own thread may have run a task after WaitIdle returned
    // (a retry due now, which queues its callback again): settled only when
    // the dispatcher is still idle once nothing is due or running.
    if (parts_.dispatcher.Idle(account_id)) return;
  }
}

bool SimulatorAdmin::AdvanceClock(Duration by, const std::optional<std::string>& account_id) {
  auto settle = [this, &account_id] { Settle(account_id); };
  if (account_id) {
    if (!parts_.scheduler.AdvanceAccount(*account_id, by, settle)) return false;
    if (parts_.state) parts_.state->SaveOffset(*account_id, parts_.scheduler.Offset(*account_id));
    return true;
  }
  if (!parts_.scheduler.Advance(by, settle)) return false;
  if (parts_.state) parts_.state->SaveClock(parts_.clock.Now());
  EmitClockAdvanced(&parts_.events, by);
  return true;
}

// ---------------------------------------------------------------------------
// Orders

// Reads the store a chunk at a time, so neither the page nor the work in hand
// grows with the number of orders; each order is locked only to be copied.
OrderViewPage SimulatorAdmin::Orders(const std::optional<std::string>& account_id, std::optional<OrderStatus> status,
                                     std::uint64_t after, std::size_t limit) const {
  OrderViewPage page;
  std::uint64_t position = after;
  for (bool more = true; more && !page.next;) {
    auto chunk = parts_.store.OrdersAfter(account_id, position, limit + 1);
    more = !chunk.empty();
    for (const auto& slot : chunk) {
      position = slot->sequence;
      ReaderLock lock(slot->mu);
      if (status && slot->order.status != *status) continue;
      if (page.orders.size() == limit) {  // one more exists: this page ends here
        page.next = page.orders.back().sequence;
        break;
      }
      page.orders.push_back(ViewOf(*slot));
    }
  }
  return page;
}

std::optional<OrderView> SimulatorAdmin::FindOrder(const std::string& order_id) const {
  auto slot = parts_.store.FindOrderAnyAccount(order_id);
  if (!slot) return std::nullopt;
  return ViewOf(slot);
}

std::optional<OrderView> SimulatorAdmin::ForceTransition(const std::string& order_id, OrderStatus status,
                                                         std::optional<std::string> message,
                                                         std::vector<ErrorDetail> errors) {
  auto slot = parts_.store.FindOrderAnyAccount(order_id);
  if (!slot) return std::nullopt;
  parts_.engine.ForceTransition(order_id, status, std::move(message), std::move(errors));
  Settle(std::nullopt);
  return ViewOf(slot);
}

std::array<std::uint64_t, kOrderStatusNames.size()> SimulatorAdmin::OrderCountsByStatus() const {
  std::array<std::uint64_t, kOrderStatusNames.size()> counts{};
  for (const auto& slot : parts_.store.Orders(std::nullopt)) {
    ReaderLock lock(slot->mu);
    ++counts[static_cast<std::size_t>(slot->order.status)];
  }
  return counts;
}

// ---------------------------------------------------------------------------
// Callbacks

std::vector<JournalEntry> SimulatorAdmin::Callbacks(const JournalFilter& filter) const {
  return parts_.journal.Query(filter);
}

std::uint64_t SimulatorAdmin::CallbacksDropped() const { return parts_.journal.dropped(); }

std::optional<JournalEntry> SimulatorAdmin::WaitForCallback(const JournalFilter& filter,
                                                            std::chrono::milliseconds timeout) {
  return parts_.journal.WaitFor(filter, timeout);
}

void SimulatorAdmin::SetCallbackSettings(const std::optional<CallbackAuthMode>& mode,
                                         const std::optional<RetryPolicy>& retry) {
  if (parts_.state && (mode || retry)) parts_.state->SaveCallbackSettings(mode, retry);  // durable before applied
  if (mode) parts_.dispatcher.SetAuthMode(*mode);
  if (retry) parts_.dispatcher.SetRetryPolicy(*retry);
}

// ---------------------------------------------------------------------------
// Scenarios

std::shared_ptr<const ScenarioSet> SimulatorAdmin::Scenarios(const std::optional<std::string>& account_id) const {
  return account_id ? parts_.scenarios.Current(*account_id) : parts_.scenarios.Current();
}

bool SimulatorAdmin::HasAccountScenarios(const std::string& account_id) const {
  return parts_.scenarios.HasAccountSet(account_id);
}

void SimulatorAdmin::ReplaceScenarios(std::shared_ptr<const ScenarioSet> loaded) {
  const std::size_t count = loaded->scenarios().size();
  parts_.scenarios.Replace(std::move(loaded));
  EmitScenariosReloaded(&parts_.events, count);
}

void SimulatorAdmin::SetAccountScenarios(const std::string& account_id, std::shared_ptr<const ScenarioSet> loaded,
                                         const std::string& source) {
  if (parts_.state) parts_.state->SaveAccountScenarios(account_id, source);  // durable before applied
  parts_.scenarios.ReplaceForAccount(account_id, std::move(loaded));
}

void SimulatorAdmin::RestoreAccountScenarios(const std::string& account_id) {
  if (parts_.state) parts_.state->SaveAccountScenarios(account_id, std::nullopt);
  parts_.scenarios.RestoreGlobal(account_id);
}

// ---------------------------------------------------------------------------
// Faults

std::string SimulatorAdmin::AddApiFault(ApiFaultRule rule) { return parts_.faults.AddApiFault(std::move(rule)); }

std::string SimulatorAdmin::AddCallbackFault(CallbackFaultRule rule) {
  return parts_.faults.AddCallbackFault(std::move(rule));
}

bool SimulatorAdmin::RemoveFault(const std::string& id) { return parts_.faults.Remove(id); }

void SimulatorAdmin::ClearFaults(const std::optional<std::string>& account_id) { parts_.faults.Clear(account_id); }

std::vector<ApiFaultRule> SimulatorAdmin::ApiFaults() const { return parts_.faults.ApiFaults(); }

std::vector<CallbackFaultRule> SimulatorAdmin::CallbackFaults() const { return parts_.faults.CallbackFaults(); }

// ---------------------------------------------------------------------------
// The request journal

RequestJournal::Page SimulatorAdmin::Requests(const RequestFilter& filter, std::size_t limit) const {
  return parts_.requests.Query(filter, limit);
}

std::size_t SimulatorAdmin::CountRequests(const RequestFilter& filter) const { return parts_.requests.Count(filter); }

std::vector<RequestRecord> SimulatorAdmin::WaitForRequests(const RequestFilter& filter, std::size_t count,
                                                           std::chrono::milliseconds timeout) {
  return parts_.requests.WaitFor(filter, count, timeout);
}

std::uint64_t SimulatorAdmin::RequestsDropped() const { return parts_.requests.dropped(); }

std::size_t SimulatorAdmin::RequestCapacity() const { return parts_.requests.capacity(); }

// ---------------------------------------------------------------------------
// Events and metrics

std::unique_ptr<EventSubscription> SimulatorAdmin::SubscribeEvents(std::optional<std::string> account_id,
                                                                   std::optional<std::uint64_t> last_id) {
  return parts_.events.Subscribe(std::move(account_id), last_id);
}

std::uint64_t SimulatorAdmin::LastEventId() const { return parts_.events.last_id(); }

std::string SimulatorAdmin::RenderMetricCounters() const { return parts_.metrics.Render(); }

}  // namespace csrsim
