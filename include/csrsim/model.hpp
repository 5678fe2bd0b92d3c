// Plain value types of the simulated Bandwidth CSR Lookup API: orders, notes,
// subscriptions and their parts, with the names and orders the wire uses.
//
// Contract: no behaviour beyond small helpers, no I/O, no locking. Values are
// copied in and out of the Store, which owns all synchronization.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csrsim {

// Simulated time: microseconds since the Unix epoch (UTC), as read from a Clock.
using SimTime = std::chrono::sys_time<std::chrono::microseconds>;
using Duration = std::chrono::microseconds;

// ---------------------------------------------------------------------------
// Order statuses

enum class OrderStatus { kReceived, kProcessing, kActionRequired, kComplete, kFailed, kCancelled };

// The one table of status names, in OrderStatus order: the wire spelling,
// also used by scenario files and the control API.
inline constexpr std::array<std::string_view, 6> kOrderStatusNames = {"RECEIVED", "PROCESSING", "ACTION_REQUIRED",
                                                                      "COMPLETE", "FAILED",     "CANCELLED"};
static_assert(kOrderStatusNames.size() == static_cast<std::size_t>(OrderStatus::kCancelled) + 1,
              "one name per OrderStatus");

std::string_view ToString(OrderStatus status);                       // "ACTION_REQUIRED"
std::optional<OrderStatus> ParseOrderStatus(std::string_view text);  // exact wire spelling
bool IsTerminal(OrderStatus status);                                 // COMPLETE, FAILED, CANCELLED

// ---------------------------------------------------------------------------
// The fields of a <Csr> request, in the order the wire echoes them.

enum class CsrField : std::uint8_t {
  kCustomerOrderId,
  kWorkingOrBillingTelephoneNumber,
  kAccountNumber,
  kAccountTelephoneNumber,
  kEndUserName,
  kAuthorizingUserName,
  kCustomerCode,
  kEndUserPIN,
  kEndUserPassword,
  kAddressLine1,
  kCity,
  kState,
  kZIPCode,
  kTypeOfService,
};
inline constexpr std::size_t kCsrFieldCount = 14;

std::string_view WireName(CsrField field);  // "EndUserPIN"
// Whether an element name as an SDK sent it means `expected`: case is ignored
// and so is trailing whitespace. Bandwidth's SDKs differ only in the first letter, but
// Ruby camelizes :end_user_pin to EndUserPin, and no two names differ by case.
bool WireNamesMatch(std::string_view name, std::string_view expected);
// Looks a field up by its wire name, as WireNamesMatch compares.
std::optional<CsrField> CsrFieldByName(std::string_view name);

// A sparse set of request fields: only given fields take memory.
class CsrFields {
 public:
  const std::string* Get(CsrField field) const;  // nullptr when absent
  bool Has(CsrField field) const { return Get(field) != nullptr; }
  void Set(CsrField field, std::string value);
  // Copies every field given in `update` over this set (PUT semantics).
  void MergeFrom(const CsrFields& update);
  bool Empty() const { return values_.empty(); }
  // Given fields in wire order.
  const std::vector<std::pair<CsrField, std::string>>& Items() const { return values_; }

  friend bool operator==(const CsrFields&, const CsrFields&) = default;

 private:
  std::vector<std::pair<CsrField, std::string>> values_;  // sorted by field
};

// ---------------------------------------------------------------------------
// CSR data returned once a lookup completes.

// Canonical order of <ServiceAddress> children (docs/wire-contract.md, CSR orders).
inline constexpr std::string_view kServiceAddressFields[] = {
    "UnparsedAddress", "HousePrefix",  "HouseNumber",     "HouseSuffix",  "PreDirectional",
    "StreetName",      "StreetSuffix", "PostDirectional", "AddressLine2", "City",
    "State",           "Zip",          "PlusFour",        "County",       "Country"};

struct CsrData {
  std::optional<std::string> account_number;
  std::optional<std::string> customer_name;
  // (wire name, value) pairs in kServiceAddressFields order; empty = no element.
  std::vector<std::pair<std::string, std::string>> service_address;
  std::optional<std::string> working_telephone_number;
  std::vector<std::string> working_telephone_numbers_on_account;

  friend bool operator==(const CsrData&, const CsrData&) = default;
};

// One <Error><Code/><Description/></Error>, also used for ResponseStatus pairs.
struct ErrorDetail {
  int code = 0;
  std::string description;
  friend bool operator==(const ErrorDetail&, const ErrorDetail&) = default;
};

// ---------------------------------------------------------------------------
// Orders

