#include "csrsim/state_store.hpp"

#include "csrsim/error.hpp"
#include "store.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

namespace csrsim {

namespace {

using json = nlohmann::json;

// ---- SQLite helpers --------------------------------------------------------

// One prepared statement, finalized with its owner.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StateFileError(std::string("state file: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Bind(int index, const std::string& text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& BindBlob(int index, const std::string& bytes) {
    sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  // True while a row is available.
  bool Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(stmt_);
    throw StateFileError("state file: " + message);
  }
  void Run() {
    Step();
    Reset();
  }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string Text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
  }
  std::int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  // The column's bytes, valid until the next Step.
  std::pair<const void*, std::size_t> Blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    return {data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

std::int64_t Micros(SimTime t) { return t.time_since_epoch().count(); }
SimTime AtMicros(std::int64_t micros) { return SimTime(Duration(micros)); }

json OptionalText(const std::optional<std::string>& text) { return text ? json(*text) : json(nullptr); }
std::optional<std::string> OptionalText(const json& value) {
  if (value.is_null()) return std::nullopt;
  return value.get<std::string>();
}

// ---- documents: one JSON shape per stored value -----------------------------

json FieldsDoc(const CsrFields& fields) {
  json doc = json::object();
  for (const auto& [field, value] : fields.Items()) doc[std::string(WireName(field))] = value;
  return doc;
}
CsrFields FieldsOf(const json& doc) {
  CsrFields fields;
  for (const auto& [name, value] : doc.items()) {
    if (auto field = CsrFieldByName(name)) fields.Set(*field, value.get<std::string>());
  }
  return fields;
}

json CsrDataDoc(const CsrData& data) {
  json address = json::array();
  for (const auto& [name, value] : data.service_address) address.push_back({name, value});
  return {{"account_number", OptionalText(data.account_number)},
          {"customer_name", OptionalText(data.customer_name)},
          {"service_address", address},
          {"working_telephone_number", OptionalText(data.working_telephone_number)},
          {"working_telephone_numbers_on_account", data.working_telephone_numbers_on_account}};
}
CsrData CsrDataOf(const json& doc) {
  CsrData data;
  data.account_number = OptionalText(doc.at("account_number"));
  data.customer_name = OptionalText(doc.at("customer_name"));
  for (const auto& pair : doc.at("service_address")) {
    data.service_address.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  }
  data.working_telephone_number = OptionalText(doc.at("working_telephone_number"));
  data.working_telephone_numbers_on_account =
      doc.at("working_telephone_numbers_on_account").get<std::vector<std::string>>();
  return data;
}

json ErrorsDoc(const std::vector<ErrorDetail>& errors) {
  json doc = json::array();
  for (const auto& error : errors) doc.push_back({{"code", error.code}, {"description", error.description}});
  return doc;
}
std::vector<ErrorDetail> ErrorsOf(const json& doc) {
  std::vector<ErrorDetail> errors;
  for (const auto& error : doc) {
    errors.push_back({error.at("code").get<int>(), error.at("description").get<std::string>()});
  }
  return errors;
}

OrderStatus StatusOf(const json& doc) {
  auto status = ParseOrderStatus(doc.get<std::string>());
  if (!status) throw StateFileError("state file: unknown status '" + doc.get<std::string>() + "'");
  return *status;
}

json StepDoc(const Step& step) {
  json requires_fields = json::array();
  for (CsrField field : step.requires_fields) requires_fields.push_back(std::string(WireName(field)));
  json faults = json::object();
  for (CallbackFaultKind kind : step.callback_fault.Kinds()) {
    faults[std::string(ToString(kind))] = step.callback_fault.DurationOf(kind).count();
  }
  return {{"after", step.after ? json(step.after->count()) : json(nullptr)},
          {"on_update", step.on_update},
          {"requires", requires_fields},
          {"status", std::string(ToString(step.status))},
          {"message", OptionalText(step.message)},
          {"csr_source", static_cast<int>(step.csr_source)},
          {"csr", step.csr_source == CsrSource::kExplicit ? CsrDataDoc(step.csr) : json(nullptr)},
          {"errors", ErrorsDoc(step.errors)},
          {"notify", step.notify},
          {"callback_fault", faults},
          {"line", step.line}};
}
Step StepOf(const json& doc) {
  Step step;
  if (!doc.at("after").is_null()) step.after = Duration(doc.at("after").get<std::int64_t>());
  step.on_update = doc.at("on_update").get<bool>();
  for (const auto& name : doc.at("requires")) {
    if (auto field = CsrFieldByName(name.get<std::string>())) step.requires_fields.push_back(*field);
  }
  step.status = StatusOf(doc.at("status"));
  step.message = OptionalText(doc.at("message"));
  step.csr_source = static_cast<CsrSource>(doc.at("csr_source").get<int>());
  if (step.csr_source == CsrSource::kExplicit) step.csr = CsrDataOf(doc.at("csr"));
  step.errors = ErrorsOf(doc.at("errors"));
  step.notify = doc.at("notify").get<bool>();
  for (const auto& [name, micros] : doc.at("callback_fault").items()) {
    if (auto kind = CallbackFaultKindByName(name)) step.callback_fault.Set(*kind, Duration(micros.get<std::int64_t>()));
  }
  step.line = doc.at("line").get<int>();
  return step;
}

json StepListDoc(const std::string& scenario, const Variant& variant) {
  json steps = json::array();
  for (const auto& step : variant.steps) steps.push_back(StepDoc(step));
  return {{"scenario", scenario}, {"variant", variant.name}, {"steps", steps}};
}

// A restored step list: a set of one scenario with one variant, which the
// orders that run it keep alive (as ScenarioProgress::set).
std::shared_ptr<const ScenarioSet> StepListSet(const json& doc) {
  Variant variant;
  variant.name = doc.at("variant").get<std::string>();
  for (const auto& step : doc.at("steps")) variant.steps.push_back(StepOf(step));
  Scenario scenario;
  scenario.name = doc.at("scenario").get<std::string>();
  scenario.source = "state file";
  scenario.variants.push_back(std::move(variant));
  return std::make_shared<const ScenarioSet>(std::vector<Scenario>{std::move(scenario)}, std::nullopt);
}

json OrderDoc(const Order& order, const ScenarioProgress& progress) {
  json notes = json::array();
  for (const auto& note : order.notes) {
    notes.push_back({{"id", note.id},
                     {"user_id", note.user_id},
                     {"description", note.description},
                     {"last_modified", Micros(note.last_modified)}});
  }
  json history = json::array();
  for (const auto& entry : order.history) {
    history.push_back({{"status", std::string(ToString(entry.status))},
                       {"at", Micros(entry.at)},
                       {"message", entry.message.str()},
                       {"cause", entry.cause.str()}});
  }
  return {{"id", order.id},
          {"account_id", order.account_id},
          {"last_modified_by", order.last_modified_by},
          {"created", Micros(order.created)},
          {"last_modified", Micros(order.last_modified)},
          {"status", std::string(ToString(order.status))},
          {"message", order.message.str()},
          {"fields", FieldsDoc(order.fields)},
          {"csr_data", order.csr_data ? CsrDataDoc(*order.csr_data) : json(nullptr)},
          {"errors", ErrorsDoc(order.errors)},
          {"notes", notes},
          {"scenario", order.scenario_name.str()},
          {"history", history},
          {"next_step", progress.next_step},
          {"waiting_for_update", progress.waiting_for_update},
          {"due", progress.due ? json(Micros(*progress.due)) : json(nullptr)}};
}
Order OrderOf(const json& doc) {
  Order order;
  order.id = doc.at("id").get<std::string>();
  order.account_id = doc.at("account_id").get<std::string>();
  order.last_modified_by = doc.at("last_modified_by").get<std::string>();
  order.created = AtMicros(doc.at("created").get<std::int64_t>());
  order.last_modified = AtMicros(doc.at("last_modified").get<std::int64_t>());
  order.status = StatusOf(doc.at("status"));
  order.message = SharedText(doc.at("message").get<std::string>());
  order.fields = FieldsOf(doc.at("fields"));
  if (!doc.at("csr_data").is_null()) order.csr_data = std::make_shared<const CsrData>(CsrDataOf(doc.at("csr_data")));
  order.errors = ErrorsOf(doc.at("errors"));
  for (const auto& note : doc.at("notes")) {
    order.notes.push_back({note.at("id").get<std::int64_t>(), note.at("user_id").get<std::string>(),
                           note.at("description").get<std::string>(),
                           AtMicros(note.at("last_modified").get<std::int64_t>())});
  }
  order.scenario_name = SharedText(doc.at("scenario").get<std::string>());
  for (const auto& entry : doc.at("history")) {
    order.history.push_back({StatusOf(entry.at("status")), AtMicros(entry.at("at").get<std::int64_t>()),
                             SharedText(entry.at("message").get<std::string>()),
                             SharedText(entry.at("cause").get<std::string>())});
  }
  return order;
}

// The progress fields OrderDoc writes beside the order (the schema 1 shape).
void ProgressFieldsOf(const json& doc, ScenarioProgress& progress) {
  progress.next_step = doc.at("next_step").get<std::size_t>();
  progress.waiting_for_update = doc.at("waiting_for_update").get<bool>();
  if (!doc.at("due").is_null()) progress.due = AtMicros(doc.at("due").get<std::int64_t>());
}

// ---- order records: the binary form of orders.record (schema 2) -------------
//
// Start-up reads every order, so an order is stored in a form that decodes
// without a parse tree: a sequence of unsigned LEB128 varints (integers
// zig-zag encoded), texts as a varint length and the bytes, optional values
// behind a 0/1 byte, lists behind their length. Statuses and field names are
// written as their names, so the record does not depend on enum order.
// `state dump` shows records as OrderDoc's JSON.

class RecordWriter {
 public:
  void Unsigned(std::uint64_t value) {
    while (value >= 0x80) {
      out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
      value >>= 7;
    }
    out_.push_back(static_cast<char>(value));
  }
  void Signed(std::int64_t value) {
    Unsigned((static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63));
  }
  void Time(SimTime time) { Signed(Micros(time)); }
  void Text(std::string_view text) {
    Unsigned(text.size());
    out_.append(text);
  }
  void Flag(bool value) { Unsigned(value ? 1 : 0); }
  void OptionalText(const std::optional<std::string>& text) {
    Flag(text.has_value());
    if (text) Text(*text);
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Reads what RecordWriter wrote; a record cut short or out of range throws
// StateFileError (a damaged file).
class RecordReader {
 public:
  RecordReader(const void* data, std::size_t size) : at_(static_cast<const unsigned char*>(data)), end_(at_ + size) {}
  std::uint64_t Unsigned() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == end_) Damaged();
      const unsigned char byte = *at_++;
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return value;
    }
    Damaged();
  }
  std::int64_t Signed() {
    const std::uint64_t value = Unsigned();
    return static_cast<std::int64_t>((value >> 1) ^ (~(value & 1) + 1));
  }
  SimTime Time() { return AtMicros(Signed()); }
  std::size_t Count() {
    const std::uint64_t count = Unsigned();
    if (count > static_cast<std::uint64_t>(end_ - at_)) Damaged();  // every element takes a byte at least
    return static_cast<std::size_t>(count);
  }
  std::string_view TextView() {
    const std::size_t size = Count();
    std::string_view text(reinterpret_cast<const char*>(at_), size);
    at_ += size;
    return text;
  }
  std::string Text() { return std::string(TextView()); }
  bool Flag() {
    const std::uint64_t value = Unsigned();
    if (value > 1) Damaged();
    return value == 1;
  }
  std::optional<std::string> OptionalText() {
    if (!Flag()) return std::nullopt;
    return Text();
  }
  OrderStatus Status() {
    const std::string_view name = TextView();
    for (std::size_t i = 0; i < kOrderStatusNames.size(); ++i) {
      if (kOrderStatusNames[i] == name) return static_cast<OrderStatus>(i);
    }
    Damaged();
  }
  std::optional<CsrField> Field() {
    const std::string_view name = TextView();
    for (std::size_t i = 0; i < kCsrFieldCount; ++i) {
      if (WireName(static_cast<CsrField>(i)) == name) return static_cast<CsrField>(i);
    }
    return std::nullopt;  // a field this version no longer knows is left out, as OrderOf does
  }
  bool AtEnd() const { return at_ == end_; }
  [[noreturn]] static void Damaged() { throw StateFileError("state file: a damaged order record"); }

 private:
  const unsigned char* at_;
  const unsigned char* end_;
};

