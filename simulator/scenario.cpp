#include "csrsim/scenario.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <span>
#include <sstream>
#include <system_error>

#include "csrsim/clock.hpp"
#include "csrsim/encoding.hpp"
#include "csrsim/yaml_file.hpp"

namespace csrsim {

namespace {

constexpr std::string_view kTopLevelKeys[] = {"scenarios", "default"};
constexpr std::string_view kScenarioKeys[] = {"name", "description", "match", "steps", "variants", "reject_create"};
constexpr std::string_view kVariantKeys[] = {"name", "weight", "steps"};
constexpr std::string_view kMatchKeys[] = {"tn", "tn_prefix", "tn_suffix", "tn_regex", "fields", "account"};
constexpr std::string_view kStepKeys[] = {"after", "on_update", "status", "message",
                                          "csr",   "errors",    "notify", "callback_fault"};
constexpr std::string_view kOnUpdateKeys[] = {"requires"};
constexpr std::string_view kCsrDataKeys[] = {"AccountNumber", "CustomerName", "ServiceAddress",
                                             "WorkingTelephoneNumber", "WorkingTelephoneNumbersOnAccount"};
constexpr std::string_view kErrorKeys[] = {"code", "description"};
// The keys of `callback_fault`: the fault kinds' names (model.hpp).
constexpr auto kCallbackFaultKeys = [] {
  std::array<std::string_view, kCallbackFaultKindCount> names{};
  for (std::size_t i = 0; i < names.size(); ++i) names[i] = kCallbackFaultKinds[i].name;
  return names;
}();
// Every status but RECEIVED, which every order starts in.
constexpr std::span<const std::string_view> kStepStatuses = std::span(kOrderStatusNames).subspan(1);
static_assert(kOrderStatusNames[0] == "RECEIVED");
constexpr std::string_view kDurationHint = "a number and a unit: 250ms, 2s, 1.5s, 5m or 1h";

std::string Join(std::span<const std::string_view> words) {
  std::string joined;
  for (std::string_view word : words) {
    if (!joined.empty()) joined += ", ";
    joined += word;
  }
  return joined;
}

std::string CsrFieldNames() {
  std::string names;
  for (std::size_t i = 0; i < kCsrFieldCount; ++i) {
    if (!names.empty()) names += ", ";
    names += WireName(static_cast<CsrField>(i));
  }
  return names;
}

std::string Quoted(std::string_view word) { return QuotedYaml(word); }
std::string Describe(const YAML::Node& node) { return DescribeYaml(node); }

struct Entry {
  YAML::Node key;
  YAML::Node value;
  std::string name() const { return key.Scalar(); }
  // Where errors about the value point: an empty value has no position of
  // its own (yaml-cpp marks the next token), so its key stands in.
  const YAML::Node& where() const { return value.IsNull() ? key : value; }
};
using Entries = std::map<std::string, Entry, std::less<>>;

const Entry* Find(const Entries& entries, std::string_view key) {
  auto it = entries.find(key);
  return it == entries.end() ? nullptr : &it->second;
}

// std::regex compiles and matches by recursion, one frame per nested group,
// per term of a sequence and per state a repeat count copies: a long or deeply
// nested pattern overflows the stack. A TN has at most 12 characters, so
// these limits take nothing a TN pattern needs. Checked before compiling.
constexpr std::size_t kMaxRegexLength = 256;
constexpr std::size_t kMaxRegexDepth = 16;
constexpr std::uint64_t kMaxRegexRepeat = 100;
constexpr std::uint64_t kMaxRegexSize = 2'000;  // atoms after expanding repeat counts

// How many atoms a regex expands to, group by group, as it is read: a
// repeat count multiplies the atom or group before it.
class RegexSize {
 public:
  void Atom(std::uint64_t size = 1) {
    groups_.back().size += size;
    groups_.back().last = size;
  }
  // False when groups nest deeper than kMaxRegexDepth.
  bool Open() {
    groups_.emplace_back();
    return groups_.size() <= kMaxRegexDepth + 1;
  }
  void Close() {
    if (groups_.size() == 1) return Atom();  // an unbalanced ')': std::regex will say so
    const std::uint64_t size = groups_.back().size + 1;
    groups_.pop_back();
    Atom(size);
  }
  void Repeat(std::uint64_t count) {
    Group& group = groups_.back();
    group.size += group.last * count;
    group.last *= count + 1;
  }
  bool TooLarge() const {
    return std::any_of(groups_.begin(), groups_.end(), [](const Group& group) { return group.size > kMaxRegexSize; });
  }

