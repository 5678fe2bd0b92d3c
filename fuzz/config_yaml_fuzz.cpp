// The --config accounts file (docs/configuration.md). Property: loading
// succeeds or throws ConfigError ("file:line:col: message"), nothing else.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csrsim/config.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  Config config;
  try {
    LoadConfigText(yaml, "fuzz.yaml", config);
  } catch (const ConfigError& error) {
    FUZZ_CHECK(std::string_view(error.what()).rfind("fuzz.yaml:", 0) == 0);
  }
  return 0;
}
