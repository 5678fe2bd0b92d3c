// yaml_file: the one reader of YAML files — scenario files (scenario.hpp) and
// the --config accounts file (config.hpp) — so both read exactly one document
// the same way and word their errors the same way: "file:line:col: message",
// naming the rule and quoting at most a short, escaped token of the file.
// The only module besides those two that includes yaml-cpp.
//
// Thread-safety: stateless functions; safe from any thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "csrsim/file_error.hpp"

namespace csrsim {

// An error at a place in a YAML file (file_error.hpp).
using YamlFileError = FileError;

// Parses `text` as one YAML document; an empty file is a null node. Throws
// YamlFileError for a syntax error ("YAML syntax error: ...") and for a second
// document ("... holds one YAML document; remove the second `---`", `what`
// naming the kind of file). Never yaml-cpp's LoadAll, which does not return
// on some inputs (fuzz/regressions/scenario_yaml/loadall-never-ends).
YAML::Node LoadYamlDocument(std::string_view text, const std::string& file, std::string_view what);

struct YamlPlace {
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};
YamlPlace PlaceOf(const YAML::Node& node);

// Text of the file as an error quotes it: `token`, cut at 64 bytes, escaped.
std::string QuotedYaml(std::string_view text);
// How a node reads in an error: "a list", "a mapping", "an empty value", a
// short one-line scalar quoted ("`soon`"), a longer one as "a text of N bytes"
// (a value where a list belongs may be a whole file that is no YAML of ours).
std::string DescribeYaml(const YAML::Node& node);

}  // namespace csrsim