 private:
  struct Group {
    std::uint64_t size = 0;  // atoms in the group so far, repeats expanded
    std::uint64_t last = 0;  // size of the last atom or group, for a repeat count
  };
  std::vector<Group> groups_ = std::vector<Group>(1);
};

// Where the bracket expression opening at source[open] ends.
std::size_t BracketEnd(std::string_view source, std::size_t open) {
  std::size_t i = open + 1;
  for (; i < source.size() && source[i] != ']'; ++i) {
    if (source[i] == '\\') ++i;
  }
  return i;
}

// Where a repeat count "{n}", "{n,}" or "{n,m}" opening at source[open]
// ends, or nothing when the brace is a literal.
std::optional<std::size_t> CountEnd(std::string_view source, std::size_t open) {
  std::size_t j = open + 1;
  while (j < source.size() && (std::isdigit(static_cast<unsigned char>(source[j])) || source[j] == ',')) ++j;
  if (j == open + 1 || j >= source.size() || source[j] != '}') return std::nullopt;
  return j;
}

// The largest number in "n", "n," or "n,m" (saturating past kMaxRegexRepeat).
std::uint64_t LargestCount(std::string_view numbers) {
  std::uint64_t largest = 0;
  std::uint64_t current = 0;
  for (char c : numbers) {
    if (c == ',') {
      largest = std::max(largest, current);
      current = 0;
    } else {
      current = std::min<std::uint64_t>(current * 10 + static_cast<std::uint64_t>(c - '0'), kMaxRegexRepeat + 1);
    }
  }
  return std::max(largest, current);
}

// Why `source` is refused, or nullopt. Brackets, escapes and counts are read
// the way ECMAScript does; anything else malformed is left to std::regex.
std::optional<std::string> RegexTooComplex(std::string_view source) {
  if (source.size() > kMaxRegexLength) {
    return "is " + std::to_string(source.size()) + " characters long; at most " + std::to_string(kMaxRegexLength) +
           " are allowed";
  }
  RegexSize size;
  for (std::size_t i = 0; i < source.size(); ++i) {
    const char c = source[i];
    std::optional<std::size_t> count_end;
    if (c == '\\') {
      ++i;
      size.Atom();
    } else if (c == '[') {
      i = BracketEnd(source, i);
      size.Atom();
    } else if (c == '(') {
      if (!size.Open()) return "nests groups more than " + std::to_string(kMaxRegexDepth) + " deep";
    } else if (c == ')') {
      size.Close();
    } else if (c == '{' && (count_end = CountEnd(source, i))) {
      const std::uint64_t count = LargestCount(source.substr(i + 1, *count_end - i - 1));
      if (count > kMaxRegexRepeat) {
        return "repeats more than " + std::to_string(kMaxRegexRepeat) + " times (a TN has at most 12 characters)";
      }
      size.Repeat(count);
      i = *count_end;
    } else {
      size.Atom();
    }
    if (size.TooLarge()) {
      return "is too complex: its groups and repeat counts expand to more than " + std::to_string(kMaxRegexSize) +
             " elements";
    }
  }
  return std::nullopt;
}

// A location in a file, kept to report errors found after parsing.
struct Location {
  int line = 0;
  int column = 0;
};

Location LocationOf(const YAML::Node& node) {
  const YamlPlace place = PlaceOf(node);
  return {place.line, place.column};
}

// One file's scenarios before cross-file checks (names, default).
struct ParsedFile {
  std::string file;
  std::vector<Scenario> scenarios;
  std::vector<Location> name_locations;  // parallel to `scenarios`
  std::optional<std::string> default_name;
  Location default_location;
};

// Turns one YAML document into scenarios, throwing ScenarioLoadError at the
// first node that breaks the rules of docs/scenarios.md.
class FileParser {
 public:
  explicit FileParser(std::string file) : file_(std::move(file)) {}

