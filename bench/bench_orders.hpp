#pragma once
// The orders the benchmarks drive by hand (saga off): a placement and the lifecycle steps
// after it, the same for every benchmark so their figures compare.

#include <cstdint>
#include <string>

#include <fmt/core.h>

#include "ordo/v1/order.pb.h"

namespace ordo::bench {

inline v1::Money eur(int64_t m) {
  v1::Money x;
  x.set_amount_minor(m);
  x.set_currency("EUR");
  return x;
}

inline v1::OrderCommand place_cmd(uint64_t n) {
  v1::OrderCommand c;
  auto* p = c.mutable_place_order();
  p->set_customer_id(fmt::format("customer-{}", n % 100'000));
  p->set_currency("EUR");
  auto* l = p->add_lines();
  l->set_sku(fmt::format("SKU-{}", n % 64));
  l->set_quantity(1 + static_cast<int64_t>(n % 3));
  *l->mutable_unit_price() = eur(1'990);
  auto* a = p->mutable_shipping_address();
  a->set_name("Bench Customer");
  a->set_line1("1 Bench Street");
  a->set_city("Berlin");
  a->set_postal_code("10115");
  a->set_country("DE");
  return c;
}

// What a placement costs (the amount its payment authorizes).
inline int64_t order_total(const v1::OrderCommand& place) {
  int64_t total = 0;
  for (const auto& l : place.place_order().lines())
    total += l.quantity() * l.unit_price().amount_minor();
  return total;
}

// The next lifecycle command for an order at step `step` (0 = place).
inline bool step_cmd(const std::string& id, int step, int64_t total, v1::OrderCommand& c) {
  c.set_order_id(id);
  switch (step) {
  case 1:
    c.mutable_confirm_stock_reserved();
    return true;
  case 2:
    c.mutable_payment_authorized()->set_payment_id("p-" + id);
    *c.mutable_payment_authorized()->mutable_amount() = eur(total);
    return true;
  case 3:
    c.mutable_start_fulfilment();
    return true;
  case 4:
    c.mutable_mark_shipped()->set_carrier("DHL");
    c.mutable_mark_shipped()->set_tracking_number("T-" + id.substr(0, 12));
    return true;
  case 5:
    c.mutable_mark_delivered();
    return true;
  default:
    return false;
  }
}

} // namespace ordo::bench