void WriteCsrData(RecordWriter& out, const CsrData& data) {
  out.OptionalText(data.account_number);
  out.OptionalText(data.customer_name);
  out.Unsigned(data.service_address.size());
  for (const auto& [name, value] : data.service_address) {
    out.Text(name);
    out.Text(value);
  }
  out.OptionalText(data.working_telephone_number);
  out.Unsigned(data.working_telephone_numbers_on_account.size());
  for (const auto& tn : data.working_telephone_numbers_on_account) out.Text(tn);
}
CsrData ReadCsrData(RecordReader& in) {
  CsrData data;
  data.account_number = in.OptionalText();
  data.customer_name = in.OptionalText();
  data.service_address.resize(in.Count());
  for (auto& [name, value] : data.service_address) {
    name = in.Text();
    value = in.Text();
  }
  data.working_telephone_number = in.OptionalText();
  data.working_telephone_numbers_on_account.resize(in.Count());
  for (auto& tn : data.working_telephone_numbers_on_account) tn = in.Text();
  return data;
}

// `with_notes` false: the record lists no notes (schema 6 keeps them in
// their own table, NoteRecord); true: the schema 2–5 record.
void WriteNote(RecordWriter& out, const Note& note) {
  out.Signed(note.id);
  out.Text(note.user_id);
  out.Text(note.description);
  out.Time(note.last_modified);
}
Note ReadNote(RecordReader& in) {
  Note note;
  note.id = in.Signed();
  note.user_id = in.Text();
  note.description = in.Text();
  note.last_modified = in.Time();
  return note;
}

// A row of `notes` (schema 6): one note, as an order record of schema 2–5 lists it.
std::string NoteRecord(const Note& note) {
  RecordWriter out;
  WriteNote(out, note);
  return std::move(out.bytes());
}
Note ReadNoteRecord(const void* data, std::size_t size) {
  RecordReader in(data, size);
  Note note = ReadNote(in);
  if (!in.AtEnd()) RecordReader::Damaged();
  return note;
}

std::string OrderRecord(const Order& order, const ScenarioProgress& progress, bool with_notes) {
  RecordWriter out;
  out.bytes().reserve(256);
  out.Text(order.id);
  out.Text(order.account_id);
  out.Text(order.last_modified_by);
  out.Time(order.created);
  out.Time(order.last_modified);
  out.Text(ToString(order.status));
  out.Text(order.message.str());
  out.Unsigned(order.fields.Items().size());
  for (const auto& [field, value] : order.fields.Items()) {
    out.Text(WireName(field));
    out.Text(value);
  }
  out.Flag(order.csr_data != nullptr);
  if (order.csr_data) WriteCsrData(out, *order.csr_data);
  out.Unsigned(order.errors.size());
  for (const auto& error : order.errors) {
    out.Signed(error.code);
    out.Text(error.description);
  }
  out.Unsigned(with_notes ? order.notes.size() : 0);
  for (std::size_t i = 0; with_notes && i < order.notes.size(); ++i) WriteNote(out, order.notes[i]);
  out.Text(order.scenario_name.str());
  out.Unsigned(order.history.size());
  for (const auto& entry : order.history) {
    out.Text(ToString(entry.status));
    out.Time(entry.at);
    out.Text(entry.message.str());
    out.Text(entry.cause.str());
  }
  out.Unsigned(progress.next_step);
  out.Flag(progress.waiting_for_update);
  out.Flag(progress.due.has_value());
  if (progress.due) out.Time(*progress.due);
  return std::move(out.bytes());
}

// Fills `order` and the position fields of `progress` (not its steps).
void ReadOrderRecord(const void* data, std::size_t size, Order& order, ScenarioProgress& progress) {
  RecordReader in(data, size);
  order.id = in.Text();
  order.account_id = in.Text();
  order.last_modified_by = in.Text();
  order.created = in.Time();
  order.last_modified = in.Time();
  order.status = in.Status();
  order.message = SharedText(in.TextView());
  for (std::size_t i = 0, n = in.Count(); i < n; ++i) {
    const auto field = in.Field();
    std::string value = in.Text();
    if (field) order.fields.Set(*field, std::move(value));
  }
  if (in.Flag()) order.csr_data = std::make_shared<const CsrData>(ReadCsrData(in));
  order.errors.resize(in.Count());
  for (auto& error : order.errors) {
    error.code = static_cast<int>(in.Signed());
    error.description = in.Text();
  }
  const std::size_t note_count = in.Count();
  order.notes.reserve(note_count);
  for (std::size_t i = 0; i < note_count; ++i) order.notes.push_back(ReadNote(in));
  order.scenario_name = SharedText(in.TextView());
  order.history.resize(in.Count());
  for (auto& entry : order.history) {
    entry.status = in.Status();
    entry.at = in.Time();
    entry.message = SharedText(in.TextView());
    entry.cause = SharedText(in.TextView());
  }
  progress.next_step = static_cast<std::size_t>(in.Unsigned());
  progress.waiting_for_update = in.Flag();
  if (in.Flag()) progress.due = in.Time();
  if (!in.AtEnd()) RecordReader::Damaged();
}