  ParsedFile Parse(std::string_view yaml) const {
    YAML::Node root;
    try {
      root = LoadYamlDocument(yaml, file_, "a scenario file");
    } catch (const YamlFileError& error) {
      throw ScenarioLoadError(file_, error.line(), error.column(), error.message());
    }
    if (root.IsNull()) {
      throw ScenarioLoadError(file_, 1, 1, "the file is empty: expected `scenarios:` with a list of scenarios");
    }
    Entries top = ReadMapping(root, "the top level", kTopLevelKeys);

    ParsedFile parsed;
    parsed.file = file_;
    const Entry* scenarios = Find(top, "scenarios");
    if (scenarios == nullptr) Fail(root, "the file needs `scenarios:` with a list of scenarios");
    if (!scenarios->value.IsSequence()) {
      Fail(scenarios->where(), "`scenarios` must be a list of scenarios, not " + Describe(scenarios->value));
    }
    for (const YAML::Node& node : scenarios->value) {
      parsed.scenarios.push_back(ReadScenario(node, parsed.name_locations));
    }
    if (const Entry* default_entry = Find(top, "default")) {
      parsed.default_name = ReadString(*default_entry);
      parsed.default_location = LocationOf(default_entry->value);
    }
    return parsed;
  }

 private:
  [[noreturn]] void Fail(const YAML::Node& node, const std::string& message) const {
    Location at = LocationOf(node);
    throw ScenarioLoadError(file_, at.line, at.column, message);
  }

  // Checks that `node` is a mapping whose keys are all `allowed`, once each.
  Entries ReadMapping(const YAML::Node& node, std::string_view what, std::span<const std::string_view> allowed) const {
    if (!node.IsMap()) Fail(node, std::string(what) + " must be a mapping, not " + Describe(node));
    Entries entries;
    for (const auto& item : node) {
      const YAML::Node& key = item.first;
      if (!key.IsScalar()) {
        Fail(key, "keys of " + std::string(what) + " must be words, not " + Describe(key));
      }
      const std::string& name = key.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        Fail(key, "unknown key " + Quoted(name) + " in " + std::string(what) + "; allowed keys: " + Join(allowed));
      }
      if (!entries.emplace(name, Entry{key, item.second}).second) {
        Fail(key, "duplicate key " + Quoted(name) + " in " + std::string(what));
      }
    }
    return entries;
  }

  Entries ReadMapping(const Entry& entry, std::span<const std::string_view> allowed) const {
    if (!entry.value.IsMap()) {
      Fail(entry.where(), Quoted(entry.name()) + " must be a mapping, not " + Describe(entry.value));
    }
    return ReadMapping(entry.value, Quoted(entry.name()), allowed);
  }

  std::string ReadString(const Entry& entry) const {
    if (!entry.value.IsScalar()) {
      Fail(entry.where(), Quoted(entry.name()) + " must be a string, not " + Describe(entry.value));
    }
    return entry.value.Scalar();
  }

  std::string ReadNonEmptyString(const Entry& entry) const {
    std::string text = ReadString(entry);
    if (text.empty()) Fail(entry.where(), Quoted(entry.name()) + " must not be empty");
    return text;
  }

  bool ReadBool(const Entry& entry) const {
    bool value = false;
    if (!entry.value.IsScalar() || !YAML::convert<bool>::decode(entry.value, value)) {
      Fail(entry.where(), Quoted(entry.name()) + " must be true or false, not " + Describe(entry.value));
    }
    return value;
  }

