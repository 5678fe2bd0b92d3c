// Shared by the fuzz targets (fuzz/README.md): a property that must hold for
// every input. A failed check aborts, so libFuzzer saves the input as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <pugixml.hpp>

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

namespace csrsim::fuzz {

// Whether `xml` is a well-formed document with a root element (what every
// client parses).
inline bool WellFormedXml(std::string_view xml) {
  pugi::xml_document doc;
  return doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8) && doc.document_element();
}

}  // namespace csrsim::fuzz