json SubscriptionDoc(const Subscription& subscription) {
  const SubscriptionSpec& spec = subscription.spec;
  json email = nullptr;
  if (spec.email) email = {{"email", spec.email->email}, {"digest_requested", spec.email->digest_requested}};
  json callback = nullptr;
  if (spec.callback) {
    json basic = nullptr;
    if (spec.callback->basic) {
      basic = {{"username", spec.callback->basic->username}, {"password", spec.callback->basic->password}};
    }
    callback = {{"url", spec.callback->url},
                {"expiry_seconds", spec.callback->expiry_seconds},
                {"basic", basic},
                {"public_key", OptionalText(spec.callback->public_key)}};
  }
  return {{"id", subscription.id},
          {"account_id", subscription.account_id},
          {"order_type", OptionalText(spec.order_type)},
          {"event_type", OptionalText(spec.event_type)},
          {"order_id", OptionalText(spec.order_id)},
          {"email", email},
          {"callback", callback},
          {"expires_at", Micros(subscription.expires_at)},
          {"last_status", subscription.last_status}};
}
Subscription SubscriptionOf(const json& doc) {
  Subscription subscription;
  subscription.id = doc.at("id").get<std::string>();
  subscription.account_id = doc.at("account_id").get<std::string>();
  SubscriptionSpec& spec = subscription.spec;
  spec.order_type = OptionalText(doc.at("order_type"));
  spec.event_type = OptionalText(doc.at("event_type"));
  spec.order_id = OptionalText(doc.at("order_id"));
  if (const auto& email = doc.at("email"); !email.is_null()) {
    spec.email =
        EmailSubscription{email.at("email").get<std::string>(), email.at("digest_requested").get<std::string>()};
  }
  if (const auto& callback = doc.at("callback"); !callback.is_null()) {
    CallbackSubscription value;
    value.url = callback.at("url").get<std::string>();
    value.expiry_seconds = callback.at("expiry_seconds").get<std::int64_t>();
    if (const auto& basic = callback.at("basic"); !basic.is_null()) {
      value.basic = BasicCredentials{basic.at("username").get<std::string>(), basic.at("password").get<std::string>()};
    }
    value.public_key = OptionalText(callback.at("public_key"));
    spec.callback = std::move(value);
  }
  subscription.expires_at = AtMicros(doc.at("expires_at").get<std::int64_t>());
  subscription.last_status = doc.at("last_status").get<std::string>();
  return subscription;
}

// ---- settings documents ------------------------------------------------------

json CallbackFaultDoc(const CallbackFault& fault) {
  json doc = json::object();
  for (CallbackFaultKind kind : fault.Kinds()) doc[std::string(ToString(kind))] = fault.DurationOf(kind).count();
  return doc;
}
CallbackFault CallbackFaultOf(const json& doc) {
  CallbackFault fault;
  for (const auto& [name, micros] : doc.items()) {
    if (auto kind = CallbackFaultKindByName(name)) fault.Set(*kind, Duration(micros.get<std::int64_t>()));
  }
  return fault;
}

json OptionalCount(const std::optional<std::int64_t>& count) { return count ? json(*count) : json(nullptr); }
std::optional<std::int64_t> OptionalCount(const json& doc) {
  if (doc.is_null()) return std::nullopt;
  return doc.get<std::int64_t>();
}

constexpr std::pair<ApiFaultAction, const char*> kApiFaultActions[] = {{ApiFaultAction::kStatus, "status"},
                                                                       {ApiFaultAction::kLatency, "latency"},
                                                                       {ApiFaultAction::kDropConnection, "drop"}};

json FaultsDoc(const std::vector<ApiFaultRule>& api_rules, const std::vector<CallbackFaultRule>& callback_rules) {
  json api = json::array();
  for (const auto& rule : api_rules) {
    const char* action = "status";
    for (const auto& [value, name] : kApiFaultActions) {
      if (value == rule.action) action = name;
    }
    api.push_back({{"id", rule.id},
                   {"account", OptionalText(rule.account_id)},
                   {"route", OptionalText(rule.route)},
                   {"action", action},
                   {"status", rule.status},
                   {"latency_ms", rule.latency.count()},
                   {"remaining", OptionalCount(rule.remaining)},
                   {"fraction", rule.fraction}});
  }
  json callback = json::array();
  for (const auto& rule : callback_rules) {
    callback.push_back({{"id", rule.id},
                        {"account", OptionalText(rule.account_id)},
                        {"fault", CallbackFaultDoc(rule.fault)},
                        {"remaining", OptionalCount(rule.remaining)},
                        {"fraction", rule.fraction}});
  }
  return {{"api", api}, {"callback", callback}};
}
std::pair<std::vector<ApiFaultRule>, std::vector<CallbackFaultRule>> FaultsOf(const json& doc) {
  std::vector<ApiFaultRule> api_rules;
  for (const auto& item : doc.at("api")) {
    ApiFaultRule rule;
    rule.id = item.at("id").get<std::string>();
    rule.account_id = OptionalText(item.at("account"));
    rule.route = OptionalText(item.at("route"));
    const std::string action = item.at("action").get<std::string>();
    for (const auto& [value, name] : kApiFaultActions) {
      if (action == name) rule.action = value;
    }
    rule.status = item.at("status").get<int>();
    rule.latency = std::chrono::milliseconds(item.at("latency_ms").get<std::int64_t>());
    rule.remaining = OptionalCount(item.at("remaining"));
    rule.fraction = item.at("fraction").get<double>();
    api_rules.push_back(std::move(rule));
  }
  std::vector<CallbackFaultRule> callback_rules;
  for (const auto& item : doc.at("callback")) {
    CallbackFaultRule rule;
    rule.id = item.at("id").get<std::string>();
    rule.account_id = OptionalText(item.at("account"));
    rule.fault = CallbackFaultOf(item.at("fault"));
    rule.remaining = OptionalCount(item.at("remaining"));
    rule.fraction = item.at("fraction").get<double>();
    callback_rules.push_back(std::move(rule));
  }
  return {std::move(api_rules), std::move(callback_rules)};
}

// ---- callback documents --------------------------------------------------------

json CredentialsDoc(const std::optional<BasicCredentials>& credentials) {
  if (!credentials) return nullptr;
  return {{"username", credentials->username}, {"password", credentials->password}};
}
std::optional<BasicCredentials> CredentialsOf(const json& doc) {
  if (doc.is_null()) return std::nullopt;
  return BasicCredentials{doc.at("username").get<std::string>(), doc.at("password").get<std::string>()};
}

json DeliveryDoc(const Delivery& delivery) {
  return {{"account_id", delivery.account_id},
          {"subscription_id", delivery.subscription_id},
          {"order_id", delivery.order_id},
          {"status", std::string(ToString(delivery.status))},
          {"event", delivery.event},
          {"url", delivery.url},
          {"credentials", CredentialsDoc(delivery.credentials)},
          {"body", delivery.body},
          {"scheduled_at", Micros(delivery.scheduled_at)},
          {"fault", CallbackFaultDoc(delivery.fault)}};
}
Delivery DeliveryOf(const json& doc) {
  Delivery delivery;
  delivery.account_id = doc.at("account_id").get<std::string>();
  delivery.subscription_id = doc.at("subscription_id").get<std::string>();
  delivery.order_id = doc.at("order_id").get<std::string>();
  delivery.status = StatusOf(doc.at("status"));
  delivery.event = doc.at("event").get<std::string>();
  delivery.url = doc.at("url").get<std::string>();
  delivery.credentials = CredentialsOf(doc.at("credentials"));
  delivery.body = doc.at("body").get<std::string>();
  delivery.scheduled_at = AtMicros(doc.at("scheduled_at").get<std::int64_t>());
  delivery.fault = CallbackFaultOf(doc.at("fault"));
  return delivery;
}