  Duration ReadDuration(const Entry& entry) const {
    const std::string name = Quoted(entry.name());
    if (!entry.value.IsScalar()) {
      Fail(entry.where(),
           name + " must be a duration (" + std::string(kDurationHint) + "), not " + Describe(entry.value));
    }
    const std::string& text = entry.value.Scalar();
    if (!text.empty() && text.front() == '-') {
      Fail(entry.where(), name + " must not be negative, got " + Quoted(text));
    }
    std::optional<Duration> duration = ParseDuration(text);
    if (!duration) {
      Fail(entry.where(), "bad duration " + Quoted(text) + " for " + name + ": write " + std::string(kDurationHint));
    }
    return *duration;
  }

  std::vector<std::string> ReadStringList(const Entry& entry) const {
    if (!entry.value.IsSequence()) {
      Fail(entry.where(), Quoted(entry.name()) + " must be a list, not " + Describe(entry.value));
    }
    std::vector<std::string> items;
    for (const YAML::Node& item : entry.value) {
      if (!item.IsScalar()) {
        Fail(item, "items of " + Quoted(entry.name()) + " must be strings, not " + Describe(item));
      }
      items.push_back(item.Scalar());
    }
    return items;
  }

  CsrField ReadCsrField(const YAML::Node& node, std::string_view where) const {
    std::optional<CsrField> field;
    if (node.IsScalar()) field = CsrFieldByName(node.Scalar());
    if (!field) {
      Fail(node, "unknown field " + Describe(node) + " in " + std::string(where) + "; fields are: " + CsrFieldNames());
    }
    return *field;
  }

  Scenario ReadScenario(const YAML::Node& node, std::vector<Location>& name_locations) const {
    Entries entries = ReadMapping(node, "a scenario", kScenarioKeys);
    Scenario scenario;
    const Entry* name = Find(entries, "name");
    if (name == nullptr) Fail(node, "a scenario needs `name`");
    scenario.name = ReadNonEmptyString(*name);
    name_locations.push_back(LocationOf(name->value));
    scenario.source = file_ + ":" + std::to_string(LocationOf(node).line);
    if (const Entry* description = Find(entries, "description")) {
      scenario.description = ReadString(*description);
    }
    if (const Entry* match = Find(entries, "match")) scenario.match = ReadMatcher(*match);

    const Entry* steps = Find(entries, "steps");
    const Entry* variants = Find(entries, "variants");
    if (steps != nullptr && variants != nullptr) {
      Fail(variants->key, "scenario " + Quoted(scenario.name) + " has both `steps` and `variants`; keep one of them");
    }
    if (const Entry* reject = Find(entries, "reject_create")) {
      if (steps != nullptr || variants != nullptr) {
        Fail(reject->key, "scenario " + Quoted(scenario.name) +
                              " has `reject_create`, so its orders are never created: remove its "
                              "`steps`/`variants`");
      }
      auto status = IntegerIn(reject->value, 400, 599);
      if (!status) {
        Fail(reject->where(),
             "`reject_create` must be an HTTP error status from 400 to 599, not " + Describe(reject->value));
      }
      scenario.reject_create = static_cast<int>(*status);
    } else if (steps != nullptr) {
      scenario.variants.push_back(Variant{.name = scenario.name, .weight = 1, .steps = ReadSteps(*steps)});
    } else if (variants != nullptr) {
      scenario.variants = ReadVariants(*variants);
    } else {
      Fail(node, "scenario " + Quoted(scenario.name) + " needs `steps` (or `variants`, or `reject_create`)");
    }
    return scenario;
  }

