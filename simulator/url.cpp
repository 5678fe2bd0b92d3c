// The callback URL parser shared by validation and the transport (url.hpp).
#include "csrsim/url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "csrsim/encoding.hpp"

namespace csrsim {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsHostCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-' || c == '.' || c == '_';
}

bool IsIpv6Literal(const std::string& host) {
  in6_addr address{};
  return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

// "1".."65535" without a sign or leading space.
std::optional<int> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), IsDigit)) {
    return std::nullopt;
  }
  int port = 0;
  for (char c : text) port = port * 10 + (c - '0');
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

// Splits "host[:port]" or "[v6][:port]" into host and port text; false when malformed.
bool SplitAuthority(std::string_view authority, std::string& host, std::string_view& port, bool& has_port) {
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = AsciiLowerCopy(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (after.empty()) return IsIpv6Literal(host);
    if (after.front() != ':') return false;
    has_port = true;
    port = after.substr(1);
    return IsIpv6Literal(host);
  }
  std::size_t colon = authority.find(':');
  host = AsciiLowerCopy(authority.substr(0, colon));
  if (colon != std::string_view::npos) {
    has_port = true;
    port = authority.substr(colon + 1);
  }
  return !host.empty() && std::all_of(host.begin(), host.end(), IsHostCharacter);
}

bool IsLoopbackV4(in_addr address) {
  const std::uint32_t value = ntohl(address.s_addr);
  return (value >> 24) == 127 || value == 0;
}

}  // namespace

std::optional<HttpUrl> ParseHttpUrl(std::string_view url) {
  if (std::any_of(url.begin(), url.end(), [](char c) { return static_cast<unsigned char>(c) <= ' '; })) {
    return std::nullopt;
  }
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  HttpUrl parsed;
  const std::string scheme = AsciiLowerCopy(url.substr(0, scheme_end));
  if (scheme == "https") {
    parsed.https = true;
  } else if (scheme != "http") {
    return std::nullopt;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  // No user:password@ part: credentials go in CallbackCredentials.
  if (authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port_text;
  bool has_port = false;
  if (!SplitAuthority(authority, parsed.host, port_text, has_port)) return std::nullopt;
  if (has_port) {
    auto port = ParsePort(port_text);
    if (!port) return std::nullopt;
    parsed.port = *port;
  } else {
    parsed.port = parsed.https ? 443 : 80;
  }
  std::string_view target = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  target = target.substr(0, target.find('#'));
  parsed.target = target.empty() || target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return parsed;
}

bool IsLoopbackHost(std::string_view host) {
  std::string name = AsciiLowerCopy(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  constexpr std::string_view kLocalhost = "localhost";
  if (name == kLocalhost) return true;
  if (name.size() > kLocalhost.size() + 1 && name.ends_with(".localhost")) return true;
  in_addr v4{};
  if (inet_aton(name.c_str(), &v4) != 0) return IsLoopbackV4(v4);  // every numeric IPv4 spelling
  in6_addr v6{};
  if (inet_pton(AF_INET6, name.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6) || IN6_IS_ADDR_UNSPECIFIED(&v6)) return true;
  if (IN6_IS_ADDR_V4MAPPED(&v6) || IN6_IS_ADDR_V4COMPAT(&v6)) {
    std::memcpy(&v4.s_addr, &v6.s6_addr[12], sizeof v4.s_addr);
    return IsLoopbackV4(v4);
  }
  return false;
}

}  // namespace csrsim
