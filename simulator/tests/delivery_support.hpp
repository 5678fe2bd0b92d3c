// Shared by the callback unit tests: a Delivery to build on, a journal
// entry's request header, a dispatcher harness.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "csrsim/callbacks.hpp"

namespace csrsim::testing {

inline Delivery MakeDelivery(const std::string& url, const std::string& order_id = "order-1",
                             const std::string& body = "<Notification/>") {
  Delivery delivery;
  delivery.account_id = "9900000";
  delivery.subscription_id = "sub-1";
  delivery.order_id = order_id;
  delivery.status = OrderStatus::kComplete;
  delivery.url = url;
  delivery.body = body;
  delivery.scheduled_at = ManualClock::DefaultStart();
  return delivery;
}

inline std::optional<std::string> HeaderOf(const JournalEntry& entry, const std::string& name) {
  for (const auto& [key, value] : entry.request_headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

struct Outcome {
  std::string account_id;
  std::string subscription_id;
  std::string text;
};

// A dispatcher on a manual clock, with its journal and the outcomes it reported;
// on the httplib transport unless the options name another.
struct DispatcherHarness {
  explicit DispatcherHarness(DispatcherOptions options = {}) {
    dispatcher = std::make_unique<CallbackDispatcher>(
        scheduler, journal, options,
        [this](const std::string& account, const std::string& subscription, const std::string& text) {
          std::lock_guard lock(outcomes_mu);
          outcomes.push_back({account, subscription, text});
        });
  }

  std::vector<JournalEntry> Entries(const std::string& order_id = "") const {
    JournalFilter filter;
    if (!order_id.empty()) filter.order_id = order_id;
    return journal.Query(filter);
  }
  std::vector<std::string> OutcomeTexts() {
    std::lock_guard lock(outcomes_mu);
    std::vector<std::string> texts;
    for (const auto& outcome : outcomes) texts.push_back(outcome.text);
    return texts;
  }

  ManualClock clock;
  Scheduler scheduler{clock};
  Journal journal;
  std::mutex outcomes_mu;
  std::vector<Outcome> outcomes;
  std::unique_ptr<CallbackDispatcher> dispatcher;
};

}  // namespace csrsim::testing
