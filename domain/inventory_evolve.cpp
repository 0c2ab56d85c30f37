// evolve() for one sku's inventory, asserting the stock invariants after every event.
#include "domain/assert.hpp"
#include "domain/inventory.hpp"
#include "domain/limits.hpp"

namespace ordo::domain {

v1::InventoryState evolve(v1::InventoryState s, const v1::InventoryEvent& e) {
  using K = v1::InventoryEvent;
  ORDO_ASSERT(e.kind_case() != K::KIND_NOT_SET,
              "inventory event kind unknown: upcast or hold before evolving");
  if (s.sku().empty()) s.set_sku(e.sku());
  ORDO_ASSERT(e.sku() == s.sku(), "event for sku \"{}\" applied to \"{}\"", e.sku(), s.sku());
  ORDO_ASSERT(e.at_ms() >= s.updated_at_ms(), "event time {} before state time {}", e.at_ms(),
              s.updated_at_ms());
  auto& held = *s.mutable_reservations();

  switch (e.kind_case()) {
  case K::kReserved: {
    const auto& r = e.reserved();
    ORDO_ASSERT(!held.contains(r.order_id()), "order \"{}\" reserved twice", r.order_id());
    held[r.order_id()] = r.quantity();
    s.set_reserved_total(s.reserved_total() + r.quantity());
    break;
  }
  case K::kReleased: {
    const auto& r = e.released();
    ORDO_ASSERT(held.contains(r.order_id()) && held.at(r.order_id()) == r.quantity(),
                "release of {} for order \"{}\" that does not hold it", r.quantity(), r.order_id());
    held.erase(r.order_id());
    s.set_reserved_total(s.reserved_total() - r.quantity());
    break;
  }
  case K::kCommitted: {
    const auto& r = e.committed();
    ORDO_ASSERT(held.contains(r.order_id()) && held.at(r.order_id()) == r.quantity(),
                "commit of {} for order \"{}\" that does not hold it", r.quantity(), r.order_id());
    held.erase(r.order_id());
    s.set_reserved_total(s.reserved_total() - r.quantity());
    s.set_on_hand(s.on_hand() - r.quantity());
    (*s.mutable_committed())[r.order_id()] = r.quantity();
    s.add_committed_order(r.order_id());
    if (s.committed_order_size() > limits::committed_remembered_max) { // forget the oldest
      s.mutable_committed()->erase(s.committed_order(0));
      s.mutable_committed_order()->DeleteSubrange(0, 1);
    }
    s.set_committed_total(s.committed_total() + r.quantity());
    break;
  }
  case K::kRestocked:
    s.set_on_hand(s.on_hand() + e.restocked().quantity());
    break;
  case K::kAdjusted:
    s.set_on_hand(s.on_hand() + e.adjusted().delta());
    break;
  case K::kPriceSet:
    *s.mutable_price() = e.price_set().price();
    break;
  case K::kOwnerAssigned:
    s.set_merchant_id(e.owner_assigned().merchant_id());
    break;
  case K::KIND_NOT_SET:
    break;
  }
  s.set_updated_at_ms(e.at_ms());
  s.set_last_sequence(s.last_sequence() + 1);
  check_invariants(s);
  return s;
}

v1::InventoryState replay(const std::vector<v1::InventoryEvent>& events, v1::InventoryState from) {
  for (const auto& e : events)
    from = evolve(std::move(from), e);
  return from;
}

void check_invariants(const v1::InventoryState& s, bool deep) {
  ORDO_ASSERT(0 <= s.reserved_total() && s.reserved_total() <= s.on_hand() &&
                  s.on_hand() <= limits::stock_max,
              "sku \"{}\": need 0 <= reserved {} <= on_hand {} <= {}", s.sku(), s.reserved_total(),
              s.on_hand(), limits::stock_max);
  if (!deep) return;
  int64_t sum = 0;
  for (const auto& [order, qty] : s.reservations()) {
    ORDO_ASSERT(qty > 0, "sku \"{}\": order \"{}\" holds {}", s.sku(), order, qty);
    sum += qty;
  }
  ORDO_ASSERT(sum == s.reserved_total(), "sku \"{}\": reservations sum {} != reserved_total {}",
              s.sku(), sum, s.reserved_total());
  ORDO_ASSERT(s.committed_order_size() == static_cast<int>(s.committed().size()) &&
                  s.committed_order_size() <= limits::committed_remembered_max,
              "sku \"{}\": {} remembered commits, {} in order, at most {}", s.sku(),
              s.committed().size(), s.committed_order_size(), limits::committed_remembered_max);
}

} // namespace ordo::domain