  Matcher ReadMatcher(const Entry& entry) const {
    Entries entries = ReadMapping(entry, kMatchKeys);
    Matcher matcher;
    if (const Entry* e = Find(entries, "tn")) matcher.tn = ReadString(*e);
    if (const Entry* e = Find(entries, "tn_prefix")) matcher.tn_prefix = ReadString(*e);
    if (const Entry* e = Find(entries, "tn_suffix")) matcher.tn_suffix = ReadString(*e);
    if (const Entry* e = Find(entries, "tn_regex")) {
      std::string source = ReadString(*e);
      if (auto problem = RegexTooComplex(source)) Fail(e->where(), "`tn_regex` " + *problem);
      try {
        matcher.tn_regex.emplace(source, std::regex::ECMAScript);
      } catch (const std::regex_error& error) {
        Fail(e->where(), "invalid `tn_regex` " + Quoted(source) + ": " + error.what());
      }
      matcher.tn_regex_source = std::move(source);
    }
    if (const Entry* e = Find(entries, "fields")) {
      if (!e->value.IsMap()) {
        Fail(e->where(), "`fields` must be a mapping of field name to value, not " + Describe(e->value));
      }
      for (const auto& item : e->value) {
        CsrField field = ReadCsrField(item.first, "`match.fields`");
        for (const auto& [known, value] : matcher.fields) {
          if (known == field) {
            Fail(item.first, "duplicate field " + Quoted(WireName(field)) + " in `match.fields`");
          }
        }
        matcher.fields.emplace_back(field, ReadString(Entry{item.first, item.second}));
      }
    }
    if (const Entry* e = Find(entries, "account")) matcher.account = ReadString(*e);
    return matcher;
  }

  std::vector<Variant> ReadVariants(const Entry& entry) const {
    if (!entry.value.IsSequence()) {
      Fail(entry.where(), "`variants` must be a list of { name, weight, steps }, not " + Describe(entry.value));
    }
    if (entry.value.size() == 0) {
      Fail(entry.where(), "`variants` is empty: a scenario needs at least one variant");
    }
    std::vector<Variant> variants;
    for (const YAML::Node& node : entry.value) {
      Entries entries = ReadMapping(node, "a variant", kVariantKeys);
      Variant variant;
      const Entry* name = Find(entries, "name");
      if (name == nullptr) Fail(node, "a variant needs `name`");
      variant.name = ReadNonEmptyString(*name);
      for (const Variant& earlier : variants) {
        if (earlier.name == variant.name) {
          Fail(name->where(), "duplicate variant name " + Quoted(variant.name));
        }
      }
      if (const Entry* weight = Find(entries, "weight")) variant.weight = ReadWeight(*weight);
      const Entry* steps = Find(entries, "steps");
      if (steps == nullptr) Fail(node, "variant " + Quoted(variant.name) + " needs `steps`");
      variant.steps = ReadSteps(*steps);
      variants.push_back(std::move(variant));
    }
    return variants;
  }

  std::uint32_t ReadWeight(const Entry& entry) const {
    auto weight = IntegerIn(entry.value, 1, std::numeric_limits<std::uint32_t>::max());
    if (!weight) {
      Fail(entry.where(), "`weight` must be a positive integer (1 to 4294967295), not " + Describe(entry.value));
    }
    return static_cast<std::uint32_t>(*weight);
  }

  std::vector<Step> ReadSteps(const Entry& entry) const {
    if (!entry.value.IsSequence()) {
      Fail(entry.where(), "`steps` must be a list of steps, not " + Describe(entry.value));
    }
    if (entry.value.size() == 0) {
      Fail(entry.where(), "`steps` is empty: a scenario needs at least one step");
    }
    std::vector<Step> steps;
    for (const YAML::Node& node : entry.value) {
      if (!steps.empty() && IsTerminal(steps.back().status)) {
        Fail(node, "a step follows the " + std::string(ToString(steps.back().status)) + " step of line " +
                       std::to_string(steps.back().line) +
                       "; COMPLETE, FAILED and CANCELLED end the order, so they must be the "
                       "last step");
      }
      steps.push_back(ReadStep(node));
    }
    return steps;
  }

