// Field constraints of CSR, note and subscription requests (validation.hpp).
//
// Codes and descriptions (every description names the field by its wire name):
//   1003  "<Field> is required"
//   (values from the request are echoed bounded and escaped, encoding.hpp)
//   1008  "'<value>' is not a valid UUID (OrderId)"
//   1010  "<Field> contains invalid characters. Allowed: <class>"
//   1010  "State must be exactly 2 characters long"
//   1011  "<Field> is too long. Max length <N> characters"   (counted in characters)
//   5070  "Telephone number is invalid. WorkingOrBillingTelephoneNumber must be ..."
//   12501 "Username is required"
//   14500–14508 subscriptions, see ValidateSubscription.
#include "csrsim/validation.hpp"

#include "csrsim/encoding.hpp"
#include "csrsim/url.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

namespace csrsim {

namespace {

constexpr int kRequiredCode = 1003;
constexpr int kInvalidUuidCode = 1008;
constexpr int kInvalidFormatCode = 1010;
constexpr int kTooLongCode = 1011;
constexpr int kInvalidTelephoneNumberCode = 5070;
constexpr int kUsernameRequiredCode = 12501;
constexpr int kInvalidOrderTypeCode = 14500;
constexpr int kInvalidSubscriptionCode = 14501;
constexpr int kInvalidDigestCode = 14502;
constexpr int kEmptyCallbackUrlCode = 14503;
constexpr int kUnreadableCertificateCode = 14504;
constexpr int kIncompleteBasicAuthCode = 14505;
constexpr int kInvalidCallbackUrlCode = 14506;
constexpr int kInvalidEventTypeCode = 14507;
constexpr int kTypeRequiredCode = 14508;

constexpr std::size_t kNoteDescriptionMaxLength = 500;
// Bandwidth documents no limit for these; the simulator's caps (docs/wire-contract.md).
constexpr std::size_t kNoteUserIdMaxLength = 100;
constexpr std::size_t kCallbackUrlMaxLength = 2048;
constexpr std::size_t kEmailMaxLength = 254;
constexpr std::size_t kCallbackCredentialMaxLength = 100;
constexpr std::size_t kPublicKeyMaxLength = 16384;

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsLetterOrDigit(char c) { return IsLetter(c) || IsDigit(c); }
bool IsLetterDigitOrDash(char c) { return IsLetterOrDigit(c) || c == '-'; }
bool IsLetterDigitDashOrSpace(char c) { return IsLetterDigitOrDash(c) || c == ' '; }

// What a field's value may consist of (ASCII classes); `allows` null: anything.
struct CharacterClass {
  bool (*allows)(char);
  std::string_view description;
};
constexpr CharacterClass kAnything{nullptr, ""};
constexpr CharacterClass kLetters{IsLetter, "letters"};
constexpr CharacterClass kDigits{IsDigit, "digits"};
constexpr CharacterClass kLettersDigits{IsLetterOrDigit, "letters and digits"};
constexpr CharacterClass kLettersDigitsDashes{IsLetterDigitOrDash, "letters, digits and dashes"};
constexpr CharacterClass kLettersDigitsDashesSpaces{IsLetterDigitDashOrSpace, "letters, digits, dashes and spaces"};

struct FieldRule {
  CsrField field;
  std::size_t max_length;  // in characters
  CharacterClass characters;
  bool exact_length = false;  // the length must be max_length
  // NPANXXXXXX or +1NPANXXXXXX, checked as a whole (5070) instead of length and characters.
  bool telephone_number = false;
  bool required_on_create = false;
};

// docs/wire-contract.md's create table, in CsrField order.
constexpr std::array<FieldRule, kCsrFieldCount> kFieldRules = {{
    {CsrField::kCustomerOrderId, 40, kLettersDigitsDashesSpaces},
    {CsrField::kWorkingOrBillingTelephoneNumber, 12, kAnything, false, true, true},
    {CsrField::kAccountNumber, 20, kLettersDigits},
    {CsrField::kAccountTelephoneNumber, 10, kLettersDigits},
    {CsrField::kEndUserName, 100, kAnything},
    {CsrField::kAuthorizingUserName, 100, kAnything},
    {CsrField::kCustomerCode, 3, kDigits},
    {CsrField::kEndUserPIN, 50, kLettersDigits},
    {CsrField::kEndUserPassword, 100, kLettersDigits},
    {CsrField::kAddressLine1, 200, kAnything},
    {CsrField::kCity, 100, kAnything},
    {CsrField::kState, 2, kLetters, true},
    {CsrField::kZIPCode, 10, kLettersDigitsDashes},
    {CsrField::kTypeOfService, 50, kLetters},
}};

constexpr std::string_view kOrderTypes[] = {"portins",
                                            "orders",
                                            "portouts",
                                            "disconnects",
                                            "dldas",
                                            "lsrorders",
                                            "e911s",
                                            "tnoptions",
                                            "externalTns",
                                            "lidb",
                                            "bulkPortins",
                                            "importtnorders",
                                            "removeImportedTnOrders",
                                            "csrs",
                                            "emergencyNotificationGroup",
                                            "emergencyEndpointGroup",
                                            "tollfreePortingValidations"};
constexpr std::string_view kEventTypes[] = {"MESSAGING_LOST"};
constexpr std::string_view kDigestTypes[] = {"NONE", "DAILY"};

// Length in characters: UTF-8 continuation bytes do not count.
std::size_t CharacterCount(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool AllDigits(std::string_view text) { return std::all_of(text.begin(), text.end(), IsDigit); }

// Ten digits, or "+1" and ten digits (v2 E.164).
bool IsTelephoneNumber(std::string_view text) {
  if (text.size() == 12 && text.substr(0, 2) == "+1") text.remove_prefix(2);
  return text.size() == 10 && AllDigits(text);
}

std::string TooLong(std::string_view name, std::size_t max_length) {
  return std::string(name) + " is too long. Max length " + std::to_string(max_length) + " characters";
}

void CheckField(const FieldRule& rule, std::string_view value, std::vector<ErrorDetail>& out) {
  const std::string name(WireName(rule.field));
  if (rule.telephone_number) {
    if (!IsTelephoneNumber(value)) {
      out.push_back({kInvalidTelephoneNumberCode,
                     "Telephone number is invalid. " + name + " must be 10 digits (NPANXXXXXX) or +1 and 10 digits."});
    }
    return;
  }
  std::size_t length = CharacterCount(value);
  if (length > rule.max_length) {
    out.push_back({kTooLongCode, TooLong(name, rule.max_length)});
  } else if (rule.exact_length && length != rule.max_length) {
    out.push_back(
        {kInvalidFormatCode, name + " must be exactly " + std::to_string(rule.max_length) + " characters long"});
  }
  const CharacterClass& allowed = rule.characters;
  if (allowed.allows != nullptr && !std::all_of(value.begin(), value.end(), allowed.allows)) {
    out.push_back(
        {kInvalidFormatCode, name + " contains invalid characters. Allowed: " + std::string(allowed.description)});
  }
}

template <std::size_t N>
bool OneOf(std::string_view value, const std::string_view (&values)[N]) {
  return std::find(std::begin(values), std::end(values), value) != std::end(values);
}

template <std::size_t N>
std::string Join(const std::string_view (&values)[N]) {
  std::string joined;
  for (std::string_view value : values) {
    if (!joined.empty()) joined += ", ";
    joined += value;
  }
  return joined;
}

// Standard base64 (line breaks allowed), at least one byte of content.
bool IsBase64(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (!IsSpace(c)) compact += c;
  }
  auto decoded = Base64Decode(compact);
  return decoded && !decoded->empty();
}

bool PointsAt(const HttpUrl& url, const OwnListener& self) {
  if (self.port == 0 || url.port != self.port) return false;
  std::string host = self.host;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](char c) { return IsLetter(c) ? static_cast<char>(c | 0x20) : c; });
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return IsLoopbackHost(url.host) || url.host == host;
}

