// dashboard: the live views under /_sim — the event stream (GET /_sim/events,
// server-sent events from the EventBus, see events.hpp) and the dashboard page
// (GET /_sim/ui, simulator/ui/dashboard.html compiled into the binary), which
// is a plain client of the event stream, the control API and the Bandwidth API.
// Part of the control module: ControlApi routes to these.
//
// Thread-safety: both handlers are safe from many threads; an event stream
// holds the server worker thread it runs on until the client goes, the bus
// drops it, or the simulator stops.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "csrsim/admin.hpp"
#include "csrsim/http.hpp"

namespace csrsim {

// The page, compiled in (CMakeLists.txt generates its definition).
extern const char kDashboardHtml[];

// How often an idle event stream sends a ": heartbeat" comment.
inline constexpr std::chrono::seconds kEventHeartbeat{15};

// GET /_sim/events[?account=ID][&lastEventId=N]: `account` is the checked
// filter; the Last-Event-ID header takes precedence over the lastEventId query
// parameter. Throws Error::Invalid on a malformed id.
HttpResponse StreamEvents(SimulatorAdmin& admin, const HttpRequest& request, std::optional<std::string> account);
// GET /_sim/ui: the dashboard page. Needs no control token: the page holds no
// data; it asks for the token before it calls anything.
HttpResponse DashboardPage(SimulatorAdmin& admin, const HttpRequest& request);
bool IsDashboardPage(std::string_view path);

}  // namespace csrsim
