// Error: a failed operation described in Bandwidth's own terms (kind + codes).
//
// Every module reports a client mistake, a missing resource or a refusal by
// throwing an Error built with one of the named factories below. The table
// CSRSIM_ERROR_KINDS is the one place that maps a kind to its HTTP status;
// both writers read it: the api module's ErrorResponse() (the Bandwidth XML
// shape, api.hpp) and the control API's ControlErrorResponse() (the JSON
// shape, control.hpp). Nothing else decides an error's HTTP status.
// CurrentError() (http.hpp) turns any other exception into an Error.
//
// Thread-safety: a value type; safe to copy between threads.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csrsim/model.hpp"

namespace csrsim {

// The body of an error in the Bandwidth (XML) shape. The JSON shape of the
// control API always answers {"error": "<the descriptions>"}.
enum class XmlErrorBody : std::uint8_t {
  kNone,            // empty body
  kResponseStatus,  // <Root><ResponseStatus><ErrorCode/><Description/>
  kValidation,      // like kResponseStatus; CSR routes: <CsrOrderResponse><Errors>
};

// X(kind, HTTP status, XML body). Status 0: the error carries its own (kInjected).
#define CSRSIM_ERROR_KINDS(X)                                                                              \
  X(kUnauthorized, 401, kNone)                   /* credentials missing or wrong; WWW-Authenticate */      \
  X(kForbidden, 403, kResponseStatus)            /* 1001 / 12160; a reload outside the scenario files */   \
  X(kNotFound, 404, kResponseStatus)             /* no such resource */                                    \
  X(kInvalid, 400, kValidation)                  /* validation, a malformed request, a bad control call */ \
  X(kConflict, 409, kResponseStatus)             /* duplicate subscription 16008, a limit reached 1017 */  \
  X(kPayloadTooLarge, 413, kResponseStatus)      /* body over --max-body-bytes */                          \
  X(kUriTooLong, 414, kResponseStatus)           /* request line over the server's limit */                \
  X(kHeadersTooLarge, 431, kResponseStatus)      /* too many or too large request headers */               \
  X(kUnavailable, 503, kResponseStatus)          /* a capacity limit, out of memory, a state write */      \
  X(kRateLimited, 429, kNone)                    /* X-RateLimit-Reset */                                   \
  X(kInjected, 0, kNone)                         /* an injected fault: status chosen by the fault */       \
  X(kInternal, 500, kResponseStatus)             /* a bug, logged where it was caught (1000) */            \
  X(kNoRoute, 404, kNone)                        /* no route for the path */                               \
  X(kMethodNotAllowed, 405, kNone)               /* the path exists, the method does not */                \
  X(kTimeout, 408, kResponseStatus)              /* a control API long-poll saw nothing in time */         \
  X(kUnsupportedMediaType, 415, kResponseStatus) /* a control API POST that is not JSON */

enum class ErrorKind : std::uint8_t {
#define CSRSIM_ERROR_ENUMERATOR(kind, status, xml_body) kind,
  CSRSIM_ERROR_KINDS(CSRSIM_ERROR_ENUMERATOR)
#undef CSRSIM_ERROR_ENUMERATOR
};

struct ErrorKindInfo {
  ErrorKind kind;
  int http_status;  // 0: the error's own (kInjected)
  XmlErrorBody xml_body;
};

inline constexpr ErrorKindInfo kErrorKinds[] = {
#define CSRSIM_ERROR_ROW(kind, status, xml_body) {ErrorKind::kind, status, XmlErrorBody::xml_body},
    CSRSIM_ERROR_KINDS(CSRSIM_ERROR_ROW)
#undef CSRSIM_ERROR_ROW
};

constexpr const ErrorKindInfo& InfoOf(ErrorKind kind) { return kErrorKinds[static_cast<std::size_t>(kind)]; }

class Error : public std::runtime_error {
 public:
  // `http_status` counts only for kInjected; other kinds answer the table's.
  Error(ErrorKind kind, std::vector<ErrorDetail> details, int http_status = 0);

  static Error Unauthorized();                                     // 401, empty body, WWW-Authenticate: Basic
  static Error AccessDenied();                                     // 403, 1001 Access Denied
  static Error CsrFeatureDisabled(const std::string& account_id);  // 403, 12160
  static Error NotFound(int code, std::string description);
  static Error NoteNotFound();  // 404, 5040 Note not found.
  static Error Invalid(int code, std::string description);
  static Error Invalid(std::vector<ErrorDetail> details);
  static Error Conflict(int code, std::string description);
  static Error PayloadTooLarge(std::size_t limit_bytes);
  // HTTP framing errors, raised by the server while it reads a request
  // (http1.hpp); codes and texts are listed in docs/wire-contract.md.
  static Error MalformedRequest(std::string description);  // 400, 1012
  static Error UriTooLong(std::size_t limit_bytes);        // 414, 1013
  static Error HeadersTooLarge(std::string description);   // 431, 1014
  // A limit of the simulator itself: `description` names it and its flag.
  static Error CapacityExceeded(std::string description);  // 503, 1015
  static Error OutOfMemory();                              // 503, 1016
  static Error Stopping();                                 // 503: the simulator is shutting down
  // The --state file could not be written (a full disk, an I/O error): the
  // call's change is not in the file. `cause` is SQLite's message.
  static Error StateWriteFailed(const std::string& cause);  // 503, 1018
  // A cap on what the simulator holds (--max-orders, ...) is reached and the
  // call created nothing: `description` names the cap and its flag.
  static Error LimitReached(std::string description);  // 409, 1017
  static Error RateLimited(std::int64_t reset_epoch_seconds);
  // An injected failure answering `http_status`; a 429 carries
  // X-RateLimit-Reset one second after `now`, like a real rate limit.
  static Error Injected(int http_status, SimTime now);
  // An unexpected exception turned into an answer (the cause goes to the log only).
  static Error Internal();
  // No route answers the path (404; the Bandwidth shape has an empty body).
  static Error NoRoute(std::string description);
  // The path exists but not with this method (405; the Bandwidth shape has an empty body).
  static Error MethodNotAllowed(std::string description);

  // The control API's own refusals (docs/control-api.md).
  static Error ControlUnauthorized();                          // 401, WWW-Authenticate: Bearer
  static Error UnsupportedMediaType(std::string description);  // 415
  static Error Timeout(std::string description);               // 408, a long-poll saw nothing

  ErrorKind kind() const { return kind_; }
  const std::vector<ErrorDetail>& details() const { return details_; }
  // The HTTP status both shapes answer: the kind's (kErrorKinds), or the
  // injected fault's own.
  int http_status() const { return http_status_ != 0 ? http_status_ : InfoOf(kind_).http_status; }
  // Extra response headers (X-RateLimit-Reset, ...).
  const std::map<std::string, std::string>& headers() const { return headers_; }
  Error& WithHeader(std::string name, std::string value) {
    headers_[std::move(name)] = std::move(value);
    return *this;
  }

 private:
  ErrorKind kind_;
  std::vector<ErrorDetail> details_;
  int http_status_;  // kInjected only; else 0
  std::map<std::string, std::string> headers_;
};

}  // namespace csrsim
