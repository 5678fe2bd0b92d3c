// metrics: counters and histograms for GET /_sim/metrics (docs/control-api.md),
// written in the Prometheus text format by hand — a few lines, no library.
//
// The request pipeline (app.cpp) observes every request it journals, the
// callback journal's append hook every delivery attempt; the control API adds
// the gauges it reads at scrape time (orders by status, event streams) and
// renders. Counters only grow: reset does not clear them.
//
// Thread-safety: every method is safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "csrsim/model.hpp"
#include "csrsim/mutex.hpp"

namespace csrsim {

// A histogram with fixed upper bounds in seconds (the last bucket is +Inf).
template <std::size_t N>
class Histogram {
 public:
  explicit constexpr Histogram(std::array<double, N> bounds) : bounds_(bounds) {}
  void Observe(Duration value);
  // Appends the _bucket, _sum and _count lines of `name`.
  void Render(std::string& out, std::string_view name) const;

 private:
  const std::array<double, N> bounds_;                      // seconds, ascending
  std::array<std::atomic<std::uint64_t>, N + 1> counts_{};  // per bucket, not cumulative
  std::atomic<std::int64_t> sum_micros_{0};
};

// Appends "# HELP" and "# TYPE" lines.
void MetricHeader(std::string& out, std::string_view name, std::string_view type, std::string_view help);
// A label value with \, " and newlines escaped.
std::string MetricLabel(std::string_view value);

class Metrics {
 public:
  // A request to the Bandwidth or token routes: its route key ("" when none
  // matched), status (0: dropped by a fault) and wall-clock latency.
  void ObserveRequest(std::string_view route, int status, Duration latency);
  // A callback delivery attempt: "success", "http_error", "transport_error"
  // or "dropped"; lateness = sent minus due, in simulated time.
  void ObserveCallback(std::string_view outcome, Duration lateness);

  // Connections the HTTP server holds open: one more, one fewer; and one
  // refused over --max-connections.
  void ConnectionOpened() { connections_open_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { connections_open_.fetch_sub(1, std::memory_order_relaxed); }
  void ConnectionRefused() { connections_refused_.fetch_add(1, std::memory_order_relaxed); }

  // The counters and histograms above, as exposition text.
  std::string Render() const;

 private:
  // One (route, status) pair's request count. Every request counts itself, so
  // the pairs seen so far are found without a lock: the first `published_`
  // entries of `requests_` keep their key for good (written under mu_ before
  // published_ grows past them) and only their count changes.
  struct RequestCount {
    std::string route;
    int status = 0;
    std::atomic<std::uint64_t> count{0};
  };
  static constexpr std::size_t kRequestPairs = 256;  // more pairs go to overflow_

  std::atomic<std::int64_t> connections_open_{0};
  std::atomic<std::uint64_t> connections_refused_{0};
  std::array<RequestCount, kRequestPairs> requests_;
  std::atomic<std::size_t> published_{0};
  mutable Mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> overflow_ CSRSIM_GUARDED_BY(mu_);
  std::map<std::string, std::uint64_t, std::less<>> callbacks_ CSRSIM_GUARDED_BY(mu_);
  Histogram<12> request_latency_{{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5}};
  Histogram<10> callback_lateness_{{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60}};
};

}  // namespace csrsim
