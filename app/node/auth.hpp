#pragma once
// Who is calling: API keys from the config, each with a role and the customer or merchant id
// it acts as. The tenant rules (which orders a principal may see and change) live here too,
// so api.cpp asks one question per request and the rules can be read in one place.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "app/node/config.hpp"
#include "app/node/http_types.hpp"
#include "ordo/v1/order.pb.h"

namespace ordo::node {

struct principal {
  role who = role::operations;
  std::string subject; // customer or merchant id
  std::string name;    // the key's configured name: what logs show
};

class authenticator {
public:
  explicit authenticator(const std::vector<api_key>& keys);

  /// No keys configured: everyone is operations (loopback-only, enforced by validate()).
  bool open() const { return by_key_.empty(); }

  /// The caller from `Authorization: Bearer <key>` or `X-Api-Key`; nullopt when unknown.
  std::optional<principal> identify(const http_request& r) const;

private:
  std::unordered_map<std::string, principal> by_key_;
};

/// May `p` see this order? (A "no" is answered 404, like an unknown order.)
bool may_read(const principal& p, const v1::OrderState& s);
/// May `p` cancel it (customer: own; merchant: own items; operations)?
bool may_cancel(const principal& p, const v1::OrderState& s);
/// May `p` refund it, or report its shipment and delivery (merchant: own; operations)?
bool may_fulfil(const principal& p, const v1::OrderState& s);

} // namespace ordo::node
