#include "csrsim/yaml_file.hpp"

#include <yaml-cpp/eventhandler.h>

#include <optional>
#include <sstream>

#include "csrsim/encoding.hpp"

namespace csrsim {

namespace {

// A scalar of the file is quoted in an error only when it is this short and on one line.
constexpr std::size_t kMaxQuotedValueBytes = 32;

// Records where the first node of a document starts.
struct FirstMark final : YAML::EventHandler {
  std::optional<YAML::Mark> mark;
  void Seen(const YAML::Mark& at) {
    if (!mark) mark = at;
  }
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& at, YAML::anchor_t) override { Seen(at); }
  void OnAlias(const YAML::Mark& at, YAML::anchor_t) override { Seen(at); }
  void OnScalar(const YAML::Mark& at, const std::string&, YAML::anchor_t, const std::string&) override { Seen(at); }
  void OnSequenceStart(const YAML::Mark& at, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Seen(at);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& at, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    Seen(at);
  }
  void OnMapEnd() override {}
};

// Where the first node of a second document starts, if there is one. Asks the
// parser for two documents at most: on some inputs (",# ") yaml-cpp 0.7
// reports a new empty document forever without consuming anything.
std::optional<YAML::Mark> SecondDocument(std::string_view text) {
  std::istringstream stream{std::string(text)};
  YAML::Parser parser(stream);
  FirstMark first;
  if (!parser.HandleNextDocument(first)) return std::nullopt;
  FirstMark next;
  if (!parser.HandleNextDocument(next)) return std::nullopt;
  return next.mark.value_or(YAML::Mark{});
}

// Whether `text` may hold a second document, without parsing it: YAML starts
// another document only at a line that begins with a marker, `---` or `...`.
// A NUL means UTF-16 or UTF-32 text, whose markers these bytes do not spell:
// parse it.
bool MayHoldSecondDocument(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return true;
  for (std::size_t line = 0; line < text.size();) {
    const std::string_view rest = text.substr(line);
    if (rest.starts_with("---") || rest.starts_with("...")) return true;
    const std::size_t end = text.find_first_of("\r\n", line);
    if (end == std::string_view::npos) break;
    line = end + 1;
  }
  return false;
}

}  // namespace

YAML::Node LoadYamlDocument(std::string_view text, const std::string& file, std::string_view what) {
  YAML::Node root;
  std::optional<YAML::Mark> second;
  try {
    root = YAML::Load(std::string(text));
    // Looking for it parses the first document again: only when it may exist.
    if (MayHoldSecondDocument(text)) second = SecondDocument(text);
  } catch (const YAML::Exception& e) {
    throw YamlFileError(file, e.mark.line + 1, e.mark.column + 1, "YAML syntax error: " + e.msg);
  }
  if (second && !root.IsNull()) {
    throw YamlFileError(file, second->line + 1, second->column + 1,
                        std::string(what) + " holds one YAML document; remove the second `---`");
  }
  return root;
}

YamlPlace PlaceOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return {mark.line + 1, mark.column + 1};
}

std::string QuotedYaml(std::string_view text) { return "`" + EchoToken(text) + "`"; }

std::string DescribeYaml(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (text.size() <= kMaxQuotedValueBytes && text.find('\n') == std::string::npos) return QuotedYaml(text);
      return "a text of " + std::to_string(text.size()) + " bytes";
    }
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "an empty value";
  }
}

}  // namespace csrsim