json JournalEntryDoc(const JournalEntry& entry) {
  json headers = json::array();
  for (const auto& [name, value] : entry.request_headers) headers.push_back({name, value});
  return {{"id", entry.id},
          {"account_id", entry.account_id},
          {"subscription_id", entry.subscription_id},
          {"order_id", entry.order_id},
          {"status", std::string(ToString(entry.status))},
          {"event", entry.event},
          {"url", entry.url},
          {"attempt", entry.attempt},
          {"request_headers", headers},
          {"body", entry.body},
          {"response_status", entry.response_status},
          {"error", entry.error},
          {"fault", entry.fault},
          {"scheduled_at", Micros(entry.scheduled_at)},
          {"sent_at", Micros(entry.sent_at)},
          {"finished_at", Micros(entry.finished_at)},
          {"wall_micros", entry.wall_micros}};
}
JournalEntry JournalEntryOf(const json& doc) {
  JournalEntry entry;
  entry.id = doc.at("id").get<std::uint64_t>();
  entry.account_id = doc.at("account_id").get<std::string>();
  entry.subscription_id = doc.at("subscription_id").get<std::string>();
  entry.order_id = doc.at("order_id").get<std::string>();
  entry.status = StatusOf(doc.at("status"));
  entry.event = doc.at("event").get<std::string>();
  entry.url = doc.at("url").get<std::string>();
  entry.attempt = doc.at("attempt").get<int>();
  for (const auto& pair : doc.at("request_headers")) {
    entry.request_headers.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  }
  entry.body = doc.at("body").get<std::string>();
  entry.response_status = doc.at("response_status").get<int>();
  entry.error = doc.at("error").get<std::string>();
  entry.fault = doc.at("fault").get<std::string>();
  entry.scheduled_at = AtMicros(doc.at("scheduled_at").get<std::int64_t>());
  entry.sent_at = AtMicros(doc.at("sent_at").get<std::int64_t>());
  entry.finished_at = AtMicros(doc.at("finished_at").get<std::int64_t>());
  entry.wall_micros = doc.at("wall_micros").get<std::int64_t>();
  return entry;
}

// The tables of the current version (kStateSchemaVersion), for a new file.
const char* const kSchema = R"sql(
CREATE TABLE schema_version(version INTEGER NOT NULL);
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE step_lists(id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE orders(id TEXT NOT NULL, account TEXT NOT NULL, steps INTEGER NOT NULL, record BLOB NOT NULL);
CREATE TABLE subscriptions(account TEXT NOT NULL, position INTEGER NOT NULL, doc TEXT NOT NULL,
                           PRIMARY KEY(account, position));
CREATE TABLE settings(key TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE account_scenarios(account TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE offsets(account TEXT PRIMARY KEY, micros INTEGER NOT NULL);
CREATE TABLE id_streams(seed INTEGER PRIMARY KEY, draws INTEGER NOT NULL);
CREATE TABLE journal(id INTEGER PRIMARY KEY, account TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE deliveries(id INTEGER PRIMARY KEY, account TEXT NOT NULL, next_attempt INTEGER NOT NULL,
                        tries INTEGER NOT NULL, doc TEXT NOT NULL, retry_at INTEGER);
CREATE TABLE notes(order_row INTEGER NOT NULL, position INTEGER NOT NULL, record BLOB NOT NULL,
                   PRIMARY KEY(order_row, position)) WITHOUT ROWID;
)sql";

// Schema 1 → 2: orders' JSON documents (`doc`) become binary records
// (`record`, OrderRecord), which start-up decodes several times faster, and
// `id` loses its index: the store finds an order's row by its rowid
// (ScenarioProgress::state_row), so a create appends to the table instead of also
// writing a random page of an index of random UUIDs.
// Rows keep their order (restore goes by rowid: creation order).
void MigrateFrom1(sqlite3* db) {
  Statement create(db,
                   "CREATE TABLE orders_v2(id TEXT NOT NULL, account TEXT NOT NULL, steps INTEGER NOT NULL, "
                   "record BLOB NOT NULL)");
  create.Run();
  Statement rows(db, "SELECT id, account, steps, doc FROM orders ORDER BY rowid");
  Statement insert(db, "INSERT INTO orders_v2(id, account, steps, record) VALUES(?1, ?2, ?3, ?4)");
  while (rows.Step()) {
    const json doc = json::parse(rows.Text(3));
    ScenarioProgress progress;
    ProgressFieldsOf(doc, progress);
    insert.Bind(1, rows.Text(0))
        .Bind(2, rows.Text(1))
        .Bind(3, rows.Int(2))
        .BindBlob(4, OrderRecord(OrderOf(doc), progress, /*with_notes=*/true))
        .Run();
  }
  Statement(db, "DROP TABLE orders").Run();
  Statement(db, "ALTER TABLE orders_v2 RENAME TO orders").Run();
}

// Schema 2 → 3: the settings that version 2 did not keep — fault rules and
// callback settings (`settings`, JSON documents), per-account scenario sets
// (the text they were given), timeline offsets, and how far each seed's id
// stream has drawn.
void MigrateFrom2(sqlite3* db) {
  for (const char* sql : {"CREATE TABLE settings(key TEXT PRIMARY KEY, doc TEXT NOT NULL)",
                          "CREATE TABLE account_scenarios(account TEXT PRIMARY KEY, text TEXT NOT NULL)",
                          "CREATE TABLE offsets(account TEXT PRIMARY KEY, micros INTEGER NOT NULL)",
                          "CREATE TABLE id_streams(seed INTEGER PRIMARY KEY, draws INTEGER NOT NULL)"}) {
    Statement(db, sql).Run();
  }
}

// Schema 3 → 4: the callback journal (its entries by journal id) and the
// deliveries whose final outcome is not journaled yet (at-least-once).
void MigrateFrom3(sqlite3* db) {
  Statement(db, "CREATE TABLE journal(id INTEGER PRIMARY KEY, account TEXT NOT NULL, doc TEXT NOT NULL)").Run();
  Statement(db,
            "CREATE TABLE deliveries(id INTEGER PRIMARY KEY, account TEXT NOT NULL, next_attempt INTEGER NOT NULL, "
            "tries INTEGER NOT NULL, doc TEXT NOT NULL)")
      .Run();
}

// Schema 4 → 5: when a delivery's retry is due (micros of simulated time on
// its account's timeline; NULL: not waiting, sent at once at start-up, as
// every delivery of a version 4 file is), so a restart keeps its back-off.
void MigrateFrom4(sqlite3* db) { Statement(db, "ALTER TABLE deliveries ADD COLUMN retry_at INTEGER").Run(); }

// Schema 5 → 6: an order's notes move out of its record into `notes`, a row
// per note by the order's row and the note's position (NoteRecord), so adding
// a note writes that note instead of the whole order with every note.
void MigrateFrom5(sqlite3* db) {
  Statement(db,
            "CREATE TABLE notes(order_row INTEGER NOT NULL, position INTEGER NOT NULL, record BLOB NOT NULL, "
            "PRIMARY KEY(order_row, position)) WITHOUT ROWID")
      .Run();
  Statement rows(db, "SELECT rowid, record FROM orders ORDER BY rowid");
  Statement insert(db, "INSERT INTO notes(order_row, position, record) VALUES(?1, ?2, ?3)");
  Statement update(db, "UPDATE orders SET record = ?2 WHERE rowid = ?1");
  while (rows.Step()) {  // an update keeps the row's rowid, so the scan sees each row once
    Order order;
    ScenarioProgress progress;
    const auto [data, size] = rows.Blob(1);
    ReadOrderRecord(data, size, order, progress);
    if (order.notes.empty()) continue;
    for (std::size_t i = 0; i < order.notes.size(); ++i) {
      insert.Bind(1, rows.Int(0)).Bind(2, static_cast<std::int64_t>(i)).BindBlob(3, NoteRecord(order.notes[i])).Run();
    }
    update.Bind(1, rows.Int(0)).BindBlob(2, OrderRecord(order, progress, /*with_notes=*/false)).Run();
  }
}

// Every note of every order, in order: by the order's row, then position.
template <typename Each>
void ForEachNote(sqlite3* db, Each&& each) {
  Statement rows(db, "SELECT order_row, record FROM notes ORDER BY order_row, position");
  while (rows.Step()) {
    const auto [data, size] = rows.Blob(1);
    each(rows.Int(0), ReadNoteRecord(data, size));
  }
}

// Gives the orders (read in rowid order, state_row set) their notes and
// sets how many are in the file; returns the note id after the highest.
std::int64_t AttachNotes(sqlite3* db, std::vector<std::pair<Order, ScenarioProgress>>& orders) {
  std::int64_t next_note_id = 0;
  auto order = orders.begin();
  ForEachNote(db, [&](std::int64_t row, Note note) {
    next_note_id = std::max(next_note_id, note.id + 1);
    if (order == orders.end() || order->second.state_row != row) {
      order = std::lower_bound(orders.begin(), orders.end(), row,
                               [](const auto& each, std::int64_t value) { return each.second.state_row < value; });
      if (order == orders.end() || order->second.state_row != row) return;  // no such order: not restored
    }
    order->first.notes.push_back(std::move(note));
    order->second.state_notes = order->first.notes.size();
  });
  return next_note_id;
}

// kMigrations[v - 1] turns a file of version v into one of version v + 1.
using Migration = void (*)(sqlite3*);
constexpr Migration kMigrations[] = {MigrateFrom1, MigrateFrom2, MigrateFrom3, MigrateFrom4, MigrateFrom5};
static_assert(std::size(kMigrations) == kStateSchemaVersion - 1, "one migration per version step");

}  // namespace

// ---------------------------------------------------------------------------

struct StateStore::Impl {
  sqlite3* db = nullptr;
  std::unique_ptr<Statement> insert_order;
  std::unique_ptr<Statement> update_order;
  std::unique_ptr<Statement> insert_step_list;
  std::unique_ptr<Statement> delete_subscriptions;
  std::unique_ptr<Statement> insert_subscription;
  std::unique_ptr<Statement> set_meta;
  std::unique_ptr<Statement> save_id_stream;
  std::unique_ptr<Statement> insert_note;
  std::unique_ptr<Statement> delete_notes;
  std::unique_ptr<Statement> insert_delivery;
  // Test-only (CSRSIM_TEST_STATE_FAIL_WHILE): while a file of this name
  // exists, every transaction fails as on a full disk. Empty: never.
  std::string fail_while;
  // Test-only (CSRSIM_TEST_STATE_KILL_AFTER_COMMIT_WHILE): while a file of
  // this name exists, the process kills itself (SIGKILL) right after a
  // transaction commits, before any caller of it goes on. Empty: never.
  std::string kill_after_commit_while;
  // Step lists already in the file, by the variant they were written from;
  // the set is held so that the Variant's address cannot be reused.
  std::map<const Variant*, std::pair<std::shared_ptr<const ScenarioSet>, std::int64_t>> step_lists;

  // The commit queue (StateStore::Commit): the writes waiting for the next
  // transaction, and whether one is being committed.
  struct Batch {
    std::vector<const std::function<void()>*> writes;
    std::exception_ptr error;  // the transaction failed: every write of it failed
    bool done = false;
  };
  Mutex queue_mu;
  std::condition_variable committed;  // waited on with queue_mu
  std::shared_ptr<Batch> open CSRSIM_GUARDED_BY(queue_mu) = std::make_shared<Batch>();
  bool committing CSRSIM_GUARDED_BY(queue_mu) = false;

  ~Impl() {
    insert_order.reset();
    update_order.reset();
    insert_step_list.reset();
    delete_subscriptions.reset();
    insert_subscription.reset();
    set_meta.reset();
    save_id_stream.reset();
    insert_note.reset();
    delete_notes.reset();
    insert_delivery.reset();
    sqlite3_close(db);
  }

  void Exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : sqlite3_errmsg(db);
      sqlite3_free(message);
      throw StateFileError("state file: " + text);
    }
  }

  std::int64_t StepListId(const ScenarioProgress& progress, const std::string& scenario) {
    auto it = step_lists.find(progress.variant);
    if (it != step_lists.end()) return it->second.second;
    insert_step_list->Bind(1, StepListDoc(scenario, *progress.variant).dump()).Run();
    const std::int64_t id = sqlite3_last_insert_rowid(db);
    step_lists.emplace(progress.variant, std::make_pair(progress.set, id));
    return id;
  }

  void SetSetting(const char* key, const std::string& doc) {
    Statement(db, "INSERT INTO settings(key, doc) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET doc = excluded.doc")
        .Bind(1, std::string(key))
        .Bind(2, doc)
        .Run();
  }

  void SetMeta(const char* key, std::int64_t value) { set_meta->Bind(1, std::string(key)).Bind(2, value).Run(); }

  // The test-only hooks (fail_while, kill_after_commit_while): a write fails
  // as on a full disk, the process is killed right after a commit.
  void FailIfAsked() const {
    if (!fail_while.empty() && ::access(fail_while.c_str(), F_OK) == 0) {
      throw StateFileError("state file: database or disk is full (CSRSIM_TEST_STATE_FAIL_WHILE)");
    }
  }
  void KillIfAsked() const {
    if (!kill_after_commit_while.empty() && ::access(kill_after_commit_while.c_str(), F_OK) == 0) ::raise(SIGKILL);
  }

  // A delivery before its first attempt (DeliveryDoc); returns its key.
  std::int64_t InsertDelivery(const std::string& account_id, const std::string& doc) {
    insert_delivery->Bind(1, account_id).Bind(2, doc).Run();
    return sqlite3_last_insert_rowid(db);
  }
};

