// validation: the field constraints of the CSR, note and subscription requests
// (docs/wire-contract.md, CSR orders and Subscriptions), as tables. Each function returns every violation found, each
// naming the field, in Bandwidth's codes (1003 required, 1011 too long,
// 5070 invalid telephone number, 14500–14508 subscriptions, ...). An empty
// result means valid.
//
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "csrsim/model.hpp"

namespace csrsim {

// `for_create`: the TN is required on create; a PUT may omit it.
std::vector<ErrorDetail> ValidateCsrFields(const CsrFields& fields, bool for_create);

// UserId required (12501 "Username is required") and at most 100 characters,
// Description at most 500 (1011).
std::vector<ErrorDetail> ValidateNote(const std::optional<std::string>& user_id,
                                      const std::optional<std::string>& description);

// The simulator's own listener. A callback URL pointing back at it (its port
// on a loopback alias or on `host`) is refused with 14506: a callback to
// /_sim/reset would wipe every account. Port 0: not known, nothing refused.
struct OwnListener {
  std::string host;  // as configured (--host)
  int port = 0;
};

// Callback URLs must parse with ParseHttpUrl (url.hpp), the parser the
// dispatcher delivers with.
std::vector<ErrorDetail> ValidateSubscription(const SubscriptionSpec& spec, const OwnListener& self = {});

// Lower-case or upper-case 8-4-4-4-12 hex.
bool IsUuid(std::string_view text);

}  // namespace csrsim
