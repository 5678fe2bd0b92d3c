// Hand-written Prometheus exposition of the simulator's counters (metrics.hpp).
#include "csrsim/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace csrsim {

namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

double Seconds(std::int64_t micros) { return static_cast<double>(micros) / 1e6; }

}  // namespace

template <std::size_t N>
void Histogram<N>::Observe(Duration value) {
  const double seconds = Seconds(value.count());
  std::size_t bucket = 0;
  while (bucket < N && seconds > bounds_[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(value.count(), std::memory_order_relaxed);
}

template <std::size_t N>
void Histogram<N>::Render(std::string& out, std::string_view name) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= N; ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    const std::string le = i < N ? Number(bounds_[i]) : "+Inf";
    out += std::string(name) + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += std::string(name) + "_sum " + Number(Seconds(sum_micros_.load(std::memory_order_relaxed))) + "\n";
  out += std::string(name) + "_count " + std::to_string(cumulative) + "\n";
}

template class Histogram<12>;
template class Histogram<10>;

void MetricHeader(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP " + std::string(name) + " " + std::string(help) + "\n";
  out += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
}

std::string MetricLabel(std::string_view value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  return escaped;
}

void Metrics::ObserveRequest(std::string_view route, int status, Duration latency) {
  request_latency_.Observe(latency);
  // Counts the request in its pair among requests_[from, to); false when the pair is not there.
  auto count_among = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      if (requests_[i].status == status && requests_[i].route == route) {
        requests_[i].count.fetch_add(1, std::memory_order_relaxed);
        return true;
      }
    }
    return false;
  };
  const std::size_t published = published_.load(std::memory_order_acquire);
  if (count_among(0, published)) return;
  MutexLock lock(mu_);  // a pair not seen yet: add it (once), unless another thread just did
  const std::size_t now_published = published_.load(std::memory_order_relaxed);
  if (count_among(published, now_published)) return;
  if (now_published == kRequestPairs) {
    ++overflow_[{std::string(route), status}];
    return;
  }
  RequestCount& added = requests_[now_published];
  added.route = route;
  added.status = status;
  added.count.store(1, std::memory_order_relaxed);
  published_.store(now_published + 1, std::memory_order_release);
}

void Metrics::ObserveCallback(std::string_view outcome, Duration lateness) {
  callback_lateness_.Observe(std::max(lateness, Duration::zero()));
  MutexLock lock(mu_);
  auto it = callbacks_.find(outcome);
  if (it == callbacks_.end()) it = callbacks_.emplace(std::string(outcome), 0).first;
  ++it->second;
}

std::string Metrics::Render() const {
  std::string out;
  MetricHeader(out, "csrsim_requests_total", "counter",
               "Requests to the Bandwidth routes and the OAuth token route, by route key (none: no route "
               "matched) and status (0: connection dropped by a fault).");
  {
    MutexLock lock(mu_);
    auto requests = overflow_;  // with the published pairs, in key order
    const std::size_t published = published_.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < published; ++i) {
      requests[{requests_[i].route, requests_[i].status}] += requests_[i].count.load(std::memory_order_relaxed);
    }
    for (const auto& [key, count] : requests) {
      out += "csrsim_requests_total{route=\"" + MetricLabel(key.first.empty() ? "none" : key.first) + "\",status=\"" +
             std::to_string(key.second) + "\"} " + std::to_string(count) + "\n";
    }
  }
  MetricHeader(out, "csrsim_request_duration_seconds", "histogram",
               "Wall time from receiving a request to its answer being ready.");
  request_latency_.Render(out, "csrsim_request_duration_seconds");
  MetricHeader(out, "csrsim_callbacks_total", "counter",
               "Callback delivery attempts by outcome: success (2xx), http_error, transport_error, dropped (by a "
               "fault).");
  {
    MutexLock lock(mu_);
    for (std::string_view outcome : {"success", "http_error", "transport_error", "dropped"}) {
      auto it = callbacks_.find(outcome);
      out += "csrsim_callbacks_total{outcome=\"" + std::string(outcome) + "\"} " +
             std::to_string(it == callbacks_.end() ? 0 : it->second) + "\n";
    }
  }
  MetricHeader(out, "csrsim_callback_lateness_seconds", "histogram",
               "How long after it was due a callback attempt started, in simulated time.");
  callback_lateness_.Render(out, "csrsim_callback_lateness_seconds");
  MetricHeader(out, "csrsim_connections_open", "gauge", "HTTP connections open now (API, control and dashboard).");
  out += "csrsim_connections_open " + std::to_string(connections_open_.load(std::memory_order_relaxed)) + "\n";
  MetricHeader(out, "csrsim_connections_refused_total", "counter",
               "Connections answered 503 because --max-connections were already open.");
  out +=
      "csrsim_connections_refused_total " + std::to_string(connections_refused_.load(std::memory_order_relaxed)) + "\n";
  return out;
}

}  // namespace csrsim
