#pragma once
// Who is calling: API keys from the config, each with a role and the customer or merchant id
// it acts as. The tenant rules (which orders a principal may see and change) live here too,
// so api.cpp asks one question per request and the rules can be read in one place.

#include <array>
#include <optional>
#include <string>
#include <string_view>
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
  bool open() const { return keys_.empty(); }

  /// The caller from `Authorization: Bearer <key>` or `X-Api-Key`; nullopt when unknown.
  /// The presented key's SHA-256 is compared with every configured digest in constant time
  /// (no early exit, no hash-table probe), so timing reveals nothing about the keys.
  std::optional<principal> identify(const http_request& r) const;

private:
  struct entry {
    std::array<unsigned char, 32> digest;
    principal who;
  };
  std::vector<entry> keys_;
};

/// May `p` see this order? (A "no" is answered 404, like an unknown order.)
bool may_read(const principal& p, const v1::OrderState& s);
/// May `p` cancel it (customer: own; merchant: own items; operations)?
bool may_cancel(const principal& p, const v1::OrderState& s);
/// May `p` refund it, or report its shipment and delivery (merchant: own; operations)?
/// A payments key may do none of these: it only posts webhooks.
bool may_fulfil(const principal& p, const v1::OrderState& s);

} // namespace ordo::node