namespace {

// Opens and checks the file; one line per way it can be unusable.
void CheckDirectory(const std::string& path, const std::string& quoted) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path parent = fs::absolute(fs::path(path), ec).parent_path();
  if (!fs::is_directory(parent, ec)) {
    throw StateFileError("--state: directory of " + quoted + " does not exist");
  }
  if (::access(parent.c_str(), W_OK) != 0) {
    throw StateFileError("--state: directory of " + quoted +
                         " is not writable (the state file needs a -wal file beside it)");
  }
}

// Runs `sql`; a failure becomes one line naming the file and what is wrong with it.
void ExecChecked(sqlite3* db, const std::string& quoted, const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  std::string text = message ? message : sqlite3_errmsg(db);
  sqlite3_free(message);
  switch (rc) {
    case SQLITE_OK:
      return;
    case SQLITE_NOTADB:
      throw StateFileError("--state: " + quoted + " is not a csr-simulator state file (not a SQLite database)");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw StateFileError("--state: " + quoted + " is in use by another csr-simulator (the file is locked)");
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      throw StateFileError("--state: " + quoted + " cannot be written: " + text);
    default:
      throw StateFileError("--state: " + quoted + ": " + text);
  }
}

struct SchemaFound {
  bool has_tables = false;   // any table at all
  bool has_version = false;  // ours: a schema_version table
  int version = 0;
};

SchemaFound ReadSchema(sqlite3* db) {
  SchemaFound found;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type='table'", -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      found.has_tables = true;
      if (std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "schema_version") {
        found.has_version = true;
      }
    }
  }
  sqlite3_finalize(stmt);
  if (found.has_version &&
      sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &stmt, nullptr) == SQLITE_OK) {
    if (sqlite3_step(stmt) == SQLITE_ROW) found.version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
  }
  return found;
}

// Inside the open transaction: refuses a file that is not ours or is newer,
// creates the schema in a new file, migrates an older one.
void BringSchemaUpToDate(sqlite3* db, const std::string& quoted, const SchemaFound& found) {
  if (found.has_tables && !found.has_version) {
    ExecChecked(db, quoted, "ROLLBACK");
    throw StateFileError("--state: " + quoted + " is a SQLite database but not a csr-simulator state file");
  }
  if (found.version > kStateSchemaVersion) {
    ExecChecked(db, quoted, "ROLLBACK");
    throw StateFileError("--state: " + quoted + " has schema version " + std::to_string(found.version) +
                         ", newer than this csr-simulator's " + std::to_string(kStateSchemaVersion) +
                         " (use a newer csr-simulator)");
  }
  if (!found.has_version) {
    ExecChecked(db, quoted, kSchema);
    ExecChecked(db, quoted,
                ("INSERT INTO schema_version(version) VALUES(" + std::to_string(kStateSchemaVersion) + ")").c_str());
    return;
  }
  if (found.version == kStateSchemaVersion) return;
  // Older files migrate one version at a time inside this transaction:
  // a failure leaves the file as it was.
  try {
    if (found.version < 1) throw StateFileError("schema version " + std::to_string(found.version) + " is unknown");
    for (int from = found.version; from < kStateSchemaVersion; ++from) kMigrations[from - 1](db);
  } catch (const std::exception& error) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw StateFileError("--state: " + quoted + " could not be migrated from schema version " +
                         std::to_string(found.version) + ": " + error.what());
  }
  ExecChecked(db, quoted, ("UPDATE schema_version SET version = " + std::to_string(kStateSchemaVersion)).c_str());
}

void OpenChecked(const std::string& path, StateStore::Purpose purpose, sqlite3*& db) {
  const std::string quoted = "'" + path + "'";
  CheckDirectory(path, quoted);
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    throw StateFileError("--state: cannot open " + quoted + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_extended_result_codes(db, 0);
  // Exclusive locking before WAL: no shared-memory index, and the lock taken
  // by the first write below is held until close, so no second process can use the file.
  ExecChecked(db, quoted, "PRAGMA locking_mode=EXCLUSIVE");
  ExecChecked(db, quoted, "PRAGMA journal_mode=WAL");
  // NORMAL in WAL: a commit is in the OS once the call returns, so it survives
  // the process being killed; only a power loss can drop the last commits (README.md, Durable state).
  ExecChecked(db, quoted, "PRAGMA synchronous=NORMAL");
  ExecChecked(db, quoted, "BEGIN EXCLUSIVE");
  const SchemaFound found = ReadSchema(db);
  BringSchemaUpToDate(db, quoted, found);
  if (purpose == StateStore::Purpose::kServe) {  // counted for bug reports (`state dump`)
    ExecChecked(db, quoted,
                "INSERT INTO meta(key, value) VALUES('starts', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1");
  }
  ExecChecked(db, quoted, "COMMIT");
  // A migration leaves the old tables' pages free: give them back once.
  if (found.has_version && found.version < kStateSchemaVersion) ExecChecked(db, quoted, "VACUUM");
}

}  // namespace

