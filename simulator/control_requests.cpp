// The request journal's control routes: GET /_sim/requests, /_sim/requests/count
// and /_sim/requests/wait (docs/control-api.md, "Request journal").
#include <charconv>
#include <chrono>
#include <cstdint>

#include "control_internal.hpp"
#include "csrsim/request_journal.hpp"
#include "csrsim/wire.hpp"

namespace csrsim::control_internal {

namespace {

constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 10'000;

std::optional<std::uint64_t> NumberQuery(const HttpRequest& request, const std::string& name, std::uint64_t min,
                                         std::uint64_t max) {
  auto text = request.Query(name);
  if (!text) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    throw BadRequest(Quoted(name) + " must be a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max));
  }
  return value;
}

// account, method, route, status (200 or 2xx) and since (a request id).
RequestFilter RequestFilterOf(const HttpRequest& request) {
  RequestFilter filter;
  filter.account = AccountQuery(request);
  filter.method = request.Query("method");
  filter.route = request.Query("route");
  if (auto status = request.Query("status")) {
    if (status->size() == 3 && (*status)[0] >= '1' && (*status)[0] <= '5' && status->substr(1) == "xx") {
      filter.status_class = (*status)[0] - '0';
    } else {
      filter.status = static_cast<int>(*NumberQuery(request, "status", 0, 599));
    }
  }
  filter.since_id = NumberQuery(request, "since", 0, UINT64_MAX).value_or(0);
  return filter;
}

Json OptionalText(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

Json RequestJson(const RequestRecord& record) {
  const Json headers = HeadersJson(record.headers);
  const auto wall = std::chrono::time_point_cast<std::chrono::microseconds>(record.received_wall);
  return {{"id", record.id},
          {"receivedAt", wire::FormatTimestamp(record.received_at)},
          {"receivedWallTime", wire::FormatTimestamp(wall)},
          {"method", record.method},
          {"path", record.path},
          {"route", record.route ? Json(*record.route) : Json(nullptr)},
          {"account", record.account ? Json(*record.account) : Json(nullptr)},
          {"auth", record.auth},
          {"headers", headers},
          {"body", record.body},
          {"bodyTruncated", record.body_truncated},
          {"status", record.status},
          {"responseBody", record.response_body},
          {"responseBodyTruncated", record.response_body_truncated},
          {"errorCode", record.error_code ? Json(*record.error_code) : Json(nullptr)},
          {"errorDescription", OptionalText(record.error_description)},
          {"reason", OptionalText(record.reason)},
          {"fault", OptionalText(record.fault)},
          {"leniencies", record.leniencies},
          {"latencyUs", record.latency_us}};
}

Json RequestsJson(const std::vector<RequestRecord>& records) {
  Json list = Json::array();
  for (const auto& record : records) list.push_back(RequestJson(record));
  return list;
}

}  // namespace

HttpResponse ListRequests(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account", "method", "route", "status", "since", "limit"});
  const RequestFilter filter = RequestFilterOf(request);
  const auto limit = NumberQuery(request, "limit", 1, kMaxLimit).value_or(kDefaultLimit);
  auto page = admin.Requests(filter, static_cast<std::size_t>(limit));
  return JsonResponse(200, Json{{"requests", RequestsJson(page.records)},
                                {"next", page.next ? Json(*page.next) : Json(nullptr)},
                                {"dropped", admin.RequestsDropped()},
                                {"capacity", admin.RequestCapacity()}});
}

HttpResponse CountRequests(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account", "method", "route", "status", "since"});
  return JsonResponse(200, Json{{"count", admin.CountRequests(RequestFilterOf(request))}});
}

// Long-polls until `count` (default 1) requests match; 408 with what arrived.
HttpResponse WaitForRequests(SimulatorAdmin& admin, const HttpRequest& request) {
  CheckQuery(request, {"account", "method", "route", "status", "since", "count", "timeout"});
  const RequestFilter filter = RequestFilterOf(request);
  const auto count = static_cast<std::size_t>(NumberQuery(request, "count", 1, kMaxLimit).value_or(1));
  const Duration timeout = WaitTimeout(request);
  auto records = admin.WaitForRequests(filter, count, std::chrono::ceil<std::chrono::milliseconds>(timeout));
  Json body = {{"count", records.size()}, {"requests", RequestsJson(records)}};
  if (records.size() >= count) return JsonResponse(200, body);
  body["error"] = std::to_string(records.size()) + " of " + std::to_string(count) + " matching requests within " +
                  FormatDuration(timeout);
  return JsonResponse(InfoOf(ErrorKind::kTimeout).http_status, body);  // an Error's status, with what arrived
}

}  // namespace csrsim::control_internal
