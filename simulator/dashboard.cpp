#include "csrsim/dashboard.hpp"

#include <charconv>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "csrsim/control.hpp"
#include "csrsim/error.hpp"
#include "csrsim/events.hpp"

namespace csrsim {

namespace {

std::optional<std::uint64_t> LastEventIdOf(const HttpRequest& request) {
  auto text = request.Header("Last-Event-ID");
  if (!text || text->empty()) text = request.Query("lastEventId");
  if (!text || text->empty()) return std::nullopt;
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), id);
  if (ec != std::errc() || end != text->data() + text->size()) {
    throw Error::Invalid(0, "'Last-Event-ID' / 'lastEventId' must be an event id (a non-negative integer)");
  }
  return id;
}

// Events without an id: they describe the stream, not the simulator.
std::string StreamNotice(std::string_view type, const EventFields& fields) {
  std::string body = EventFields().Str("type", type).text();
  if (!fields.text().empty()) body += "," + fields.text();
  return "data: {" + body + "}\n\n";
}

// The batch's frames; frames adjacent in the ring (one block, no event
// filtered out between them) become one piece.
void AppendFrames(const EventSubscription::Batch& batch, std::vector<std::string_view>& pieces) {
  const std::size_t first = pieces.size();
  for (const auto* event : batch.events) {
    const std::string_view frame = event->frame;
    if (pieces.size() > first && pieces.back().data() + pieces.back().size() == frame.data()) {
      pieces.back() = std::string_view(pieces.back().data(), pieces.back().size() + frame.size());
    } else {
      pieces.push_back(frame);
    }
  }
}

}  // namespace

HttpResponse StreamEvents(SimulatorAdmin& admin, const HttpRequest& request, std::optional<std::string> account) {
  const auto last_id = LastEventIdOf(request);
  std::shared_ptr<EventSubscription> subscription = admin.SubscribeEvents(std::move(account), last_id);
  if (!subscription) return ControlErrorResponse(Error::Stopping());
  const std::uint64_t current = admin.LastEventId();

  HttpResponse response;
  response.status = 200;
  response.content_type = "text/event-stream";
  response.WithHeader("Cache-Control", "no-cache").WithHeader("X-Accel-Buffering", "no");
  response.stream = [subscription, current](const HttpResponse::ChunkWriter& write) {
    // The subscription exists before this first line: a client that has read
    // it misses nothing published afterwards.
    const std::string open =
        "retry: 1000\n" + StreamNotice("stream.open", EventFields().Int("lastId", static_cast<std::int64_t>(current)));
    const std::string_view open_piece = open;
    if (!write(std::span<const std::string_view>(&open_piece, 1))) return;
    std::vector<std::string_view> pieces;  // the frames where they lie in the ring, no copy
    for (;;) {
      const auto batch = subscription->Next(kEventHeartbeat);
      pieces.clear();
      std::string lost;
      if (batch.lost) {
        lost = StreamNotice("events.lost", EventFields().Int("lost", static_cast<std::int64_t>(batch.lost)));
        pieces.emplace_back(lost);
      }
      AppendFrames(batch, pieces);
      std::string last;
      if (batch.dropped) {
        last = StreamNotice("stream.dropped",
                            EventFields().Str("reason", "the client did not keep up; reconnect with Last-Event-ID"));
      } else if (batch.ended) {
        last = StreamNotice("stream.end", EventFields().Str("reason", "the simulator is stopping"));
      }
      if (!last.empty()) pieces.emplace_back(last);
      if (pieces.empty()) pieces.emplace_back(": heartbeat\n\n");
      if (!write(pieces) || batch.ended) return;
    }
  };
  return response;
}

HttpResponse DashboardPage(SimulatorAdmin&, const HttpRequest&) {
  HttpResponse response;
  response.status = 200;
  response.content_type = "text/html; charset=utf-8";
  response.body = kDashboardHtml;
  response.WithHeader("Cache-Control", "no-cache")
      .WithHeader("Content-Security-Policy",
                  "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:");
  return response;
}

bool IsDashboardPage(std::string_view path) { return path == "/_sim/ui" || path == "/_sim/ui/"; }

}  // namespace csrsim
