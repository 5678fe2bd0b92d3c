#include "csrsim/model.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_map>

#include "csrsim/encoding.hpp"
#include "csrsim/mutex.hpp"

namespace csrsim {

namespace {

constexpr std::array<std::string_view, kCsrFieldCount> kFieldNames = {"CustomerOrderId",
                                                                      "WorkingOrBillingTelephoneNumber",
                                                                      "AccountNumber",
                                                                      "AccountTelephoneNumber",
                                                                      "EndUserName",
                                                                      "AuthorizingUserName",
                                                                      "CustomerCode",
                                                                      "EndUserPIN",
                                                                      "EndUserPassword",
                                                                      "AddressLine1",
                                                                      "City",
                                                                      "State",
                                                                      "ZIPCode",
                                                                      "TypeOfService"};

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The intern table: each live text once, keyed by a view of itself. A text's
// deleter takes its entry out before freeing it, so no key ever dangles.
// Never destroyed: SharedTexts with static storage may outlive any static.
struct InternTable {
  Mutex mu;
  std::unordered_map<std::string_view, std::weak_ptr<const std::string>> texts CSRSIM_GUARDED_BY(mu);
};

InternTable& Interned() {
  static auto* table = new InternTable;
  return *table;
}

void Unintern(const std::string* text) {
  InternTable& table = Interned();
  {
    MutexLock lock(table.mu);
    auto it = table.texts.find(*text);
    // Another thread may have replaced the entry already (it found this text
    // expired and interned a new copy): then that entry is not ours.
    if (it != table.texts.end() && it->first.data() == text->data()) table.texts.erase(it);
  }
  delete text;
}

std::shared_ptr<const std::string> Intern(std::string_view text) {
  InternTable& table = Interned();
  MutexLock lock(table.mu);
  auto it = table.texts.find(text);
  if (it != table.texts.end()) {
    if (auto alive = it->second.lock()) return alive;
    table.texts.erase(it);  // expiring: its deleter waits for our lock, then finds the entry gone
  }
  std::shared_ptr<const std::string> made(new std::string(text), Unintern);
  table.texts.emplace(std::string_view(*made), made);
  return made;
}

}  // namespace

SharedText::SharedText() : SharedText(std::string_view()) {}

SharedText::SharedText(std::string_view text) : text_(Intern(text)) {}

std::size_t SharedText::InternedCount() {
  InternTable& table = Interned();
  MutexLock lock(table.mu);
  return table.texts.size();
}

std::string_view ToString(OrderStatus status) { return kOrderStatusNames[static_cast<std::size_t>(status)]; }

std::optional<OrderStatus> ParseOrderStatus(std::string_view text) {
  for (std::size_t i = 0; i < kOrderStatusNames.size(); ++i) {
    if (kOrderStatusNames[i] == text) return static_cast<OrderStatus>(i);
  }
  return std::nullopt;
}

bool IsTerminal(OrderStatus status) {
  return status == OrderStatus::kComplete || status == OrderStatus::kFailed || status == OrderStatus::kCancelled;
}

std::string_view WireName(CsrField field) { return kFieldNames[static_cast<std::size_t>(field)]; }

bool WireNamesMatch(std::string_view name, std::string_view expected) {
  name = TrimRight(name);
  return EqualsIgnoreCase(name, expected);
}

std::optional<CsrField> CsrFieldByName(std::string_view name) {
  for (std::size_t i = 0; i < kFieldNames.size(); ++i) {
    if (WireNamesMatch(name, kFieldNames[i])) return static_cast<CsrField>(i);
  }
  return std::nullopt;
}

const std::string* CsrFields::Get(CsrField field) const {
  for (const auto& [f, value] : values_) {
    if (f == field) return &value;
  }
  return nullptr;
}

void CsrFields::Set(CsrField field, std::string value) {
  auto it = std::lower_bound(values_.begin(), values_.end(), field,
                             [](const auto& item, CsrField f) { return item.first < f; });
  if (it != values_.end() && it->first == field) {
    it->second = std::move(value);
  } else {
    values_.emplace(it, field, std::move(value));
  }
}

std::string_view ToString(CallbackFaultKind kind) { return kCallbackFaultKinds[static_cast<std::size_t>(kind)].name; }

std::optional<CallbackFaultKind> CallbackFaultKindByName(std::string_view name) {
  for (const auto& row : kCallbackFaultKinds) {
    if (row.name == name) return row.kind;
  }
  return std::nullopt;
}

void CallbackFault::Set(CallbackFaultKind kind, Duration duration) {
  bits_ |= Bit(kind);
  durations_[Index(kind)] = kCallbackFaultKinds[Index(kind)].takes_duration ? duration : Duration::zero();
}

void CallbackFault::Clear(CallbackFaultKind kind) {
  bits_ &= ~Bit(kind);
  durations_[Index(kind)] = Duration::zero();
}

void CallbackFault::MergeFrom(const CallbackFault& other) {
  for (CallbackFaultKind kind : other.Kinds()) {
    Set(kind, (Has(kind) ? DurationOf(kind) : Duration::zero()) + other.DurationOf(kind));
  }
}

std::vector<CallbackFaultKind> CallbackFault::Kinds() const {
  std::vector<CallbackFaultKind> kinds;
  for (const auto& row : kCallbackFaultKinds) {
    if (Has(row.kind)) kinds.push_back(row.kind);
  }
  return kinds;
}

void CsrFields::MergeFrom(const CsrFields& update) {
  for (const auto& [field, value] : update.values_) Set(field, value);
}

}  // namespace csrsim
