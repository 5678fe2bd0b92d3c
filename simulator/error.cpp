#include "csrsim/error.hpp"

namespace csrsim {

namespace {
std::string Summary(const std::vector<ErrorDetail>& details) {
  if (details.empty()) return "error";
  return std::to_string(details.front().code) + ": " + details.front().description;
}
}  // namespace

Error::Error(ErrorKind kind, std::vector<ErrorDetail> details, int http_status)
    : std::runtime_error(Summary(details)), kind_(kind), details_(std::move(details)), http_status_(http_status) {}

Error Error::Unauthorized() {
  Error error(ErrorKind::kUnauthorized, {});
  error.WithHeader("WWW-Authenticate", "Basic realm=\"Bandwidth\"");
  return error;
}

Error Error::AccessDenied() { return Error(ErrorKind::kForbidden, {{1001, "Access Denied"}}); }

Error Error::CsrFeatureDisabled(const std::string& account_id) {
  return Error(ErrorKind::kForbidden, {{12160, "The operation could not be performed because Account " + account_id +
                                                   " does not have the CSR feature enabled."}});
}

Error Error::NotFound(int code, std::string description) {
  return Error(ErrorKind::kNotFound, {{code, std::move(description)}});
}

Error Error::NoteNotFound() { return NotFound(5040, "Note not found."); }

Error Error::Invalid(int code, std::string description) {
  return Error(ErrorKind::kInvalid, {{code, std::move(description)}});
}

Error Error::Invalid(std::vector<ErrorDetail> details) { return Error(ErrorKind::kInvalid, std::move(details)); }

Error Error::Conflict(int code, std::string description) {
  return Error(ErrorKind::kConflict, {{code, std::move(description)}});
}

Error Error::PayloadTooLarge(std::size_t limit_bytes) {
  return Error(ErrorKind::kPayloadTooLarge,
               {{1011, "Request body is too long. Max length " + std::to_string(limit_bytes) + " bytes"}});
}

Error Error::MalformedRequest(std::string description) {
  return Error(ErrorKind::kInvalid, {{1012, "Malformed request: " + std::move(description)}});
}

Error Error::UriTooLong(std::size_t limit_bytes) {
  return Error(ErrorKind::kUriTooLong,
               {{1013, "Request line is too long. Max length " + std::to_string(limit_bytes) + " bytes"}});
}

Error Error::HeadersTooLarge(std::string description) {
  return Error(ErrorKind::kHeadersTooLarge, {{1014, "Request headers are too large: " + std::move(description)}});
}

Error Error::CapacityExceeded(std::string description) {
  return Error(ErrorKind::kUnavailable, {{1015, std::move(description)}});
}

Error Error::OutOfMemory() {
  return Error(ErrorKind::kUnavailable, {{1016, "The simulator is out of memory; nothing was changed"}});
}

Error Error::Stopping() { return Error(ErrorKind::kUnavailable, {{0, "the simulator is stopping"}}); }

Error Error::StateWriteFailed(const std::string& cause) {
  return Error(ErrorKind::kUnavailable,
               {{1018, "The state file could not be written (" + cause + "); the change was not saved"}});
}

Error Error::LimitReached(std::string description) {
  return Error(ErrorKind::kConflict, {{1017, "Limit reached: " + std::move(description)}});
}

Error Error::RateLimited(std::int64_t reset_epoch_seconds) {
  Error error(ErrorKind::kRateLimited, {});
  error.WithHeader("X-RateLimit-Reset", std::to_string(reset_epoch_seconds));
  return error;
}

Error Error::Internal() {
  return Error(ErrorKind::kInternal, {{1000, "Internal error; the simulator logged the cause"}});
}

Error Error::NoRoute(std::string description) { return Error(ErrorKind::kNoRoute, {{0, std::move(description)}}); }

Error Error::MethodNotAllowed(std::string description) {
  return Error(ErrorKind::kMethodNotAllowed, {{0, std::move(description)}});
}

Error Error::ControlUnauthorized() {
  Error error(ErrorKind::kUnauthorized,
              {{0, "the control API needs \"Authorization: Bearer <token>\" (the --control-token value)"}});
  error.WithHeader("WWW-Authenticate", "Bearer realm=\"csr-simulator control API\"");
  return error;
}

Error Error::UnsupportedMediaType(std::string description) {
  return Error(ErrorKind::kUnsupportedMediaType, {{0, std::move(description)}});
}

Error Error::Timeout(std::string description) { return Error(ErrorKind::kTimeout, {{0, std::move(description)}}); }

Error Error::Injected(int http_status, SimTime now) {
  if (http_status == 429) {
    return RateLimited(std::chrono::floor<std::chrono::seconds>(now).time_since_epoch().count() + 1);
  }
  return Error(ErrorKind::kInjected, {{http_status, "Injected fault"}}, http_status);
}

}  // namespace csrsim
