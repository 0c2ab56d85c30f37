// decide() for one sku's inventory.
#include <algorithm>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "domain/inventory.hpp"
#include "domain/limits.hpp"
#include "domain/validation.hpp"

namespace ordo::domain {

namespace {

inventory_decision reject(v1::RejectionCode code, std::string message) {
  return rejected<v1::InventoryEvent>(code, std::move(message));
}

std::string money_text(const v1::Money& m) {
  return fmt::format("{} {}", m.amount_minor(), m.currency());
}

bool same_money(const v1::Money& a, const v1::Money& b) {
  return a.amount_minor() == b.amount_minor() && a.currency() == b.currency();
}

// A merchant acts only on its own SKUs; another merchant's SKU reads as absent (like
// another tenant's order). A SKU with no owner is the operator's.
std::optional<v1::Rejection> check_owner(const v1::InventoryState& s,
                                         const v1::InventoryCommand& c) {
  if (c.acting_merchant().empty()) return std::nullopt; // operations or the saga
  if (c.has_assign_owner())
    return make_rejection(v1::REJECTION_CODE_FORBIDDEN,
                          "assign_owner: only operations may assign a SKU's merchant");
  const bool exists = s.last_sequence() > 0;
  if (exists && s.merchant_id() != c.acting_merchant())
    return make_rejection(v1::REJECTION_CODE_NOT_FOUND,
                          fmt::format("sku: no inventory for \"{}\"", c.sku()));
  return std::nullopt;
}

// Reserve's price rule: the order's unit price must be the SKU's price of record now.
std::optional<v1::Rejection> check_price(const v1::InventoryState& s, const v1::Reserve& r,
                                         const std::string& sku) {
  if (!s.has_price())
    return make_rejection(v1::REJECTION_CODE_PRICE_NOT_SET,
                          fmt::format("reserve.unit_price: sku \"{}\" has no price of record",
                                      sku));
  if (!same_money(r.unit_price(), s.price()))
    return make_rejection(v1::REJECTION_CODE_PRICE_MISMATCH,
                          fmt::format("reserve.unit_price: sku \"{}\" sent {}, current price {}",
                                      sku, money_text(r.unit_price()), money_text(s.price())));
  return std::nullopt;
}

template <class T>
const int64_t* find(const google::protobuf::Map<std::string, T>& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

// reserve: idempotent per order, at the SKU's price of record, within what is available.
template <class Add>
inventory_decision decide_reserve(const v1::InventoryState& s, const v1::InventoryCommand& c,
                                  int64_t available, inventory_decision& d, Add&& add) {
  const auto& r = c.reserve();
  // Already shipped: a repeat is harmless.
  if (find(s.committed(), r.order_id())) return std::move(d);
  if (const int64_t* held = find(s.reservations(), r.order_id())) {
    if (*held == r.quantity()) return std::move(d); // idempotent repeat
    return reject(v1::REJECTION_CODE_RESERVATION_CONFLICT,
                  fmt::format("reserve.quantity: order \"{}\" already holds {} (asked {})",
                              r.order_id(), *held, r.quantity()));
  }
  if (auto e = check_price(s, r, c.sku())) return rejected<v1::InventoryEvent>(std::move(*e));
  if (r.quantity() > available)
    return reject(v1::REJECTION_CODE_INSUFFICIENT_STOCK,
                  fmt::format("reserve.quantity: {} exceeds available {} of sku \"{}\"",
                              r.quantity(), available, c.sku()));
  auto* e = add().mutable_reserved();
  e->set_order_id(r.order_id());
  e->set_quantity(r.quantity());
  return std::move(d);
}

// adjust: on hand stays at or above what is reserved, and within the stock limit.
template <class Add>
inventory_decision decide_adjust(const v1::InventoryState& s, const v1::InventoryCommand& c,
                                 inventory_decision& d, Add&& add) {
  const int64_t after = s.on_hand() + c.adjust().delta();
  if (after < s.reserved_total())
    return reject(v1::REJECTION_CODE_BELOW_RESERVED,
                  fmt::format("adjust.delta: on_hand {} + ({}) = {} is below reserved {}",
                              s.on_hand(), c.adjust().delta(), after, s.reserved_total()));
  if (after > limits::stock_max)
    return reject(v1::REJECTION_CODE_STOCK_LIMIT,
                  fmt::format("adjust.delta: on_hand {} + {} exceeds {}", s.on_hand(),
                              c.adjust().delta(), limits::stock_max));
  auto* e = add().mutable_adjusted();
  e->set_delta(c.adjust().delta());
  e->set_reason(c.adjust().reason());
  return std::move(d);
}

} // namespace

inventory_decision decide(const v1::InventoryState& s, const v1::InventoryCommand& c,
                          int64_t now_ms) {
  using K = v1::InventoryCommand;
  if (c.kind_case() == K::KIND_NOT_SET)
    return reject(v1::REJECTION_CODE_UNKNOWN_COMMAND,
                  "inventory command kind is not set or unknown to this node");
  if (auto e = validate(c)) return rejected<v1::InventoryEvent>(std::move(*e));
  if (!s.sku().empty() && s.sku() != c.sku())
    return reject(v1::REJECTION_CODE_WRONG_ENTITY,
                  fmt::format("sku: \"{}\" sent to inventory of \"{}\"", c.sku(), s.sku()));
  if (auto e = check_owner(s, c)) return rejected<v1::InventoryEvent>(std::move(*e));

  inventory_decision d;
  const auto add = [&]() -> v1::InventoryEvent& {
    auto& e = d.events.emplace_back();
    e.set_sku(c.sku());
    e.set_at_ms(std::max(now_ms, s.updated_at_ms()));
    return e;
  };
  const int64_t available = s.on_hand() - s.reserved_total();
  // A merchant's first command creates the SKU as its own.
  if (s.last_sequence() == 0 && !c.acting_merchant().empty())
    add().mutable_owner_assigned()->set_merchant_id(c.acting_merchant());

  switch (c.kind_case()) {
  case K::kReserve:
    return decide_reserve(s, c, available, d, add);
  case K::kRelease: {
    const int64_t* held = find(s.reservations(), c.release().order_id());
    if (!held) return d; // nothing held (never reserved, released or committed): no-op
    auto* e = add().mutable_released();
    e->set_order_id(c.release().order_id());
    e->set_quantity(*held);
    return d;
  }
  case K::kCommit: {
    const auto& id = c.commit().order_id();
    if (find(s.committed(), id)) return d; // idempotent repeat
    const int64_t* held = find(s.reservations(), id);
    if (!held)
      return reject(v1::REJECTION_CODE_NOT_RESERVED,
                    fmt::format("commit.order_id: order \"{}\" holds no reservation", id));
    auto* e = add().mutable_committed();
    e->set_order_id(id);
    e->set_quantity(*held);
    return d;
  }
  case K::kRestock:
    if (s.on_hand() + c.restock().quantity() > limits::stock_max)
      return reject(v1::REJECTION_CODE_STOCK_LIMIT,
                    fmt::format("restock.quantity: on_hand {} + {} exceeds {}", s.on_hand(),
                                c.restock().quantity(), limits::stock_max));
    add().mutable_restocked()->set_quantity(c.restock().quantity());
    return d;
  case K::kAdjust:
    return decide_adjust(s, c, d, add);
  case K::kSetPrice:
    if (s.has_price() && same_money(s.price(), c.set_price().price())) return d; // unchanged
    *add().mutable_price_set()->mutable_price() = c.set_price().price();
    return d;
  case K::kAssignOwner:
    if (s.merchant_id() == c.assign_owner().merchant_id()) return d; // unchanged
    add().mutable_owner_assigned()->set_merchant_id(c.assign_owner().merchant_id());
    return d;
  case K::KIND_NOT_SET:
    break;
  }
  return d;
}

} // namespace ordo::domain