// An immutable, shared, interned string. Messages, causes and scenario names
// repeat across millions of orders, so each order keeps a pointer, not a copy:
// while any SharedText holds a text, every other SharedText of the same text
// shares it. A text lives as long as a SharedText holds it — texts a client
// chose (a forced transition's message) leave with the last order that holds
// them. Cheap to copy; thread-safe; compares by content.
class SharedText {
 public:
  SharedText();
  SharedText(std::string_view text);  // NOLINT: implicit, like std::string
  SharedText(const char* text) : SharedText(std::string_view(text)) {}
  SharedText(const std::string& text) : SharedText(std::string_view(text)) {}
  const std::string& str() const { return *text_; }
  bool empty() const { return text_->empty(); }
  friend bool operator==(const SharedText& a, const SharedText& b) { return a.text_ == b.text_; }  // interned
  friend bool operator==(const SharedText& a, const char* b) { return *a.text_ == b; }
  friend bool operator==(const SharedText& a, const std::string& b) { return *a.text_ == b; }
  friend std::ostream& operator<<(std::ostream& out, const SharedText& text) { return out << *text.text_; }

  // Distinct texts alive now, in the intern table (tests, memory checks).
  static std::size_t InternedCount();

 private:
  std::shared_ptr<const std::string> text_;  // never null; listed in the intern table while alive
};

struct Note {
  std::int64_t id = 0;
  std::string user_id;
  std::string description;
  SimTime last_modified{};
};

// An order's notes, in the order they were added. Each note is immutable and
// shared: adding one is amortized O(1) and never copies the others, and a copy
// of the list (a reader's snapshot, taken under the order's mutex) costs one
// pointer per note, never the notes' text. Iterates as `const Note&`.
class NoteList {
  using Items = std::vector<std::shared_ptr<const Note>>;

 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Note;
    using difference_type = std::ptrdiff_t;
    using pointer = const Note*;
    using reference = const Note&;
    const_iterator() = default;
    explicit const_iterator(Items::const_iterator at) : at_(at) {}
    const Note& operator*() const { return **at_; }
    const Note* operator->() const { return at_->get(); }
    const_iterator& operator++() {
      ++at_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++at_;
      return before;
    }
    friend bool operator==(const const_iterator&, const const_iterator&) = default;

   private:
    Items::const_iterator at_;
  };

  NoteList() = default;
  NoteList(std::initializer_list<Note> notes) {
    for (const Note& note : notes) push_back(note);
  }
  void reserve(std::size_t count) { items_.reserve(count); }
  void push_back(Note note) { items_.push_back(std::make_shared<const Note>(std::move(note))); }
  // Replaces the note at `index` (< size()); copies of the list keep the old one.
  void Replace(std::size_t index, Note note) { items_.at(index) = std::make_shared<const Note>(std::move(note)); }
  // Drops the notes after the first `count` (an undo of adds).
  void Truncate(std::size_t count) {
    if (count < items_.size()) items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(count), items_.end());
  }
  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const Note& operator[](std::size_t index) const { return *items_[index]; }
  const_iterator begin() const { return const_iterator(items_.begin()); }
  const_iterator end() const { return const_iterator(items_.end()); }

 private:
  Items items_;
};

// One entry of an order's history: what changed, when, and why.
struct Transition {
  OrderStatus status = OrderStatus::kReceived;
  SimTime at{};
  SharedText message;
  SharedText cause;  // "create", "step 2", "update", "cancel", "forced"
};

struct Order {
  std::string id;  // lower-case UUID
  std::string account_id;
  std::string last_modified_by;  // API user of the last create/PUT, echoed as LastModifiedBy
  SimTime created{};
  SimTime last_modified{};
  OrderStatus status = OrderStatus::kReceived;
  SharedText message;  // message of the last transition
  CsrFields fields;
  // Once known. Shared, not copied: explicit data points into the scenario
  // that defined it. A missing WorkingTelephoneNumber reads as the order's TN.
  std::shared_ptr<const CsrData> csr_data;
  std::vector<ErrorDetail> errors;  // set on FAILED
  NoteList notes;                   // not copied by the engine's order reads (store.hpp, OrderWithoutNotes)
  SharedText scenario_name;
  std::vector<Transition> history;
};

// ---------------------------------------------------------------------------
// Subscriptions

struct BasicCredentials {
  std::string username;
  std::string password;
  friend bool operator==(const BasicCredentials&, const BasicCredentials&) = default;
};

struct EmailSubscription {
  std::string email;
  std::string digest_requested;  // "NONE" or "DAILY"
  friend bool operator==(const EmailSubscription&, const EmailSubscription&) = default;
};

