// decide() for one sku's inventory.
#include <algorithm>

#include <fmt/core.h>

#include "domain/inventory.hpp"
#include "domain/limits.hpp"
#include "domain/validation.hpp"

namespace ordo::domain {

namespace {

inventory_decision reject(v1::RejectionCode code, std::string message) {
  return rejected<v1::InventoryEvent>(code, std::move(message));
}

template <class T>
const int64_t* find(const google::protobuf::Map<std::string, T>& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
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

  inventory_decision d;
  const auto add = [&]() -> v1::InventoryEvent& {
    auto& e = d.events.emplace_back();
    e.set_sku(c.sku());
    e.set_at_ms(std::max(now_ms, s.updated_at_ms()));
    return e;
  };
  const int64_t available = s.on_hand() - s.reserved_total();

  switch (c.kind_case()) {
  case K::kReserve: {
    const auto& r = c.reserve();
    if (find(s.committed(), r.order_id())) return d; // already shipped: repeat is harmless
    if (const int64_t* held = find(s.reservations(), r.order_id())) {
      if (*held == r.quantity()) return d; // idempotent repeat
      return reject(v1::REJECTION_CODE_RESERVATION_CONFLICT,
                    fmt::format("reserve.quantity: order \"{}\" already holds {} (asked {})",
                                r.order_id(), *held, r.quantity()));
    }
    if (r.quantity() > available)
      return reject(v1::REJECTION_CODE_INSUFFICIENT_STOCK,
                    fmt::format("reserve.quantity: {} exceeds available {} of sku \"{}\"",
                                r.quantity(), available, c.sku()));
    auto* e = add().mutable_reserved();
    e->set_order_id(r.order_id());
    e->set_quantity(r.quantity());
    return d;
  }
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
  case K::kAdjust: {
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
    return d;
  }
  case K::KIND_NOT_SET:
    break;
  }
  return d;
}

} // namespace ordo::domain
