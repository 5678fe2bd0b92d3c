// encoding: small text codecs shared by several modules (Base64, URL form
// decoding, bounded echoes of client input). Pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csrsim {

// ASCII case folding, for the case-insensitive parts of HTTP and URLs
// (header names, schemes, hosts, tokens): bytes outside A-Z are kept.
char AsciiLower(char c);
std::string AsciiLowerCopy(std::string_view text);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix);

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; whitespace is not allowed. nullopt if invalid.
std::optional<std::string> Base64Decode(std::string_view text);
// Percent-encodes all but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string UrlEncode(std::string_view text);
// "%2F" -> "/"; '+' stays '+' (a URL path, not a form). Invalid escapes are kept as sent.
std::string PercentDecode(std::string_view text);
// "a=1&b=x%20y" -> {("a","1"),("b","x y")}; '+' decodes to a space.
std::vector<std::pair<std::string, std::string>> ParseFormUrlEncoded(std::string_view body);

// At most this many bytes of client input are echoed into an error message.
inline constexpr std::size_t kMaxEchoBytes = 64;
// `text` made safe to quote in an error message, a log line or a header:
// printable ASCII is kept, every other byte (control characters, bytes of
// UTF-8 sequences, invalid bytes) becomes \xNN, and input beyond `max_bytes`
// is cut and replaced by "...(N bytes)". The result is ASCII and well-formed
// in XML and JSON.
std::string EchoToken(std::string_view text, std::size_t max_bytes = kMaxEchoBytes);

// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates, at
// most U+10FFFF) holding only characters XML 1.0 allows (no C0 control
// characters other than tab, line feed and carriage return; no U+FFFE/U+FFFF).
bool IsXmlSafeUtf8(std::string_view text);

// Appends `text` as a JSON string literal, quotes included: '"', '\\' and
// control characters escaped, U+2028/U+2029 escaped too (no reader takes them
// for a line break), and each byte that is not part of well-formed UTF-8
// replaced by U+FFFD. The result is valid JSON on one line whatever the bytes.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace csrsim