StateStore::StateStore(const std::string& path, Purpose purpose) : path_(path), impl_(std::make_unique<Impl>()) {
  try {
    OpenChecked(path, purpose, impl_->db);
  } catch (...) {
    impl_.reset();  // closes the connection
    throw;
  }
  sqlite3* db = impl_->db;
  // Test-only (README.md, Durable state): caps the file at this many pages, so
  // a test can fill it and see what a full disk does.
  if (const char* pages = std::getenv("CSRSIM_TEST_STATE_MAX_PAGES"); pages && *pages) {
    impl_->Exec(("PRAGMA max_page_count = " + std::to_string(std::strtoll(pages, nullptr, 10))).c_str());
  }
  // Test-only too: writes fail while the named file exists, so a test can
  // refuse exactly the call it chooses (client-tests/state_disk_full_test.cpp).
  if (const char* trigger = std::getenv("CSRSIM_TEST_STATE_FAIL_WHILE"); trigger && *trigger) {
    impl_->fail_while = trigger;
  }
  // Test-only too: a kill -9 right after a commit, at a point a test chooses
  // (client-tests/state_callbacks_test.cpp: nothing a commit holds is lost).
  if (const char* trigger = std::getenv("CSRSIM_TEST_STATE_KILL_AFTER_COMMIT_WHILE"); trigger && *trigger) {
    impl_->kill_after_commit_while = trigger;
  }
  impl_->insert_order =
      std::make_unique<Statement>(db, "INSERT INTO orders(id, account, steps, record) VALUES(?1, ?2, ?3, ?4)");
  impl_->update_order =
      std::make_unique<Statement>(db, "UPDATE orders SET steps = ?2, record = ?3 WHERE rowid = ?1 AND id = ?4");
  impl_->insert_step_list = std::make_unique<Statement>(db, "INSERT INTO step_lists(doc) VALUES(?1)");
  impl_->delete_subscriptions = std::make_unique<Statement>(db, "DELETE FROM subscriptions WHERE account = ?1");
  impl_->insert_subscription =
      std::make_unique<Statement>(db, "INSERT INTO subscriptions(account, position, doc) VALUES(?1, ?2, ?3)");
  impl_->set_meta = std::make_unique<Statement>(
      db, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  impl_->insert_note =
      std::make_unique<Statement>(db, "INSERT OR REPLACE INTO notes(order_row, position, record) VALUES(?1, ?2, ?3)");
  impl_->delete_notes = std::make_unique<Statement>(db, "DELETE FROM notes WHERE order_row = ?1");
  impl_->insert_delivery =
      std::make_unique<Statement>(db, "INSERT INTO deliveries(account, next_attempt, tries, doc) VALUES(?1, 1, 0, ?2)");
  impl_->save_id_stream =
      std::make_unique<Statement>(db,
                                  "INSERT INTO id_streams(seed, draws) VALUES(?1, ?2) "
                                  "ON CONFLICT(seed) DO UPDATE SET draws = max(draws, excluded.draws)");
}

StateStore::~StateStore() = default;

RestoreCounts StateStore::Restore(Engine& engine, Store& store, Clock& clock, IdGenerator& ids) {
  // Read everything under mu_, then hand it to the engine and the store with
  // mu_ released: they call SaveOrder/SaveSubscriptions (which take mu_) under
  // their own locks, so holding mu_ into them would invert that lock order.
  std::vector<std::pair<Order, ScenarioProgress>> orders;
  std::vector<std::pair<std::string, Subscription>> subscriptions;
  std::optional<SimTime> saved_clock;
  std::uint64_t draws = 0;
  std::int64_t next_note_id = 0;
  {
    MutexLock lock(mu_);
    sqlite3* db = impl_->db;
    Statement meta(db, "SELECT key, value FROM meta");
    while (meta.Step()) {
      if (meta.Text(0) == "clock") saved_clock = AtMicros(meta.Int(1));
    }
    if (auto seed = ids.seed()) {  // how far this seed's stream went, in any earlier run on this file
      Statement stream(db, "SELECT draws FROM id_streams WHERE seed = ?1");
      if (stream.Bind(1, static_cast<std::int64_t>(*seed)).Step()) draws = static_cast<std::uint64_t>(stream.Int(0));
    }
    try {
      std::map<std::int64_t, std::shared_ptr<const ScenarioSet>> sets;
      Statement lists(db, "SELECT id, doc FROM step_lists");
      while (lists.Step()) {
        auto set = StepListSet(json::parse(lists.Text(1)));
        const Variant* variant = &set->scenarios().front().variants.front();
        impl_->step_lists.emplace(variant, std::make_pair(set, lists.Int(0)));
        sets.emplace(lists.Int(0), std::move(set));
      }
      // One statement over every row, each record decoded from SQLite's own
      // buffer straight into its order (bench/README.md: start-up).
      Statement order_count(db, "SELECT coalesce(max(rowid), 0) FROM orders");
      if (order_count.Step()) orders.reserve(static_cast<std::size_t>(order_count.Int(0)));
      Statement order_rows(db, "SELECT steps, record, rowid FROM orders ORDER BY rowid");
      auto set = sets.end();
      while (order_rows.Step()) {
        if (set == sets.end() || set->first != order_rows.Int(0)) set = sets.find(order_rows.Int(0));
        if (set == sets.end()) throw StateFileError("state file: order without its steps");
        auto& [order, progress] = orders.emplace_back();
        progress.set = set->second;
        progress.variant = &set->second->scenarios().front().variants.front();
        const auto [data, size] = order_rows.Blob(1);
        ReadOrderRecord(data, size, order, progress);
        progress.state_row = order_rows.Int(2);
      }
      next_note_id = AttachNotes(db, orders);
      Statement subscription_rows(db, "SELECT account, doc FROM subscriptions ORDER BY account, position");
      while (subscription_rows.Step()) {
        subscriptions.emplace_back(subscription_rows.Text(0), SubscriptionOf(json::parse(subscription_rows.Text(1))));
      }
    } catch (const json::exception& error) {
      throw StateFileError("--state: '" + path_ + "' holds a damaged record: " + error.what());
    }
  }

  if (saved_clock && clock.IsManual() && *saved_clock > clock.Now()) clock.Advance(*saved_clock - clock.Now());
  RestoreCounts counts;
  store.Reserve(orders.size());
  for (auto& [order, progress] : orders) {
    engine.RestoreOrder(std::move(order), std::move(progress));
    ++counts.orders;
  }
  for (auto& entry : subscriptions) {
    // Not a structured binding: clang 14 cannot capture one in a lambda (the fuzz build).
    Subscription& subscription = entry.second;
    store.EditSubscriptions(entry.first,
                            [&](std::vector<Subscription>& list) { list.push_back(std::move(subscription)); });
    ++counts.subscriptions;
  }
  ids.Resume(draws, next_note_id);
  ids_ = &ids;
  return counts;
}

void StateStore::Commit(const std::function<void()>& write) {
  Impl& impl = *impl_;
  MutexLock queue(impl.queue_mu);
  const std::shared_ptr<Impl::Batch> batch = impl.open;
  batch->writes.push_back(&write);
  while (!batch->done) {
    if (impl.committing) {
      queue.Wait(impl.committed);
      continue;
    }
    // Lead: commit everything queued so far, this write's batch included.
    impl.committing = true;
    const auto leading = std::exchange(impl.open, std::make_shared<Impl::Batch>());
    queue.Unlock();
    // Every id in these writes was drawn before they were queued, so this
    // count covers them: a restart continues after it (IdGenerator::Resume).
    std::optional<std::pair<std::uint64_t, std::uint64_t>> stream;  // seed, draws
    if (const IdGenerator* ids = ids_.load()) {
      if (auto seed = ids->seed()) stream.emplace(*seed, ids->draws());
    }
    {
      MutexLock lock(mu_);
      try {
        impl.Exec("BEGIN IMMEDIATE");
        try {
          impl.FailIfAsked();
          for (const auto* each : leading->writes) (*each)();
          if (stream) {
            impl.save_id_stream->Bind(1, static_cast<std::int64_t>(stream->first))
                .Bind(2, static_cast<std::int64_t>(stream->second))
                .Run();
          }
          impl.Exec("COMMIT");
          impl.KillIfAsked();
        } catch (...) {
          // Nothing of the transaction stays in the file (SQLite may have
          // rolled it back already: then this ROLLBACK fails, harmlessly).
          sqlite3_exec(impl.db, "ROLLBACK", nullptr, nullptr, nullptr);
          impl.step_lists.clear();  // some of them may have been rolled back
          throw;                    // (so may rows added: SaveOrder checks the row it updates)
        }
      } catch (const std::exception& error) {
        // Every caller of this transaction fails with a 503 (ErrorResponse).
        std::string cause = error.what();
        if (cause.rfind("state file: ", 0) == 0) cause.erase(0, 12);
        leading->error = std::make_exception_ptr(Error::StateWriteFailed(cause));
      } catch (...) {
        leading->error = std::current_exception();
      }
    }
    queue.Lock();
    leading->done = true;
    impl.committing = false;
    impl.committed.notify_all();
  }
  if (batch->error) std::rethrow_exception(batch->error);
}

std::vector<std::int64_t> StateStore::SaveOrder(const Order& order, const ScenarioProgress& progress,
                                                std::optional<std::size_t> edited_note,
                                                const std::vector<Delivery>& callbacks) {
  const std::string record = OrderRecord(order, progress, /*with_notes=*/false);
  // The notes the order's row does not hold yet, and the one edited.
  const std::size_t first_new = progress.state_row != 0 ? std::min(progress.state_notes, order.notes.size()) : 0;
  std::vector<std::pair<std::size_t, std::string>> notes;
  if (edited_note && *edited_note < first_new) notes.emplace_back(*edited_note, NoteRecord(order.notes[*edited_note]));
  for (std::size_t i = first_new; i < order.notes.size(); ++i) notes.emplace_back(i, NoteRecord(order.notes[i]));
  std::vector<std::string> callback_docs;
  callback_docs.reserve(callbacks.size());
  for (const auto& delivery : callbacks) callback_docs.push_back(DeliveryDoc(delivery).dump());
  std::vector<std::int64_t> keys;
  std::int64_t row = progress.state_row;
  Commit([&] {
    const std::int64_t steps = impl_->StepListId(progress, order.scenario_name.str());
    // The row this order was last written to, if that write was committed
    // (a rolled-back insert leaves a row number that is gone, or reused by
    // another order: hence the id in the WHERE clause).
    bool updated = false;
    if (row != 0) {
      impl_->update_order->Bind(1, row).Bind(2, steps).BindBlob(3, record).Bind(4, order.id).Run();
      updated = sqlite3_changes(impl_->db) == 1;
    }
    if (!updated) {
      impl_->insert_order->Bind(1, order.id).Bind(2, order.account_id).Bind(3, steps).BindBlob(4, record).Run();
      row = sqlite3_last_insert_rowid(impl_->db);
      impl_->delete_notes->Bind(1, row).Run();
      notes.clear();  // a new row: all of them
      for (std::size_t i = 0; i < order.notes.size(); ++i) notes.emplace_back(i, NoteRecord(order.notes[i]));
    }
    for (const auto& [position, note] : notes) {
      impl_->insert_note->Bind(1, row).Bind(2, static_cast<std::int64_t>(position)).BindBlob(3, note).Run();
    }
    // The change's callbacks, in this transaction: a crash keeps both or neither.
    for (std::size_t i = 0; i < callbacks.size(); ++i) {
      keys.push_back(impl_->InsertDelivery(callbacks[i].account_id, callback_docs[i]));
    }
  });
  // Committed (Commit threw otherwise); the caller holds the order's mutex.
  progress.state_row = row;
  progress.state_notes = order.notes.size();
  return keys;
}

void StateStore::SaveSubscriptions(const std::string& account_id, const std::vector<Subscription>& subscriptions) {
  std::vector<std::string> docs;
  docs.reserve(subscriptions.size());
  for (const auto& subscription : subscriptions) docs.push_back(SubscriptionDoc(subscription).dump());
  Commit([&] {
    impl_->delete_subscriptions->Bind(1, account_id).Run();
    for (std::size_t i = 0; i < docs.size(); ++i) {
      impl_->insert_subscription->Bind(1, account_id).Bind(2, static_cast<std::int64_t>(i)).Bind(3, docs[i]).Run();
    }
  });
}

void StateStore::SaveClock(SimTime now) {
  Commit([&] { impl_->SetMeta("clock", Micros(now)); });
}

void StateStore::Reset(const std::optional<std::string>& account_id) {
  Commit([&] {
    if (!account_id) {
      impl_->Exec(
          "DELETE FROM orders; DELETE FROM notes; DELETE FROM subscriptions; DELETE FROM step_lists; "
          "DELETE FROM account_scenarios; DELETE FROM offsets; DELETE FROM journal; DELETE FROM deliveries");
      impl_->step_lists.clear();
      return;
    }
    Statement(impl_->db, "DELETE FROM notes WHERE order_row IN (SELECT rowid FROM orders WHERE account = ?1)")
        .Bind(1, *account_id)
        .Run();
    Statement(impl_->db, "DELETE FROM orders WHERE account = ?1").Bind(1, *account_id).Run();
    impl_->delete_subscriptions->Bind(1, *account_id).Run();
    Statement(impl_->db, "DELETE FROM account_scenarios WHERE account = ?1").Bind(1, *account_id).Run();
    Statement(impl_->db, "DELETE FROM offsets WHERE account = ?1").Bind(1, *account_id).Run();
    Statement(impl_->db, "DELETE FROM journal WHERE account = ?1").Bind(1, *account_id).Run();
    Statement(impl_->db, "DELETE FROM deliveries WHERE account = ?1").Bind(1, *account_id).Run();
  });
}

std::int64_t StateStore::DeliverySubmitted(const Delivery& delivery) {
  const std::string doc = DeliveryDoc(delivery).dump();
  std::int64_t key = 0;
  Commit([&] { key = impl_->InsertDelivery(delivery.account_id, doc); });
  return key;
}

void StateStore::DeliveryChanged(std::int64_t key, const Delivery& delivery) {
  const std::string doc = DeliveryDoc(delivery).dump();
  Commit([&] { Statement(impl_->db, "UPDATE deliveries SET doc = ?2 WHERE id = ?1").Bind(1, key).Bind(2, doc).Run(); });
}

void StateStore::DeliveryTurnEnded(std::int64_t key, const std::vector<JournalEntry>& entries, int next_attempt,
                                   int tries, std::optional<SimTime> retry_at) {
  std::vector<std::string> docs;
  docs.reserve(entries.size());
  for (const auto& entry : entries) docs.push_back(JournalEntryDoc(entry).dump());
  const auto capacity = static_cast<std::int64_t>(journal_capacity_.load());
  Commit([&] {
    std::int64_t last = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      last = std::max(last, static_cast<std::int64_t>(entries[i].id));
      Statement(impl_->db, "INSERT OR REPLACE INTO journal(id, account, doc) VALUES(?1, ?2, ?3)")
          .Bind(1, static_cast<std::int64_t>(entries[i].id))
          .Bind(2, entries[i].account_id)
          .Bind(3, docs[i])
          .Run();
    }
    if (last > capacity) Statement(impl_->db, "DELETE FROM journal WHERE id <= ?1").Bind(1, last - capacity).Run();
    if (key == 0) return;
    if (!retry_at) {
      Statement(impl_->db, "DELETE FROM deliveries WHERE id = ?1").Bind(1, key).Run();
    } else {
      Statement(impl_->db, "UPDATE deliveries SET next_attempt = ?2, tries = ?3, retry_at = ?4 WHERE id = ?1")
          .Bind(1, key)
          .Bind(2, static_cast<std::int64_t>(next_attempt))
          .Bind(3, static_cast<std::int64_t>(tries))
          .Bind(4, Micros(*retry_at))
          .Run();
    }
  });
}

