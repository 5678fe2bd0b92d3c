// The XML codec (wire.hpp) on top of pugixml.
//
// Errors the decoders throw, all Error::Invalid (HTTP 400, in the endpoint's
// validation envelope):
//   1003  "Request body is required"            empty or whitespace-only body
//   1002  "Request body is not well-formed XML: <pugixml message> at offset N"
//   1002  "Request body is not well-formed XML: more than one root element"
//   1002  "Expected root element <Csr>, got <Foo>"
//   1002  "Element <City> must contain text, not child elements"
//   14501 "Subscription object is invalid: Expiry 'abc' is not a whole number of seconds"
//   1010  "<Field> contains invalid characters: ..."   text that is not UTF-8, or holds a
//         control character XML 1.0 does not allow (it could not be answered as XML)
// Names and values from the request are echoed bounded and escaped (encoding.hpp).
// Field constraints are not checked here (validation.cpp).
#include "csrsim/wire.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <pugixml.hpp>

#include "csrsim/encoding.hpp"
#include "csrsim/error.hpp"

namespace csrsim::wire {

namespace {

// ---- pugixml's memory ------------------------------------------------------
//
// pugixml takes a page of about 32 KiB for any document of more than a few
// nodes, so every answer encoded costs one such malloc and free. Blocks that
// large skip malloc's per-thread cache and take the lock of an arena that
// several connection threads share; a thread descheduled while holding it
// stalls the others (bench/results/latest.md). So each thread keeps the last
// large block it freed and reuses it for the next. A block carries its size
// in a header, since pugixml frees without saying the size.

constexpr std::size_t kBlockHeader = alignof(std::max_align_t);
constexpr std::size_t kReusedBlockMin = 4096;  // smaller blocks are malloc's own cache's business

thread_local void* t_spare_block = nullptr;  // a freed large block, or null

std::size_t BlockSize(void* block) {
  std::size_t size = 0;
  std::memcpy(&size, static_cast<char*>(block) - kBlockHeader, sizeof size);
  return size;
}

struct SpareBlockFreer {
  ~SpareBlockFreer() {
    if (t_spare_block != nullptr) std::free(static_cast<char*>(std::exchange(t_spare_block, nullptr)) - kBlockHeader);
  }
};
thread_local SpareBlockFreer t_spare_block_freer;  // frees the spare when its thread ends

void* AllocateBlock(std::size_t size) {
  if (size >= kReusedBlockMin && t_spare_block != nullptr && BlockSize(t_spare_block) >= size) {
    return std::exchange(t_spare_block, nullptr);
  }
  auto* raw = static_cast<char*>(std::malloc(size + kBlockHeader));  // NOLINT: pugixml's allocator interface
  if (raw == nullptr) return nullptr;
  std::memcpy(raw, &size, sizeof size);
  return raw + kBlockHeader;
}

void FreeBlock(void* block) {
  if (block == nullptr) return;
  if (BlockSize(block) >= kReusedBlockMin && t_spare_block == nullptr) {
    static_cast<void>(&t_spare_block_freer);  // constructed on first use: registers its destructor
    t_spare_block = block;
    return;
  }
  std::free(static_cast<char*>(block) - kBlockHeader);  // NOLINT: pugixml's allocator interface
}

// Set before main, so every document of the process uses the pair.
[[maybe_unused]] const bool kBlocksInstalled = [] {
  pugi::set_memory_management_functions(AllocateBlock, FreeBlock);
  return true;
}();

constexpr int kBodyRequiredCode = 1003;
constexpr int kMalformedBodyCode = 1002;
constexpr int kSubscriptionInvalidCode = 14501;
constexpr int kInvalidCharactersCode = 1010;

constexpr std::string_view kProlog = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)";

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// ---- decoding helpers -------------------------------------------------------

// The element's name without namespace prefix. (Whitespace before '>', as in
// Java's `<AccountId >`, never reaches the name: the parser drops it.)
std::string_view LocalName(pugi::xml_node node) {
  std::string_view name = node.name();
  std::size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool NameIs(pugi::xml_node node, std::string_view expected) { return WireNamesMatch(LocalName(node), expected); }

// Parses `body` into `doc` and returns its root element, which must be `root_name`.
pugi::xml_node ParseRoot(pugi::xml_document& doc, std::string_view body, std::string_view root_name) {
  if (Trim(body).empty()) throw Error::Invalid(kBodyRequiredCode, "Request body is required");
  pugi::xml_parse_result result = doc.load_buffer(body.data(), body.size());
  if (!result) {
    throw Error::Invalid(kMalformedBodyCode, std::string("Request body is not well-formed XML: ") +
                                                 result.description() + " at offset " + std::to_string(result.offset));
  }
  pugi::xml_node root = doc.document_element();
  std::ptrdiff_t element_count =
      std::count_if(doc.begin(), doc.end(), [](pugi::xml_node node) { return node.type() == pugi::node_element; });
  if (element_count > 1) {
    throw Error::Invalid(kMalformedBodyCode, "Request body is not well-formed XML: more than one root element");
  }
  if (!NameIs(root, root_name)) {
    throw Error::Invalid(kMalformedBodyCode, "Expected root element <" + std::string(root_name) + ">, got <" +
                                                 EchoToken(LocalName(root)) + ">");
  }
  return root;
}

// The last child element called `name` (later duplicates win), or a null node.
pugi::xml_node Child(pugi::xml_node parent, std::string_view name) {
  pugi::xml_node found;
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_element && NameIs(child, name)) found = child;
  }
  return found;
}

