#pragma once
// Builders shared by the order suites: valid commands for a given state, and a driver that
// reaches any state through real decide()/evolve() calls (never by poking fields).
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "domain/order.hpp"
#include "domain/order_machine.hpp"

namespace ordo::test {

using domain::order_command_kind;
using domain::order_state;

inline const char* fx_order_id = "order-1";

inline v1::PlaceOrder valid_place_order() {
  v1::PlaceOrder p;
  p.set_customer_id("cust-7");
  p.set_currency("EUR");
  auto* l = p.add_lines();
  l->set_sku("sku-a");
  l->set_quantity(2);
  l->mutable_unit_price()->set_amount_minor(1250);
  l->mutable_unit_price()->set_currency("EUR");
  auto* l2 = p.add_lines();
  l2->set_sku("sku-b");
  l2->set_quantity(1);
  l2->mutable_unit_price()->set_amount_minor(999);
  l2->mutable_unit_price()->set_currency("EUR");
  auto* a = p.mutable_shipping_address();
  a->set_name("Ada Lovelace");
  a->set_line1("12 St James's Square");
  a->set_city("London");
  a->set_postal_code("SW1Y 4JH");
  a->set_country("GB");
  return p;
}

/// A field-valid command of `kind` that makes business sense against `s` (amounts match).
inline v1::OrderCommand valid_command(order_command_kind kind, const v1::OrderState& s) {
  v1::OrderCommand c;
  c.set_order_id(fx_order_id);
  switch (kind) {
  case order_command_kind::place_order:
    *c.mutable_place_order() = valid_place_order();
    break;
  case order_command_kind::confirm_stock_reserved:
    c.mutable_confirm_stock_reserved();
    break;
  case order_command_kind::reject_out_of_stock:
    c.mutable_reject_out_of_stock()->set_sku("sku-a");
    break;
  case order_command_kind::payment_authorized: {
    auto* p = c.mutable_payment_authorized();
    p->set_payment_id("pay-1");
    p->mutable_amount()->set_amount_minor(s.total_minor() > 0 ? s.total_minor() : 3499);
    p->mutable_amount()->set_currency("EUR");
    break;
  }
  case order_command_kind::payment_declined:
    c.mutable_payment_declined()->set_reason("insufficient funds");
    break;
  case order_command_kind::payment_timed_out:
    c.mutable_payment_timed_out();
    break;
  case order_command_kind::start_fulfilment:
    c.mutable_start_fulfilment();
    break;
  case order_command_kind::mark_shipped:
    c.mutable_mark_shipped()->set_carrier("DHL");
    c.mutable_mark_shipped()->set_tracking_number("JD0001");
    break;
  case order_command_kind::mark_delivered:
    c.mutable_mark_delivered();
    break;
  case order_command_kind::cancel_order:
    c.mutable_cancel_order()->set_reason("changed mind");
    break;
  case order_command_kind::refund_order: {
    auto* r = c.mutable_refund_order();
    const int64_t refundable = s.captured_minor() - s.refunded_minor();
    r->mutable_amount()->set_amount_minor(refundable > 0 ? refundable : 1);
    r->mutable_amount()->set_currency("EUR");
    r->set_reason("damaged");
    break;
  }
  }
  return c;
}

/// The shortest command path from nothing to `target`.
inline std::vector<order_command_kind> path_to(order_state target) {
  using K = order_command_kind;
  const std::vector<K> happy = {K::place_order,        K::confirm_stock_reserved,
                                K::payment_authorized, K::start_fulfilment,
                                K::mark_shipped,       K::mark_delivered};
  switch (target) {
  case order_state::none:
    return {};
  case order_state::rejected:
    return {K::place_order, K::reject_out_of_stock};
  case order_state::cancelled:
    return {K::place_order, K::cancel_order};
  case order_state::refunded: {
    auto p = happy;
    p.push_back(K::refund_order);
    return p;
  }
  default:
    return {happy.begin(), happy.begin() + static_cast<int>(target)}; // states follow the path
  }
}

/// Applies `path` with real decisions; every step must be accepted.
inline v1::OrderState drive(const std::vector<order_command_kind>& path, int64_t t0_ms = 1000) {
  v1::OrderState s;
  int64_t now = t0_ms;
  for (auto kind : path) {
    auto d = domain::decide(s, valid_command(kind, s), now++);
    REQUIRE_MESSAGE(d.accepted(), domain::name(kind), ": ", d.rejection->message());
    s = domain::replay(d.events, std::move(s));
  }
  return s;
}

} // namespace ordo::test