void CheckCallback(const CallbackSubscription& callback, const OwnListener& self, std::vector<ErrorDetail>& out) {
  auto too_long = [&out](std::string_view name, std::string_view value, std::size_t max) {
    if (CharacterCount(value) <= max) return false;
    out.push_back({kTooLongCode, TooLong(name, max)});
    return true;
  };
  if (callback.basic) {
    too_long("Username", callback.basic->username, kCallbackCredentialMaxLength);
    too_long("Password", callback.basic->password, kCallbackCredentialMaxLength);
  }
  if (callback.public_key) too_long("PublicKey", *callback.public_key, kPublicKeyMaxLength);
  if (too_long("URL", callback.url, kCallbackUrlMaxLength)) {
    // too long to check further
  } else if (callback.url.empty()) {
    out.push_back({kEmptyCallbackUrlCode, "Callback URL is required"});
  } else if (auto url = ParseHttpUrl(callback.url); !url) {  // the dispatcher's parser
    out.push_back({kInvalidCallbackUrlCode, "Callback URL '" + EchoToken(callback.url) +
                                                "' is invalid: expected http:// or https:// followed by a host"});
  } else if (PointsAt(*url, self)) {
    out.push_back({kInvalidCallbackUrlCode,
                   "Callback URL '" + EchoToken(callback.url) + "' is invalid: it points at the simulator itself"});
  }
  // 10,000 years: far beyond the guide's 3153600000 (100 years), and small
  // enough that the simulated clock can add it without overflow.
  constexpr std::int64_t kMaxExpirySeconds = 315'360'000'000;
  if (callback.expiry_seconds < 0) {
    out.push_back({kInvalidSubscriptionCode, "Subscription object is invalid: Expiry must not be negative"});
  } else if (callback.expiry_seconds > kMaxExpirySeconds) {
    out.push_back({kInvalidSubscriptionCode, "Subscription object is invalid: Expiry must be at most " +
                                                 std::to_string(kMaxExpirySeconds) + " seconds"});
  }
  if (callback.basic && (callback.basic->username.empty() || callback.basic->password.empty())) {
    out.push_back({kIncompleteBasicAuthCode, "BasicAuthentication requires both Username and Password"});
  }
  if (callback.public_key && !IsBase64(*callback.public_key)) {
    out.push_back({kUnreadableCertificateCode, "PublicKey is not a readable certificate: expected base64-encoded DER"});
  }
}

}  // namespace