// The element's text (text and CDATA pieces joined), trimmed; "" for a null node.
std::string Text(pugi::xml_node element) {
  std::string text;
  for (pugi::xml_node child : element.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      text += child.value();
    } else if (child.type() == pugi::node_element) {
      throw Error::Invalid(kMalformedBodyCode,
                           "Element <" + EchoToken(LocalName(element)) + "> must contain text, not child elements");
    }
  }
  // Every field ends up in XML answers and callbacks: refuse what XML cannot carry.
  if (!IsXmlSafeUtf8(text)) {
    throw Error::Invalid(
        kInvalidCharactersCode,
        EchoToken(LocalName(element)) + " contains invalid characters: text must be UTF-8 without control characters");
  }
  return std::string(Trim(text));
}

// The child's text; absent when the child is missing or empty.
std::optional<std::string> OptionalText(pugi::xml_node parent, std::string_view name) {
  std::string text = Text(Child(parent, name));
  if (text.empty()) return std::nullopt;
  return text;
}

std::int64_t DecodeExpiry(pugi::xml_node callback) {
  std::optional<std::string> text = OptionalText(callback, "Expiry");
  if (!text) return CallbackSubscription{}.expiry_seconds;
  std::int64_t seconds = 0;
  const char* end = text->data() + text->size();
  auto [parsed_end, error] = std::from_chars(text->data(), end, seconds);
  if (error != std::errc() || parsed_end != end) {
    throw Error::Invalid(kSubscriptionInvalidCode, "Subscription object is invalid: Expiry '" + EchoToken(*text) +
                                                       "' is not a whole number of seconds");
  }
  return seconds;
}

CallbackSubscription DecodeCallback(pugi::xml_node node) {
  CallbackSubscription callback;
  callback.url = Text(Child(node, "URL"));
  callback.expiry_seconds = DecodeExpiry(node);
  pugi::xml_node credentials = Child(node, "CallbackCredentials");
  if (pugi::xml_node basic = Child(credentials, "BasicAuthentication")) {
    BasicCredentials given{Text(Child(basic, "Username")), Text(Child(basic, "Password"))};
    // An empty <BasicAuthentication/> means no credentials.
    if (!given.username.empty() || !given.password.empty()) callback.basic = std::move(given);
  }
  callback.public_key = OptionalText(credentials, "PublicKey");
  return callback;
}

// ---- encoding helpers -------------------------------------------------------