struct CallbackSubscription {
  std::string url;
  std::int64_t expiry_seconds = 86400;  // as requested (default when absent)
  std::optional<BasicCredentials> basic;
  std::optional<std::string> public_key;  // base64 DER, stored, not used
  friend bool operator==(const CallbackSubscription&, const CallbackSubscription&) = default;
};

// What a client sends in <Subscription> (POST and PUT).
struct SubscriptionSpec {
  std::optional<std::string> order_type;
  std::optional<std::string> event_type;
  std::optional<std::string> order_id;
  std::optional<EmailSubscription> email;
  std::optional<CallbackSubscription> callback;
  friend bool operator==(const SubscriptionSpec&, const SubscriptionSpec&) = default;
};

struct Subscription {
  std::string id;  // lower-case UUID
  std::string account_id;
  SubscriptionSpec spec;
  SimTime expires_at{};               // set from callback expiry on create / replace
  std::string last_status = "READY";  // outcome of the last callback
};

// ---------------------------------------------------------------------------
// Faults a test can inject into callback delivery (scenario steps or the
// control API). Applied by the CallbackDispatcher; every one shows in the journal.
//
// The one table of fault kinds: X(enumerator, name, takes_duration). The name
// is the scenario key under `callback_fault`, the control API's `fault` value
// and what the journal's `fault` field lists. A kind that takes a duration is
// set with one ("delay: 5s"), the others with a boolean. Adding a kind is one
// row here plus its behaviour in the dispatcher (callbacks.cpp, StageOf: the
// build fails until that switch handles it); see docs/scenarios.md.
#define CSRSIM_CALLBACK_FAULT_KINDS(X)                                                                   \
  X(kDrop, "drop", false)                          /* never sent; journaled as dropped */                \
  X(kDuplicate, "duplicate", false)                /* sent twice */                                      \
  X(kDelay, "delay", true)                         /* sent this much simulated time later */             \
  X(kOutOfOrder, "out_of_order", false)            /* held back, sent after the order's next callback */ \
  X(kWrongCredentials, "wrong_credentials", false) /* Basic password replaced by a wrong one */

enum class CallbackFaultKind : std::uint8_t {
#define CSRSIM_FAULT_ENUMERATOR(kind, name, takes_duration) kind,
  CSRSIM_CALLBACK_FAULT_KINDS(CSRSIM_FAULT_ENUMERATOR)
#undef CSRSIM_FAULT_ENUMERATOR
};

struct CallbackFaultKindInfo {
  CallbackFaultKind kind;
  std::string_view name;
  bool takes_duration;
};

inline constexpr CallbackFaultKindInfo kCallbackFaultKinds[] = {
#define CSRSIM_FAULT_ROW(kind, name, takes_duration) {CallbackFaultKind::kind, name, takes_duration},
    CSRSIM_CALLBACK_FAULT_KINDS(CSRSIM_FAULT_ROW)
#undef CSRSIM_FAULT_ROW
};
inline constexpr std::size_t kCallbackFaultKindCount = std::size(kCallbackFaultKinds);
static_assert(kCallbackFaultKindCount <= 32, "CallbackFault keeps one bit per kind in 32 bits");

std::string_view ToString(CallbackFaultKind kind);  // "out_of_order"
std::optional<CallbackFaultKind> CallbackFaultKindByName(std::string_view name);

// A set of fault kinds, with a duration for each kind that takes one.
class CallbackFault {
 public:
  bool Has(CallbackFaultKind kind) const { return (bits_ & Bit(kind)) != 0; }
  // Sets a kind; `duration` counts only for kinds that take one.
  void Set(CallbackFaultKind kind, Duration duration = Duration::zero());
  void Clear(CallbackFaultKind kind);
  Duration DurationOf(CallbackFaultKind kind) const { return durations_[Index(kind)]; }
  bool Any() const { return bits_ != 0; }
  // Adds `other`'s kinds; durations of a kind both have add up.
  void MergeFrom(const CallbackFault& other);
  // The set kinds in table order.
  std::vector<CallbackFaultKind> Kinds() const;
  friend bool operator==(const CallbackFault&, const CallbackFault&) = default;

 private:
  static std::size_t Index(CallbackFaultKind kind) { return static_cast<std::size_t>(kind); }
  static std::uint32_t Bit(CallbackFaultKind kind) { return std::uint32_t{1} << Index(kind); }
  std::uint32_t bits_ = 0;
  std::array<Duration, kCallbackFaultKindCount> durations_{};
};

}  // namespace csrsim
