// encoding: small text codecs shared by several modules (Base64, URL form
// decoding). Pure functions; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csrsim {

std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding; whitespace is not allowed. nullopt if invalid.
std::optional<std::string> Base64Decode(std::string_view text);
// Percent-encodes all but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string UrlEncode(std::string_view text);
// "a=1&b=x%20y" -> {("a","1"),("b","x y")}; '+' decodes to a space.
std::vector<std::pair<std::string, std::string>> ParseFormUrlEncoded(std::string_view body);

}  // namespace csrsim