class StringWriter final : public pugi::xml_writer {
 public:
  explicit StringWriter(std::string_view start) : out_(start) {}
  void write(const void* data, std::size_t size) override { out_.append(static_cast<const char*>(data), size); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// The document with the spec's prolog, no indentation, control characters
// (invalid in XML 1.0) dropped.
std::string Serialize(const pugi::xml_document& doc) {
  StringWriter writer(kProlog);
  doc.save(writer, "", pugi::format_raw | pugi::format_no_declaration | pugi::format_skip_control_chars);
  return writer.Take();
}

pugi::xml_node AddElement(pugi::xml_node parent, std::string_view name) {
  return parent.append_child(std::string(name).c_str());
}

void AddText(pugi::xml_node parent, std::string_view name, std::string_view text) {
  AddElement(parent, name).text().set(text.data(), text.size());
}

void AddOptionalText(pugi::xml_node parent, std::string_view name, const std::optional<std::string>& text) {
  if (text) AddText(parent, name, *text);
}

void AddErrors(pugi::xml_node parent, const std::vector<ErrorDetail>& errors) {
  pugi::xml_node list = AddElement(parent, "Errors");
  for (const ErrorDetail& error : errors) {
    pugi::xml_node item = AddElement(list, "Error");
    AddText(item, "Code", std::to_string(error.code));
    AddText(item, "Description", error.description);
  }
}

// `tn` stands in for a missing WorkingTelephoneNumber (the order's TN).
void AddCsrData(pugi::xml_node parent, const CsrData& data, const std::string* tn) {
  pugi::xml_node node = AddElement(parent, "CsrData");
  AddOptionalText(node, "AccountNumber", data.account_number);
  AddOptionalText(node, "CustomerName", data.customer_name);
  if (!data.service_address.empty()) {
    pugi::xml_node address = AddElement(node, "ServiceAddress");
    for (const auto& [name, value] : data.service_address) AddText(address, name, value);
  }
  if (data.working_telephone_number) {
    AddText(node, "WorkingTelephoneNumber", *data.working_telephone_number);
  } else if (tn) {
    AddText(node, "WorkingTelephoneNumber", *tn);
  }
  if (!data.working_telephone_numbers_on_account.empty()) {
    pugi::xml_node numbers = AddElement(node, "WorkingTelephoneNumbersOnAccount");
    for (const std::string& number : data.working_telephone_numbers_on_account) {
      AddText(numbers, "TelephoneNumber", number);
    }
  }
}

// The children of a full <CsrResponse>, in the order of docs/wire-contract.md
// (Read): a FAILED order's Errors first, as the CSR guide shows it.
void FillCsrResponse(pugi::xml_node node, const Order& order) {
  if (!order.errors.empty()) AddErrors(node, order.errors);
  if (const std::string* customer_order_id = order.fields.Get(CsrField::kCustomerOrderId)) {
    AddText(node, "CustomerOrderId", *customer_order_id);
  }
  AddText(node, "LastModifiedBy", order.last_modified_by);
  AddText(node, "OrderCreateDate", FormatTimestamp(order.created));
  AddText(node, "AccountId", order.account_id);
  AddText(node, "OrderId", order.id);
  AddText(node, "LastModifiedDate", FormatTimestamp(order.last_modified));
  AddText(node, "Status", ToString(order.status));
  for (const auto& [field, value] : order.fields.Items()) {
    if (field != CsrField::kCustomerOrderId) AddText(node, WireName(field), value);
  }
  if (order.csr_data) {
    AddCsrData(node, *order.csr_data, order.fields.Get(CsrField::kWorkingOrBillingTelephoneNumber));
  }
}

void AddLink(pugi::xml_node links, std::string_view rel, const std::string& url) {
  AddText(links, rel, "Link=<" + url + ">;rel=\"" + std::string(rel) + "\";");
}

void AddSubscription(pugi::xml_node list, const Subscription& subscription, SimTime now) {
  const SubscriptionSpec& spec = subscription.spec;
  pugi::xml_node node = AddElement(list, "Subscription");
  AddText(node, "SubscriptionId", subscription.id);
  AddOptionalText(node, "OrderType", spec.order_type);
  AddOptionalText(node, "EventType", spec.event_type);
  AddOptionalText(node, "OrderId", spec.order_id);
  if (spec.email) {
    pugi::xml_node email = AddElement(node, "EmailSubscription");
    AddText(email, "Email", spec.email->email);
    AddText(email, "DigestRequested", spec.email->digest_requested);
  }
  if (spec.callback) {
    pugi::xml_node callback = AddElement(node, "CallbackSubscription");
    AddText(callback, "URL", spec.callback->url);
    std::int64_t seconds_left = std::chrono::floor<std::chrono::seconds>(subscription.expires_at - now).count();
    AddText(callback, "Expiry", std::to_string(std::max<std::int64_t>(0, seconds_left)));
    AddText(callback, "Status", subscription.last_status);
    if (spec.callback->basic) {  // the password is never echoed
      pugi::xml_node basic = AddElement(AddElement(callback, "CallbackCredentials"), "BasicAuthentication");
      AddText(basic, "Username", spec.callback->basic->username);
    }
  }
}

// ---- timestamp parsing --------------------------------------------------------

// Reads a timestamp left to right; every read fails (nullopt/false) without
// consuming on a mismatch.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ == text_.size(); }

  bool Consume(char c) {
    if (AtEnd() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  // Exactly `count` decimal digits.
  std::optional<int> Digits(std::size_t count) {
    if (text_.size() - pos_ < count) return std::nullopt;
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos_ += count;
    return value;
  }

  // One or more digits of a decimal fraction, as microseconds (truncated).
  std::optional<int> FractionMicros() {
    std::size_t start = pos_;
    int micros = 0;
    for (; !AtEnd() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_) {
      if (pos_ - start < 6) micros = micros * 10 + (text_[pos_] - '0');
    }
    std::size_t count = pos_ - start;
    if (count == 0) return std::nullopt;
    for (; count < 6; ++count) micros *= 10;
    return micros;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// "+HH:MM", "+HHMM", "-HH:MM", "Z", or nothing (UTC), as the offset to subtract.
std::optional<std::chrono::minutes> ParseOffset(Cursor& in) {
  if (in.AtEnd() || in.Consume('Z') || in.Consume('z')) return std::chrono::minutes(0);
  int sign = 0;
  // A '+' in a URL query arrives decoded as a space.
  if (in.Consume('+') || in.Consume(' ')) {
    sign = 1;
  } else if (in.Consume('-')) {
    sign = -1;
  } else {
    return std::nullopt;
  }
  std::optional<int> hours = in.Digits(2);
  in.Consume(':');
  std::optional<int> minutes = in.Digits(2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  return std::chrono::minutes(sign * (*hours * 60 + *minutes));
}

}  // namespace

// ---- timestamps ---------------------------------------------------------------

std::string FormatTimestamp(SimTime t) {
  using namespace std::chrono;
  auto millis = floor<milliseconds>(t);
  auto day = floor<days>(millis);
  year_month_day date(day);
  hh_mm_ss time(millis - day);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()), static_cast<int>(time.subseconds().count()));
  return text;
}

std::optional<SimTime> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  Cursor in(Trim(text));
  std::optional<int> year = in.Digits(4);
  if (!year || !in.Consume('-')) return std::nullopt;
  std::optional<int> month = in.Digits(2);
  if (!month || !in.Consume('-')) return std::nullopt;
  std::optional<int> day = in.Digits(2);
  if (!day) return std::nullopt;
  year_month_day date(std::chrono::year(*year), std::chrono::month(static_cast<unsigned>(*month)),
                      std::chrono::day(static_cast<unsigned>(*day)));
  if (!date.ok()) return std::nullopt;
  SimTime midnight{sys_days(date)};
  if (in.AtEnd()) return midnight;

  if (!in.Consume('T') && !in.Consume('t') && !in.Consume(' ')) return std::nullopt;
  std::optional<int> hour = in.Digits(2);
  if (!hour || !in.Consume(':')) return std::nullopt;
  std::optional<int> minute = in.Digits(2);
  if (!minute || !in.Consume(':')) return std::nullopt;
  std::optional<int> second = in.Digits(2);
  if (!second || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  std::optional<int> micros = 0;
  if (in.Consume('.') || in.Consume(',')) micros = in.FractionMicros();
  std::optional<minutes> offset = ParseOffset(in);
  if (!micros || !offset || !in.AtEnd()) return std::nullopt;
  return midnight + hours(*hour) + minutes(*minute) + seconds(*second) + microseconds(*micros) - *offset;
}

// ---- requests -----------------------------------------------------------------

CsrRequest DecodeCsr(std::string_view body) {
  pugi::xml_document doc;
  pugi::xml_node root = ParseRoot(doc, body, "Csr");
  CsrRequest request;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    if (NameIs(child, "Status")) {
      std::string status = Text(child);
      if (status == "REQUESTED_CANCEL") {
        request.requested_cancel = true;
      } else if (!status.empty()) {
        request.status = std::move(status);
      }
    } else if (std::optional<CsrField> field = CsrFieldByName(LocalName(child))) {
      if (LocalName(child) != WireName(*field)) {
        request.leniencies.push_back("accepted <" + EchoToken(LocalName(child)) + "> as " +
                                     std::string(WireName(*field)));
      }
      std::string value = Text(child);
      if (!value.empty()) request.fields.Set(*field, std::move(value));
    }
  }
  return request;
}

NoteRequest DecodeNote(std::string_view body) {
  pugi::xml_document doc;
  pugi::xml_node root = ParseRoot(doc, body, "Note");
  return NoteRequest{OptionalText(root, "UserId"), OptionalText(root, "Description")};
}

SubscriptionSpec DecodeSubscription(std::string_view body) {
  pugi::xml_document doc;
  pugi::xml_node root = ParseRoot(doc, body, "Subscription");
  SubscriptionSpec spec;
  spec.order_type = OptionalText(root, "OrderType");
  spec.event_type = OptionalText(root, "EventType");
  spec.order_id = OptionalText(root, "OrderId");
  if (pugi::xml_node email = Child(root, "EmailSubscription")) {
    // An absent DigestRequested means no digest.
    spec.email =
        EmailSubscription{Text(Child(email, "Email")), OptionalText(email, "DigestRequested").value_or("NONE")};
  }
  if (pugi::xml_node callback = Child(root, "CallbackSubscription")) {
    spec.callback = DecodeCallback(callback);
  }
  return spec;
}

// ---- responses ----------------------------------------------------------------

std::string EncodeCsrCreated(const Order& order) {
  pugi::xml_document doc;
  pugi::xml_node root = AddElement(doc, "CsrResponse");
  AddText(root, "OrderId", order.id);
  AddText(root, "Status", ToString(order.status));
  return Serialize(doc);
}

std::string EncodeCsrResponse(const Order& order) {
  pugi::xml_document doc;
  FillCsrResponse(AddElement(doc, "CsrResponse"), order);
  return Serialize(doc);
}

std::string EncodeCsrList(std::size_t total_count, const ListLinks& links, const std::vector<Order>& page) {
  pugi::xml_document doc;
  pugi::xml_node root = AddElement(doc, "CsrResponses");
  AddText(root, "TotalCount", std::to_string(total_count));
  pugi::xml_node links_node = AddElement(root, "Links");
  AddLink(links_node, "first", links.first);
  if (links.next) AddLink(links_node, "next", *links.next);
  for (const Order& order : page) FillCsrResponse(AddElement(root, "CsrResponse"), order);
  return Serialize(doc);
}

std::string EncodeNotes(const NoteList& notes) {
  pugi::xml_document doc;
  pugi::xml_node root = AddElement(doc, "Notes");
  for (const Note& note : notes) {
    pugi::xml_node node = AddElement(root, "Note");
    AddText(node, "Id", std::to_string(note.id));
    AddText(node, "UserId", note.user_id);
    AddText(node, "Description", note.description);
    AddText(node, "LastDateModifier", FormatTimestamp(note.last_modified));
  }
  return Serialize(doc);
}

std::string EncodeSubscriptions(const std::vector<Subscription>& subscriptions, SimTime now) {
  pugi::xml_document doc;
  pugi::xml_node list = AddElement(AddElement(doc, "SubscriptionsResponse"), "Subscriptions");
  for (const Subscription& subscription : subscriptions) AddSubscription(list, subscription, now);
  return Serialize(doc);
}

std::string EncodeNotification(const NotificationContent& content) {
  pugi::xml_document doc;
  pugi::xml_node root = AddElement(doc, "Notification");
  AddText(root, "Status", ToString(content.status));
  AddText(root, "SubscriptionId", content.subscription_id);
  AddText(root, "Message", content.message);
  AddText(root, "OrderId", content.order_id);
  AddText(root, "OrderType", "csrs");
  AddOptionalText(root, "CustomerOrderId", content.customer_order_id);
  AddOptionalText(root, "Note", content.note);
  if (content.last_modified) {
    AddText(root, "LastModifiedDate", FormatTimestamp(*content.last_modified));
  }
  return Serialize(doc);
}

std::string EncodeResponseStatus(std::string_view root, const ErrorDetail& error) {
  pugi::xml_document doc;
  pugi::xml_node status = AddElement(AddElement(doc, root), "ResponseStatus");
  AddText(status, "ErrorCode", std::to_string(error.code));
  AddText(status, "Description", error.description);
  return Serialize(doc);
}

std::string EncodeCsrOrderErrors(const std::vector<ErrorDetail>& errors) {
  pugi::xml_document doc;
  AddErrors(AddElement(doc, "CsrOrderResponse"), errors);
  return Serialize(doc);
}

}  // namespace csrsim::wire