  Step ReadStep(const YAML::Node& node) const {
    Entries entries = ReadMapping(node, "a step", kStepKeys);
    Step step;
    step.line = LocationOf(node).line;

    const Entry* status = Find(entries, "status");
    if (status == nullptr) {
      Fail(node, "a step needs `status` (one of " + Join(kStepStatuses) + ")");
    }
    step.status = ReadStatus(*status);

    const Entry* after = Find(entries, "after");
    const Entry* on_update = Find(entries, "on_update");
    if (after == nullptr && on_update == nullptr) {
      Fail(node, "a step needs `after` (a duration) or `on_update` (wait for a PUT), or both");
    }
    if (after != nullptr) step.after = ReadDuration(*after);
    if (on_update != nullptr) {
      step.on_update = true;
      Entries update = ReadMapping(*on_update, kOnUpdateKeys);
      if (const Entry* requires_entry = Find(update, "requires")) {
        if (!requires_entry->value.IsSequence()) {
          Fail(requires_entry->where(),
               "`requires` must be a list of field names, not " + Describe(requires_entry->value));
        }
        for (const YAML::Node& field : requires_entry->value) {
          step.requires_fields.push_back(ReadCsrField(field, "`requires`"));
        }
      }
    }

    if (const Entry* message = Find(entries, "message")) step.message = ReadString(*message);
    if (const Entry* csr = Find(entries, "csr")) ReadCsr(*csr, step);
    if (const Entry* errors = Find(entries, "errors")) step.errors = ReadErrors(*errors);
    const Entry* notify = Find(entries, "notify");
    step.notify = notify != nullptr ? ReadBool(*notify) : step.status != OrderStatus::kProcessing;
    if (const Entry* fault = Find(entries, "callback_fault")) {
      step.callback_fault = ReadCallbackFault(*fault);
    }
    return step;
  }

  OrderStatus ReadStatus(const Entry& entry) const {
    std::string text = ReadString(entry);
    std::optional<OrderStatus> status = ParseOrderStatus(text);
    if (status == OrderStatus::kReceived) {
      Fail(entry.where(),
           "status RECEIVED cannot be a step: every order starts RECEIVED on "
           "create; use one of " +
               Join(kStepStatuses));
    }
    if (!status) {
      std::string upper = text;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::string hint =
          ParseOrderStatus(upper) && upper != "RECEIVED" ? " (statuses are upper case: " + upper + ")" : "";
      Fail(entry.where(), "unknown status " + Quoted(text) + hint + "; use one of " + Join(kStepStatuses));
    }
    return *status;
  }

  void ReadCsr(const Entry& entry, Step& step) const {
    if (entry.value.IsScalar() && entry.value.Scalar() == "generated") {
      step.csr_source = CsrSource::kGenerated;
      return;
    }
    if (!entry.value.IsMap()) {
      Fail(entry.where(), "`csr` must be a CsrData mapping or the word `generated`, not " + Describe(entry.value));
    }
    Entries entries = ReadMapping(entry, kCsrDataKeys);
    step.csr_source = CsrSource::kExplicit;
    CsrData& data = step.csr;
    if (const Entry* e = Find(entries, "AccountNumber")) data.account_number = ReadString(*e);
    if (const Entry* e = Find(entries, "CustomerName")) data.customer_name = ReadString(*e);
    if (const Entry* e = Find(entries, "ServiceAddress")) {
      Entries address = ReadMapping(*e, kServiceAddressFields);
      for (std::string_view field : kServiceAddressFields) {
        if (const Entry* part = Find(address, field)) {
          data.service_address.emplace_back(std::string(field), ReadString(*part));
        }
      }
    }
    if (const Entry* e = Find(entries, "WorkingTelephoneNumber")) {
      data.working_telephone_number = ReadString(*e);
    }
    if (const Entry* e = Find(entries, "WorkingTelephoneNumbersOnAccount")) {
      data.working_telephone_numbers_on_account = ReadStringList(*e);
    }
  }

  std::vector<ErrorDetail> ReadErrors(const Entry& entry) const {
    if (!entry.value.IsSequence()) {
      Fail(entry.where(), "`errors` must be a list of { code: 26500, description: ... }, not " + Describe(entry.value));
    }
    std::vector<ErrorDetail> errors;
    for (const YAML::Node& item : entry.value) {
      Entries entries = ReadMapping(item, "an `errors` entry", kErrorKeys);
      const Entry* code = Find(entries, "code");
      if (code == nullptr) Fail(item, "an `errors` entry needs `code` (an integer such as 26500)");
      const Entry* description = Find(entries, "description");
      if (description == nullptr) Fail(item, "an `errors` entry needs `description`");
      auto value = IntegerIn(code->value, std::numeric_limits<int>::min(), std::numeric_limits<int>::max());
      if (!value) Fail(code->where(), "`code` must be an integer such as 26500, not " + Describe(code->value));
      errors.push_back(ErrorDetail{static_cast<int>(*value), ReadString(*description)});
    }
    return errors;
  }

