// Callback URLs (url.hpp), the one parser subscription validation and the
// callback transport share. Properties: a parsed URL has a host, a port in
// 1..65535 and a target starting with '/'; the loopback check never fails.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csrsim/url.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto url = ParseHttpUrl(text);
  (void)IsLoopbackHost(text);
  if (!url) return 0;
  FUZZ_CHECK(!url->host.empty());
  FUZZ_CHECK(url->port >= 1 && url->port <= 65535);
  FUZZ_CHECK(!url->target.empty() && url->target.front() == '/');
  (void)IsLoopbackHost(url->host);
  return 0;
}
