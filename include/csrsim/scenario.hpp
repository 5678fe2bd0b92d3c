// scenario: how an order evolves after POST /csrs, loaded from YAML
// (docs/scenarios.md). The only module that parses scenario YAML.
//
// A ScenarioSet is an immutable, validated value: loading either yields a
// complete set or throws ScenarioLoadError naming file:line:col, so a reload can
// swap sets atomically (hold them by shared_ptr<const ScenarioSet>). Matching
// and CSR generation are pure functions.
//
// Thread-safety: a loaded ScenarioSet is immutable and safe to share between
// threads. The loaders and GenerateCsrData are stateless.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "csrsim/file_error.hpp"
#include "csrsim/model.hpp"

namespace csrsim {

// A load error pointing at the offending YAML node ("file:line:col: message").
class ScenarioLoadError : public FileError {
 public:
  using FileError::FileError;
};

// What a scenario may match on. All given keys must hold (AND).
struct Matcher {
  std::optional<std::string> tn;
  std::optional<std::string> tn_prefix;
  std::optional<std::string> tn_suffix;
  std::optional<std::string> tn_regex_source;
  std::optional<std::regex> tn_regex;                    // full match (std::regex_match)
  std::vector<std::pair<CsrField, std::string>> fields;  // exact values
  std::optional<std::string> account;

  // `tn` is the order's WorkingOrBillingTelephoneNumber (digits, as given).
  bool Matches(const CsrFields& fields, std::string_view account_id) const;
};

enum class CsrSource { kNone, kExplicit, kGenerated };

struct Step {
  std::optional<Duration> after;          // relative to the previous step (or create)
  bool on_update = false;                 // waits for a PUT...
  std::vector<CsrField> requires_fields;  // ...carrying all of these fields
  OrderStatus status = OrderStatus::kProcessing;
  std::optional<std::string> message;
  CsrSource csr_source = CsrSource::kNone;
  CsrData csr;  // for kExplicit
  std::vector<ErrorDetail> errors;
  bool notify = false;           // resolved default: true unless PROCESSING
  CallbackFault callback_fault;  // extension: faults on this step's callbacks
  int line = 0;                  // where the step starts in its file
};

// One weighted alternative of a scenario's steps (extension `variants:`).
struct Variant {
  std::string name;
  std::uint32_t weight = 1;
  std::vector<Step> steps;
};

struct Scenario {
  std::string name;
  std::string description;
  std::optional<Matcher> match;  // none: matches every order
  // Extension: POST /csrs for a matching order answers this HTTP status
  // (400-599) and creates nothing; such a scenario has no steps.
  std::optional<int> reject_create;
  // Exactly one variant for a plain `steps:` scenario; none with reject_create.
  std::vector<Variant> variants;
  std::string source;  // "file:line" where the scenario starts

  // Chooses a variant by weight from a uniform random number (deterministic
  // for a given `random`). Returns variants[0] when there is one.
  const Variant& PickVariant(std::uint64_t random) const;
};

class ScenarioSet {
 public:
  ScenarioSet() = default;
  ScenarioSet(std::vector<Scenario> scenarios, std::optional<std::string> default_name);

  // First scenario whose match fits; else the named default; else nullptr
  // (callers then use BuiltinFallback()).
  const Scenario* Match(const CsrFields& fields, std::string_view account_id) const;
  const Scenario* Find(std::string_view name) const;
  const std::vector<Scenario>& scenarios() const { return scenarios_; }
  const std::optional<std::string>& default_name() const { return default_name_; }

 private:
  std::vector<Scenario> scenarios_;
  std::optional<std::string> default_name_;
};

// Where an order stands in its scenario.
struct ScenarioProgress {
  std::shared_ptr<const ScenarioSet> set;  // keeps `variant` alive across reloads
  const Variant* variant = nullptr;
  std::size_t next_step = 0;        // index into variant->steps
  std::uint64_t generation = 0;     // bumped whenever pending timers become stale
  bool waiting_for_update = false;  // next step is an on_update step
  std::optional<SimTime> due;       // when the scheduled next step runs (none: not scheduled)
  // The order's row in the --state file (state_store.cpp), 0 before its first
  // write. Written by the state sink through the const reference SaveOrder
  // gets, while the caller holds the order's mutex.
  mutable std::int64_t state_row = 0;
  // How many of the order's notes (the first ones) that row's notes hold:
  // a later write adds only the rest. Written like state_row.
  mutable std::size_t state_notes = 0;
};

// PROCESSING at 1 s, COMPLETE at 3 s with generated data: used when a set
// neither matches nor names a default.
const Scenario& BuiltinFallback();

// Parses one YAML document. `file_name` only labels errors. Throws ScenarioLoadError.
ScenarioSet LoadScenarioText(std::string_view yaml, std::string_view file_name);
// Each path is a file or a directory (its *.yaml / *.yml files in name order).
// Scenarios concatenate in path order; the first `default` named wins; a
// duplicate scenario name across files is an error. Throws ScenarioLoadError.
ScenarioSet LoadScenarioPaths(const std::vector<std::string>& paths);
// The files LoadScenarioPaths reads for `paths`, in order. Throws
// ScenarioLoadError for a path that cannot be read and for a directory
// holding no *.yaml / *.yml file ("no scenario files in DIR").
std::vector<std::string> ScenarioFilesOf(const std::vector<std::string>& paths);

// scenarios/default.yaml, compiled into the binary (generated by CMake).
extern const char kDefaultScenariosYaml[];
// The bundled scenarios (kDefaultScenariosYaml), labelled "default.yaml".
ScenarioSet LoadBundledScenarios();

// Plausible CSR data derived only from the TN (same TN, same data); its
// WorkingTelephoneNumber is the TN.
CsrData GenerateCsrData(std::string_view tn);

}  // namespace csrsim