  CallbackFault ReadCallbackFault(const Entry& entry) const {
    Entries entries = ReadMapping(entry, kCallbackFaultKeys);
    CallbackFault fault;
    for (const auto& kind : kCallbackFaultKinds) {
      const Entry* e = Find(entries, kind.name);
      if (e == nullptr) continue;
      if (kind.takes_duration) {
        fault.Set(kind.kind, ReadDuration(*e));
      } else if (ReadBool(*e)) {
        fault.Set(kind.kind);
      }
    }
    return fault;
  }

  // A scalar holding a whole number within [min, max]; nullopt otherwise.
  static std::optional<long long> IntegerIn(const YAML::Node& node, long long min, long long max) {
    if (!node.IsScalar()) return std::nullopt;
    const std::string& text = node.Scalar();
    long long value = 0;
    const char* end = text.data() + text.size();
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc() || stop != end || text.empty() || value < min || value > max) return std::nullopt;
    return value;
  }

  std::string file_;
};

// Cross-file checks: unique names, a default that names a loaded scenario.
ScenarioSet Assemble(std::vector<ParsedFile> files) {
  std::vector<Scenario> scenarios;
  std::map<std::string, std::string, std::less<>> defined_at;  // name -> "file:line"
  for (const ParsedFile& file : files) {
    for (std::size_t i = 0; i < file.scenarios.size(); ++i) {
      const Scenario& scenario = file.scenarios[i];
      auto [it, inserted] = defined_at.emplace(scenario.name, scenario.source);
      if (!inserted) {
        Location at = file.name_locations[i];
        throw ScenarioLoadError(
            file.file, at.line, at.column,
            "duplicate scenario name " + Quoted(scenario.name) + "; already defined at " + it->second);
      }
    }
  }
  std::optional<std::string> default_name;
  for (ParsedFile& file : files) {
    if (file.default_name) {
      if (!defined_at.contains(*file.default_name)) {
        throw ScenarioLoadError(file.file, file.default_location.line, file.default_location.column,
                                "`default` names " + Quoted(*file.default_name) + ", but no scenario has that name");
      }
      if (!default_name) default_name = file.default_name;
    }
    std::move(file.scenarios.begin(), file.scenarios.end(), std::back_inserter(scenarios));
  }
  return ScenarioSet(std::move(scenarios), std::move(default_name));
}

std::vector<std::string> FilesOfPath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::file_status status = fs::status(path, error);
  if (error) throw ScenarioLoadError(path, 0, 0, "cannot read: " + error.message());
  if (!fs::is_directory(status)) return {path};
  std::vector<fs::path> found;
  for (fs::directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
    std::string extension = it->path().extension().string();
    if ((extension == ".yaml" || extension == ".yml") && it->is_regular_file(error)) {
      found.push_back(it->path());
    }
  }
  if (error) throw ScenarioLoadError(path, 0, 0, "cannot read: " + error.message());
  // An empty directory would replace every scenario with none: surely a mistake.
  if (found.empty())
    throw ScenarioLoadError(path, 0, 0, "no scenario files in " + path + " (expected *.yaml or *.yml)");
  std::sort(found.begin(), found.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  std::vector<std::string> files;
  files.reserve(found.size());
  for (const fs::path& file : found) files.push_back(file.string());
  return files;
}

