// Error: a failed operation described in Bandwidth's own terms (kind + codes).
//
// Every module reports a client mistake or a missing resource by throwing an
// Error built with one of the named factories below. Exactly one place, the
// api module's error writer, turns an Error into an HTTP status and a
// Bandwidth-shaped body; nothing else decides HTTP statuses.
//
// Thread-safety: a value type; safe to copy between threads.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "csrsim/model.hpp"

namespace csrsim {

enum class ErrorKind {
  kUnauthorized,     // 401, empty body, WWW-Authenticate
  kForbidden,        // 403, ResponseStatus 1001 / 12160
  kNotFound,         // 404, ResponseStatus
  kInvalid,          // 400, validation (CSR routes: <CsrOrderResponse><Errors>)
  kConflict,         // 409, ResponseStatus (duplicate subscription 16008)
  kPayloadTooLarge,  // 413, ResponseStatus
  kUriTooLong,       // 414, ResponseStatus (request line over the server's limit)
  kHeadersTooLarge,  // 431, ResponseStatus (too many or too large request headers)
  kUnavailable,      // 503, ResponseStatus (a capacity limit of the simulator, out of memory, a state write)
  kRateLimited,      // 429, empty body, X-RateLimit-Reset
  kInjected,         // an injected fault: status chosen by the fault
  kInternal,         // 500, ResponseStatus 1000: a bug, logged where it was caught
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::vector<ErrorDetail> details, int http_status = 0);

  static Error Unauthorized();
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

  ErrorKind kind() const { return kind_; }
  const std::vector<ErrorDetail>& details() const { return details_; }
  int http_status() const { return http_status_; }  // only for kInjected; else 0
  // Extra response headers (X-RateLimit-Reset, ...).
  const std::map<std::string, std::string>& headers() const { return headers_; }
  Error& WithHeader(std::string name, std::string value) {
    headers_[std::move(name)] = std::move(value);
    return *this;
  }

 private:
  ErrorKind kind_;
  std::vector<ErrorDetail> details_;
  int http_status_;
  std::map<std::string, std::string> headers_;
};

}  // namespace csrsim
