#pragma once
// Signed payment webhooks: the scheme payment providers use (e.g. Stripe's). The provider
// sends
//     Ordo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
// and the node accepts the webhook only when the signature matches (compared in constant
// time) and t is within `tolerance` of the node's clock, so a captured webhook cannot be
// replayed later. With no secret configured nothing is checked (a node without API keys,
// on loopback; config validation refuses a webhook gateway with keys but no secret).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "app/node/http_types.hpp"
#include "app/node/webhook_sign.hpp"

namespace ordo::node {

struct payments_config {
  std::string webhook_secret;            // shared with the provider; "" = unsigned webhooks
  std::chrono::seconds tolerance{300};   // |now - t| beyond this: stale, refused
};

/// nullopt when the webhook may be handled; otherwise the 401 to answer (missing, malformed,
/// stale or wrong signature — each named).
std::optional<http_response> check_webhook_signature(const http_request& r,
                                                     const payments_config& cfg,
                                                     std::chrono::system_clock::time_point now);

} // namespace ordo::node
