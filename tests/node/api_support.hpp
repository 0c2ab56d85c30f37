#pragma once
// Shared pieces of the node API tests: the keys every test node is configured with, request
// bodies, and polling an order until the saga moved it.

#include <chrono>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "app/node/webhook_signature.hpp"
#include "messages/json/json.hpp"
#include "net/http_client.hpp"
#include "ordo/v1/api.pb.h"
#include "ordo/v1/order.pb.h"
#include "support/api_client.hpp"
#include "support/node_process.hpp"

namespace ordo::test {

inline const std::string ops_key = "ops-key-0123456789";
inline const std::string alice_key = "alice-key-0123456789";      // customer c-alice
inline const std::string bob_key = "bob-key-0123456789";          // customer c-bob
inline const std::string shop_key = "shop-key-0123456789";        // merchant m-shop
inline const std::string other_shop_key = "other-key-0123456789"; // merchant m-other

inline const std::string webhook_secret = "whsec-test-0123456789";

/// The Ordo-Signature header a payment provider sends with `body` (signed now).
inline std::vector<std::pair<std::string, std::string>> signed_webhook(const std::string& body) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return {{"Ordo-Signature", node::sign_webhook(webhook_secret, now, body)}};
}

inline std::string keys_toml() {
  return fmt::format(R"(
[[auth.keys]]
name = "ops"
key = "{}"
role = "operations"
[[auth.keys]]
name = "alice"
key = "{}"
role = "customer"
subject = "c-alice"
[[auth.keys]]
name = "bob"
key = "{}"
role = "customer"
subject = "c-bob"
[[auth.keys]]
name = "shop"
key = "{}"
role = "merchant"
subject = "m-shop"
[[auth.keys]]
name = "other-shop"
key = "{}"
role = "merchant"
subject = "m-other"
)",
                     ops_key, alice_key, bob_key, shop_key, other_shop_key);
}

inline std::string place_body(const std::string& customer, const std::string& sku = "SKU-1",
                              int qty = 1, const std::string& merchant = "m-shop") {
  return place_json(customer, {{sku, qty}}, merchant);
}

inline std::vector<std::pair<std::string, std::string>> idem(const std::string& k) {
  return {{"Idempotency-Key", k}};
}

inline std::string error_code(const net::http_result& r) {
  v1::ErrorBody b;
  if (!ordo::json::parse(r.body, b).empty()) return "<unparsable: " + r.body + ">";
  return b.error().code();
}

inline v1::CommandAnswer answer(const net::http_result& r) {
  v1::CommandAnswer a;
  auto e = ordo::json::parse(r.body, a);
  CHECK_MESSAGE(e.empty(), e << " in " << r.body);
  return a;
}

inline v1::OrderState state(net::http_client& c, const std::string& id) {
  return order_state(c, id);
}

/// Polls until the order reaches `want` (the saga works asynchronously), up to 10 s.
inline bool reaches(net::http_client& c, const std::string& id, v1::OrderStatus want) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < until) {
    if (state(c, id).status() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return false;
}

} // namespace ordo::test
