// GET /_sim/metrics: the Prometheus text exposition (docs/control-api.md,
// "Metrics") — the counters of metrics.hpp plus gauges read at scrape time.
#include <array>

#include "control_internal.hpp"
#include "csrsim/metrics.hpp"

namespace csrsim::control_internal {

namespace {

void Gauge(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
  MetricHeader(out, name, "gauge", help);
  out += std::string(name) + " " + std::to_string(value) + "\n";
}

}  // namespace

HttpResponse GetMetrics(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {});
  std::string out = admin.RenderMetricCounters();

  const auto orders = admin.OrderCountsByStatus();
  MetricHeader(out, "csrsim_orders", "gauge", "Orders held now, by status.");
  for (std::size_t i = 0; i < orders.size(); ++i) {
    out += "csrsim_orders{status=\"" + std::string(kOrderStatusNames[i]) + "\"} " + std::to_string(orders[i]) + "\n";
  }
  Gauge(out, "csrsim_request_journal_dropped",
        "Requests evicted from the full request journal since the last full reset.", admin.RequestsDropped());
  Gauge(out, "csrsim_callback_journal_dropped",
        "Delivery attempts evicted from the full callback journal since the last full reset.",
        admin.CallbacksDropped());
  Gauge(out, "csrsim_event_streams_open", "Open GET /_sim/events streams.", admin.Health().event_streams);

  HttpResponse response;
  response.body = std::move(out);
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return response;
}

}  // namespace csrsim::control_internal
