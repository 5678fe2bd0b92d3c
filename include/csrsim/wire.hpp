// wire: the XML codec of the Bandwidth CSR API (docs/wire-contract.md). The only module
// that uses pugixml.
//
// Decoders are tolerant as docs/wire-contract.md decides: namespaces, attributes,
// whitespace, element order and a missing prolog are ignored; element names match
// case-insensitively and ignore trailing whitespace (WireNamesMatch). Unknown
// child elements are ignored. Decoders check shape only (well-formed XML, right
// root, no nested junk where text is expected); field constraints live in
// validation.hpp. Malformed input throws Error::Invalid with a description a
// user can act on.
//
// Encoders produce exactly the element names and orders of the spec, with the
// prolog `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` and no
// pretty-printing.
//
// Thread-safety: stateless free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "csrsim/model.hpp"

namespace csrsim::wire {

// ---- timestamps -----------------------------------------------------------
// "2020-02-25T15:39:22.079Z" (UTC, milliseconds).
std::string FormatTimestamp(SimTime t);
// Accepts the format above, also without milliseconds or with an offset
// ("+00:00"), and a plain date "2020-02-25" (midnight UTC).
std::optional<SimTime> ParseTimestamp(std::string_view text);

// ---- requests ---------------------------------------------------------------
struct CsrRequest {
  CsrFields fields;
  bool requested_cancel = false;      // <Status>REQUESTED_CANCEL</Status>
  std::optional<std::string> status;  // any other <Status> text, for a clear error
  // Each element accepted under a spelling other than the wire name, e.g.
  // "accepted <EndUserPin> as EndUserPIN": real SDKs send these, the real API
  // might not take them (api.cpp logs and journals them).
  std::vector<std::string> leniencies;
};
CsrRequest DecodeCsr(std::string_view body);  // root <Csr>

struct NoteRequest {
  std::optional<std::string> user_id;
  std::optional<std::string> description;
};
NoteRequest DecodeNote(std::string_view body);  // root <Note>

SubscriptionSpec DecodeSubscription(std::string_view body);  // root <Subscription>

// ---- responses --------------------------------------------------------------
// <CsrResponse><OrderId/><Status/></CsrResponse>
std::string EncodeCsrCreated(const Order& order);
// Full <CsrResponse> in the element order of docs/wire-contract.md.
std::string EncodeCsrResponse(const Order& order);

struct ListLinks {
  std::string first;                // full URL, e.g. /api/accounts/1/csrs?page=1&size=3
  std::optional<std::string> next;  // absent on the last page
};
// <CsrResponses><TotalCount/><Links><first>Link=&lt;url&gt;;rel="first";</first>...</Links>
// <CsrResponse/>...</CsrResponses>
std::string EncodeCsrList(std::size_t total_count, const ListLinks& links, const std::vector<Order>& page);

// <Notes><Note>...</Note>...</Notes>
std::string EncodeNotes(const NoteList& notes);

// <SubscriptionsResponse><Subscriptions>[<Subscription>...]</Subscriptions>
// </SubscriptionsResponse>. `now` turns expires_at into seconds left (>= 0).
// The password is never written.
std::string EncodeSubscriptions(const std::vector<Subscription>& subscriptions, SimTime now);

struct NotificationContent {
  OrderStatus status = OrderStatus::kReceived;
  std::string subscription_id;
  std::string message;
  std::string order_id;
  std::optional<std::string> customer_order_id;
  std::optional<std::string> note;
  std::optional<SimTime> last_modified;
};
std::string EncodeNotification(const NotificationContent& content);

// <{root}><ResponseStatus><ErrorCode/><Description/></ResponseStatus></{root}>
std::string EncodeResponseStatus(std::string_view root, const ErrorDetail& error);
// <CsrOrderResponse><Errors><Error><Code/><Description/></Error>...</Errors></CsrOrderResponse>
std::string EncodeCsrOrderErrors(const std::vector<ErrorDetail>& errors);

}  // namespace csrsim::wire
