#pragma once
// The inventory aggregate: stock of ONE sku. Same decide/evolve contract as order.hpp.
//
// Rules:
// - on_hand counts physical units, reserved ones included; available = on_hand - reserved.
// - Never oversold: reserved_total <= on_hand; never negative: 0 <= reserved_total.
// - Per order id, reserve / release / commit are idempotent: a repeat (same order, same
//   quantity) is accepted with no events. Re-reserving with a different quantity is a
//   RESERVATION_CONFLICT; releasing an order with no reservation is a no-op (so the order
//   side may request releases conservatively); committing twice is a no-op.
// - Restock adds units; Adjust(delta) corrects the books but may never leave
//   on_hand < reserved_total (BELOW_RESERVED) or above limits::stock_max (STOCK_LIMIT).
#include <cstdint>
#include <vector>

#include "domain/decision.hpp"
#include "ordo/v1/inventory.pb.h"

namespace ordo::domain {

using inventory_decision = decision<v1::InventoryEvent>;

inventory_decision decide(const v1::InventoryState& state, const v1::InventoryCommand& command,
                          int64_t now_ms);

v1::InventoryState evolve(v1::InventoryState state, const v1::InventoryEvent& event);

v1::InventoryState replay(const std::vector<v1::InventoryEvent>& events,
                          v1::InventoryState from = {});

/// Cheap checks always; `deep` also re-sums the reservation map (O(orders)): tests and the
/// expensive validation tier use it.
void check_invariants(const v1::InventoryState& state, bool deep = false);

} // namespace ordo::domain