std::string ReadFileText(const std::string& file) {
  constexpr std::uintmax_t kMaxScenarioFileBytes = std::uintmax_t{10} * 1024 * 1024;
  std::error_code error;
  if (!std::filesystem::exists(file, error)) {
    throw ScenarioLoadError(file, 0, 0, "cannot read: No such file or directory");
  }
  if (!std::filesystem::is_regular_file(file, error)) {
    throw ScenarioLoadError(file, 0, 0, "cannot read: not a regular file");
  }
  if (std::filesystem::file_size(file, error) > kMaxScenarioFileBytes) {
    throw ScenarioLoadError(file, 0, 0, "cannot read: larger than 10 MiB");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ScenarioLoadError(file, 0, 0, "cannot read: " + std::generic_category().message(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ScenarioLoadError(file, 0, 0, "cannot read: I/O error");
  return text.str();
}

}  // namespace

bool Matcher::Matches(const CsrFields& order_fields, std::string_view account_id) const {
  const std::string* given = order_fields.Get(CsrField::kWorkingOrBillingTelephoneNumber);
  std::string_view number = given != nullptr ? std::string_view(*given) : std::string_view();
  if (number.starts_with("+1")) number.remove_prefix(2);  // E.164 +1NPANXXXXXX
  if (tn && number != *tn) return false;
  if (tn_prefix && !number.starts_with(*tn_prefix)) return false;
  if (tn_suffix && !number.ends_with(*tn_suffix)) return false;
  if (tn_regex && !std::regex_match(number.begin(), number.end(), *tn_regex)) return false;
  for (const auto& [field, value] : fields) {
    const std::string* actual = order_fields.Get(field);
    if (actual == nullptr || *actual != value) return false;
  }
  return !account || account_id == *account;
}

const Variant& Scenario::PickVariant(std::uint64_t random) const {
  std::uint64_t total_weight = 0;
  for (const Variant& variant : variants) total_weight += variant.weight;
  std::uint64_t point = random % total_weight;
  for (const Variant& variant : variants) {
    if (point < variant.weight) return variant;
    point -= variant.weight;
  }
  return variants.back();
}

ScenarioSet::ScenarioSet(std::vector<Scenario> scenarios, std::optional<std::string> default_name)
    : scenarios_(std::move(scenarios)), default_name_(std::move(default_name)) {}

const Scenario* ScenarioSet::Match(const CsrFields& fields, std::string_view account_id) const {
  for (const Scenario& scenario : scenarios_) {
    if (!scenario.match || scenario.match->Matches(fields, account_id)) return &scenario;
  }
  return default_name_ ? Find(*default_name_) : nullptr;
}

const Scenario* ScenarioSet::Find(std::string_view name) const {
  for (const Scenario& scenario : scenarios_) {
    if (scenario.name == name) return &scenario;
  }
  return nullptr;
}

const Scenario& BuiltinFallback() {
  static const Scenario fallback = [] {
    Step processing;
    processing.after = std::chrono::seconds(1);
    processing.status = OrderStatus::kProcessing;
    processing.notify = false;
    Step complete;
    complete.after = std::chrono::seconds(2);
    complete.status = OrderStatus::kComplete;
    complete.message = "The CSR request is complete.";
    complete.csr_source = CsrSource::kGenerated;
    complete.notify = true;
    Scenario scenario;
    scenario.name = "builtin-complete";
    scenario.description = "PROCESSING at 1 s, COMPLETE at 3 s with generated data.";
    scenario.variants.push_back(Variant{.name = scenario.name, .weight = 1, .steps = {processing, complete}});
    scenario.source = "builtin";
    return scenario;
  }();
  return fallback;
}

ScenarioSet LoadScenarioText(std::string_view yaml, std::string_view file_name) {
  std::vector<ParsedFile> files;
  files.push_back(FileParser(std::string(file_name)).Parse(yaml));
  return Assemble(std::move(files));
}

std::vector<std::string> ScenarioFilesOf(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    for (std::string& file : FilesOfPath(path)) files.push_back(std::move(file));
  }
  return files;
}

ScenarioSet LoadScenarioPaths(const std::vector<std::string>& paths) {
  std::vector<ParsedFile> files;
  for (const std::string& file : ScenarioFilesOf(paths)) {
    files.push_back(FileParser(file).Parse(ReadFileText(file)));
  }
  return Assemble(std::move(files));
}

ScenarioSet LoadBundledScenarios() { return LoadScenarioText(kDefaultScenariosYaml, "default.yaml"); }

}  // namespace csrsim