void StateStore::RestoreCallbacks(Journal& journal, CallbackDispatcher& dispatcher) {
  journal_capacity_ = journal.capacity();
  std::vector<JournalEntry> entries;
  struct Pending {
    Delivery delivery;
    std::int64_t key;
    int next_attempt;
    int tries;
    std::optional<SimTime> retry_at;
  };
  std::vector<Pending> pending;
  {
    MutexLock lock(mu_);
    try {
      Statement rows(impl_->db,
                     "SELECT doc FROM journal WHERE id > (SELECT coalesce(max(id), 0) FROM journal) - ?1 "
                     "ORDER BY id");
      rows.Bind(1, static_cast<std::int64_t>(journal.capacity()));
      while (rows.Step()) entries.push_back(JournalEntryOf(json::parse(rows.Text(0))));
      Statement deliveries(impl_->db, "SELECT id, next_attempt, tries, doc, retry_at FROM deliveries ORDER BY id");
      while (deliveries.Step()) {
        std::optional<SimTime> retry_at;
        if (!deliveries.IsNull(4)) retry_at = AtMicros(deliveries.Int(4));
        pending.push_back({DeliveryOf(json::parse(deliveries.Text(3))), deliveries.Int(0),
                           static_cast<int>(deliveries.Int(1)), static_cast<int>(deliveries.Int(2)), retry_at});
      }
    } catch (const json::exception& error) {
      throw StateFileError("--state: '" + path_ + "' holds a damaged callback record: " + error.what());
    }
  }
  journal.Restore(std::move(entries));
  for (auto& each : pending) {
    dispatcher.Resubmit(std::move(each.delivery), each.key, each.next_attempt, each.tries, each.retry_at);
  }
}

