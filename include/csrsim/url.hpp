// url: the one parser of callback URLs. Subscription validation (a URL is
// accepted at create only if it parses here) and the callback transport (which
// delivers to what it parses into) share it, so an accepted URL is deliverable.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace csrsim {

struct HttpUrl {
  bool https = false;
  std::string host;    // lower case; IPv6 literals without their brackets
  int port = 0;        // 1..65535; 80 or 443 when the URL gives none
  std::string target;  // path and query, at least "/"; the fragment is dropped
};

// Parses scheme://host[:port][/path][?query][#fragment]. Accepts only: scheme
// http or https (any case); no user info (`@`); a host of letters, digits,
// '-', '.' and '_', or an IPv4 literal, or a bracketed IPv6 literal; a port,
// when its colon is there, of 1 to 5 digits within 1..65535; no byte at or
// below the space anywhere. nullopt otherwise.
std::optional<HttpUrl> ParseHttpUrl(std::string_view url);

// Whether `host` (as ParseHttpUrl returns it) reaches this machine without
// leaving it: "localhost" and "*.localhost", 127.0.0.0/8 in any numeric
// spelling the resolver takes ("127.1", "2130706433", "0x7f.0.0.1"), the
// unspecified addresses 0.0.0.0 and ::, ::1, and IPv4-mapped forms of these.
// Names that only DNS or /etc/hosts maps to loopback are not recognised.
bool IsLoopbackHost(std::string_view host);

}  // namespace csrsim