std::vector<ErrorDetail> ValidateCsrFields(const CsrFields& fields, bool for_create) {
  std::vector<ErrorDetail> violations;
  for (const FieldRule& rule : kFieldRules) {
    const std::string* value = fields.Get(rule.field);
    if (value == nullptr || value->empty()) {
      if (for_create && rule.required_on_create) {
        violations.push_back({kRequiredCode, std::string(WireName(rule.field)) + " is required"});
      }
      continue;
    }
    CheckField(rule, *value, violations);
  }
  return violations;
}

std::vector<ErrorDetail> ValidateNote(const std::optional<std::string>& user_id,
                                      const std::optional<std::string>& description) {
  std::vector<ErrorDetail> violations;
  if (!user_id || std::all_of(user_id->begin(), user_id->end(), IsSpace)) {
    violations.push_back({kUsernameRequiredCode, "Username is required"});
  }
  if (user_id && CharacterCount(*user_id) > kNoteUserIdMaxLength) {
    violations.push_back({kTooLongCode, TooLong("UserId", kNoteUserIdMaxLength)});
  }
  if (description && CharacterCount(*description) > kNoteDescriptionMaxLength) {
    violations.push_back({kTooLongCode, TooLong("Description", kNoteDescriptionMaxLength)});
  }
  return violations;
}

std::vector<ErrorDetail> ValidateSubscription(const SubscriptionSpec& spec, const OwnListener& self) {
  std::vector<ErrorDetail> violations;
  if (!spec.order_type && !spec.event_type) {
    violations.push_back({kTypeRequiredCode, "OrderType or EventType is required"});
  }
  if (spec.order_type && !OneOf(*spec.order_type, kOrderTypes)) {
    violations.push_back({kInvalidOrderTypeCode, "Incorrect OrderType '" + EchoToken(*spec.order_type) +
                                                     "'. Valid values: " + Join(kOrderTypes)});
  }
  if (spec.event_type && !OneOf(*spec.event_type, kEventTypes)) {
    violations.push_back({kInvalidEventTypeCode, "Incorrect EventType '" + EchoToken(*spec.event_type) +
                                                     "'. Valid values: " + Join(kEventTypes)});
  }
  if (spec.order_id && !IsUuid(*spec.order_id)) {
    violations.push_back({kInvalidUuidCode, "'" + EchoToken(*spec.order_id) + "' is not a valid UUID (OrderId)"});
  }
  if (!spec.email && !spec.callback) {
    violations.push_back({kInvalidSubscriptionCode,
                          "Subscription object is invalid: EmailSubscription or "
                          "CallbackSubscription is required"});
  }
  if (spec.email) {
    if (spec.email->email.empty()) violations.push_back({kRequiredCode, "Email is required"});
    if (CharacterCount(spec.email->email) > kEmailMaxLength) {
      violations.push_back({kTooLongCode, TooLong("Email", kEmailMaxLength)});
    }
    if (!OneOf(spec.email->digest_requested, kDigestTypes)) {
      violations.push_back({kInvalidDigestCode, "Incorrect DigestRequested '" +
                                                    EchoToken(spec.email->digest_requested) +
                                                    "'. Valid values: " + Join(kDigestTypes)});
    }
  }
  if (spec.callback) CheckCallback(*spec.callback, self, violations);
  return violations;
}

bool IsUuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? text[i] != '-' : !IsHexDigit(text[i])) return false;
  }
  return true;
}

}  // namespace csrsim
