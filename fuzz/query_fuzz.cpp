// Query strings and form bodies (encoding.hpp): ParseFormUrlEncoded, which the
// server uses for every URL query and the token endpoint for its form body,
// and the echo helpers every error message uses. Properties: UrlEncode and
// the decoder round-trip; an echo is ASCII, bounded, and well-formed UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "csrsim/encoding.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto& [name, value] : ParseFormUrlEncoded(text)) {
    const std::string echo = EchoToken(value);
    FUZZ_CHECK(echo.size() <= kMaxEchoBytes * 4 + 32);
    FUZZ_CHECK(IsXmlSafeUtf8(echo));
    (void)name;
  }
  const auto round_trip = ParseFormUrlEncoded("v=" + UrlEncode(text));
  FUZZ_CHECK(round_trip.size() == 1 && round_trip[0].second == text);
  const std::string escaped = EchoToken(text, size);
  FUZZ_CHECK(IsXmlSafeUtf8(escaped));
  return 0;
}