void StateStore::SaveFaults(const FaultInjector& faults) {
  MutexLock order(faults_mu_);
  const std::string doc = FaultsDoc(faults.ApiFaults(), faults.CallbackFaults()).dump();
  Commit([&] { impl_->SetSetting("faults", doc); });
}

void StateStore::SaveCallbackSettings(std::optional<CallbackAuthMode> auth, std::optional<RetryPolicy> retry) {
  std::string auth_doc, retry_doc;
  if (auth) auth_doc = json{{"mode", *auth == CallbackAuthMode::kChallenge ? "challenge" : "preemptive"}}.dump();
  if (retry) {
    retry_doc = json{{"max_attempts", retry->max_attempts},
                     {"initial_backoff", retry->initial_backoff.count()},
                     {"multiplier", retry->multiplier}}
                    .dump();
  }
  Commit([&] {
    if (auth) impl_->SetSetting("callback_auth", auth_doc);
    if (retry) impl_->SetSetting("callback_retry", retry_doc);
  });
}

void StateStore::SaveAccountScenarios(const std::string& account_id, const std::optional<std::string>& text) {
  Commit([&] {
    if (text) {
      Statement(impl_->db,
                "INSERT INTO account_scenarios(account, text) VALUES(?1, ?2) "
                "ON CONFLICT(account) DO UPDATE SET text = excluded.text")
          .Bind(1, account_id)
          .Bind(2, *text)
          .Run();
    } else {
      Statement(impl_->db, "DELETE FROM account_scenarios WHERE account = ?1").Bind(1, account_id).Run();
    }
  });
}

void StateStore::SaveOffset(const std::string& account_id, Duration offset) {
  Commit([&] {
    Statement(impl_->db,
              "INSERT INTO offsets(account, micros) VALUES(?1, ?2) "
              "ON CONFLICT(account) DO UPDATE SET micros = excluded.micros")
        .Bind(1, account_id)
        .Bind(2, static_cast<std::int64_t>(offset.count()))
        .Run();
  });
}

void StateStore::RestoreSettings(Scheduler& scheduler, FaultInjector& faults, CallbackDispatcher& dispatcher,
                                 ScenarioLibrary& scenarios) {
  // Read under mu_, applied with it released (the lock order of Restore).
  std::vector<std::pair<std::string, std::int64_t>> offsets;
  std::vector<std::pair<std::string, std::string>> account_sets;
  std::map<std::string, std::string> settings;
  {
    MutexLock lock(mu_);
    Statement offset_rows(impl_->db, "SELECT account, micros FROM offsets");
    while (offset_rows.Step()) offsets.emplace_back(offset_rows.Text(0), offset_rows.Int(1));
    Statement set_rows(impl_->db, "SELECT account, text FROM account_scenarios ORDER BY account");
    while (set_rows.Step()) account_sets.emplace_back(set_rows.Text(0), set_rows.Text(1));
    Statement setting_rows(impl_->db, "SELECT key, doc FROM settings");
    while (setting_rows.Step()) settings.emplace(setting_rows.Text(0), setting_rows.Text(1));
  }
  for (const auto& [account, micros] : offsets) scheduler.RestoreOffset(account, Duration(micros));
  for (const auto& [account, text] : account_sets) {
    try {
      scenarios.ReplaceForAccount(account, std::make_shared<const ScenarioSet>(LoadScenarioText(text, "PUT body")));
    } catch (const ScenarioLoadError& error) {
      // The text was valid when it was stored; a newer version may read it differently.
      throw StateFileError("--state: '" + path_ + "': the scenario set of account " + account +
                           " no longer loads: " + error.what());
    }
  }
  try {
    if (auto it = settings.find("faults"); it != settings.end()) {
      auto [api_rules, callback_rules] = FaultsOf(json::parse(it->second));
      faults.Restore(std::move(api_rules), std::move(callback_rules));
    }
    if (auto it = settings.find("callback_auth"); it != settings.end()) {
      dispatcher.SetAuthMode(json::parse(it->second).at("mode") == "challenge" ? CallbackAuthMode::kChallenge
                                                                               : CallbackAuthMode::kPreemptive);
    }
    if (auto it = settings.find("callback_retry"); it != settings.end()) {
      const json doc = json::parse(it->second);
      RetryPolicy retry;
      retry.max_attempts = doc.at("max_attempts").get<int>();
      retry.initial_backoff = Duration(doc.at("initial_backoff").get<std::int64_t>());
      retry.multiplier = doc.at("multiplier").get<double>();
      dispatcher.SetRetryPolicy(retry);
    }
  } catch (const json::exception& error) {
    throw StateFileError("--state: '" + path_ + "' holds a damaged setting: " + error.what());
  }
}

std::string StateStore::DumpJson() {
  MutexLock lock(mu_);
  sqlite3* db = impl_->db;
  json out = {{"schema_version", kStateSchemaVersion}, {"file", path_}};
  Statement meta(db, "SELECT key, value FROM meta ORDER BY key");
  while (meta.Step()) out[meta.Text(0)] = meta.Int(1);
  json lists = json::object();
  Statement steps(db, "SELECT id, doc FROM step_lists ORDER BY id");
  while (steps.Step()) lists[std::to_string(steps.Int(0))] = json::parse(steps.Text(1));
  json orders = json::array();
  std::map<std::int64_t, NoteList> notes;  // by order row
  ForEachNote(db, [&](std::int64_t row, Note note) { notes[row].push_back(std::move(note)); });
  Statement order_rows(db, "SELECT steps, record, rowid FROM orders ORDER BY rowid");
  while (order_rows.Step()) {
    Order order;
    ScenarioProgress progress;
    const auto [data, size] = order_rows.Blob(1);
    ReadOrderRecord(data, size, order, progress);
    if (auto it = notes.find(order_rows.Int(2)); it != notes.end()) order.notes = std::move(it->second);
    json doc = OrderDoc(order, progress);
    doc["step_list"] = order_rows.Int(0);
    orders.push_back(std::move(doc));
  }
  json subscriptions = json::array();
  Statement subscription_rows(db, "SELECT doc FROM subscriptions ORDER BY account, position");
  while (subscription_rows.Step()) subscriptions.push_back(json::parse(subscription_rows.Text(0)));
  json settings = json::object();
  Statement setting_rows(db, "SELECT key, doc FROM settings ORDER BY key");
  while (setting_rows.Step()) settings[setting_rows.Text(0)] = json::parse(setting_rows.Text(1));
  json account_sets = json::object();
  Statement set_rows(db, "SELECT account, text FROM account_scenarios ORDER BY account");
  while (set_rows.Step()) account_sets[set_rows.Text(0)] = set_rows.Text(1);
  json offsets = json::object();
  Statement offset_rows(db, "SELECT account, micros FROM offsets ORDER BY account");
  while (offset_rows.Step()) offsets[offset_rows.Text(0)] = offset_rows.Int(1);
  json streams = json::array();
  Statement stream_rows(db, "SELECT seed, draws FROM id_streams ORDER BY seed");
  while (stream_rows.Step()) {
    streams.push_back({{"seed", static_cast<std::uint64_t>(stream_rows.Int(0))}, {"draws", stream_rows.Int(1)}});
  }
  out["step_lists"] = std::move(lists);
  out["orders"] = std::move(orders);
  out["subscriptions"] = std::move(subscriptions);
  out["settings"] = std::move(settings);
  out["account_scenarios"] = std::move(account_sets);
  out["offsets"] = std::move(offsets);
  out["id_streams"] = std::move(streams);
  json journal = json::array();
  Statement journal_rows(db, "SELECT doc FROM journal ORDER BY id");
  while (journal_rows.Step()) journal.push_back(json::parse(journal_rows.Text(0)));
  json deliveries = json::array();
  Statement delivery_rows(db, "SELECT id, next_attempt, tries, doc, retry_at FROM deliveries ORDER BY id");
  while (delivery_rows.Step()) {
    json doc = json::parse(delivery_rows.Text(3));
    doc["key"] = delivery_rows.Int(0);
    doc["next_attempt"] = delivery_rows.Int(1);
    doc["tries"] = delivery_rows.Int(2);
    doc["retry_at"] = delivery_rows.IsNull(4) ? json(nullptr) : json(delivery_rows.Int(4));
    deliveries.push_back(std::move(doc));
  }
  out["journal"] = std::move(journal);
  out["deliveries"] = std::move(deliveries);
  return out.dump(2);
}

}  // namespace csrsim
