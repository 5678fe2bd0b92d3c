// The four XML request bodies (docs/wire-contract.md): <Csr> on create and on
// update, <Note>, <Subscription>. The first byte picks the decoder, the rest is
// the body. Properties: the decoders and validators throw nothing but Error,
// and whatever they accept comes back out as well-formed XML.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "csrsim/error.hpp"
#include "csrsim/validation.hpp"
#include "csrsim/wire.hpp"
#include "fuzz_check.hpp"

using namespace csrsim;

namespace {

void Csr(std::string_view body, bool for_create) {
  wire::CsrRequest request = wire::DecodeCsr(body);
  if (!ValidateCsrFields(request.fields, for_create).empty()) return;
  Order order;
  order.id = "d61018c8-2f09-4b8e-9b2f-5cbb4c0a1a10";
  order.account_id = "9900000";
  order.fields = request.fields;
  order.last_modified_by = "username";
  FUZZ_CHECK(fuzz::WellFormedXml(wire::EncodeCsrResponse(order)));
  FUZZ_CHECK(
      fuzz::WellFormedXml(wire::EncodeCsrList(1, {"/accounts/9900000/csrs?page=1&size=1", std::nullopt}, {order})));
}

void NoteBody(std::string_view body) {
  wire::NoteRequest note = wire::DecodeNote(body);
  if (!ValidateNote(note.user_id, note.description).empty()) return;
  Note stored{1, note.user_id.value_or(""), note.description.value_or(""), SimTime{}};
  FUZZ_CHECK(fuzz::WellFormedXml(wire::EncodeNotes({stored})));
  wire::NotificationContent content;
  content.note = stored.description;
  FUZZ_CHECK(fuzz::WellFormedXml(wire::EncodeNotification(content)));
}

void SubscriptionBody(std::string_view body) {
  SubscriptionSpec spec = wire::DecodeSubscription(body);
  if (!ValidateSubscription(spec, {"127.0.0.1", 8080}).empty()) return;
  Subscription subscription;
  subscription.id = "c11f6531-eb66-49a7-b305-67547a34c162";
  subscription.account_id = "9900000";
  subscription.spec = spec;
  FUZZ_CHECK(fuzz::WellFormedXml(wire::EncodeSubscriptions({subscription}, SimTime{})));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0:
        Csr(body, true);
        break;
      case 1:
        Csr(body, false);
        break;
      case 2:
        NoteBody(body);
        break;
      default:
        SubscriptionBody(body);
        break;
    }
  } catch (const Error& error) {
    FUZZ_CHECK(error.kind() == ErrorKind::kInvalid);
    for (const auto& detail : error.details()) FUZZ_CHECK(detail.description.size() < 1024);
  }
  return 0;
}
