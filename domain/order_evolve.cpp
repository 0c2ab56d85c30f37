// evolve() for orders: fold one persisted event into the state, asserting that the event
// is legal where it lands (a persisted event in the wrong state means a bug or corruption).
#include <algorithm>

#include <fmt/core.h>

#include "domain/assert.hpp"
#include "domain/order.hpp"
#include "domain/order_machine.hpp"
#include "domain/upcast.hpp"

namespace ordo::domain {

namespace {

int64_t ordered_of(const v1::OrderState& s, const std::string& sku) {
  int64_t n = 0;
  for (const auto& l : s.lines())
    if (l.sku() == sku) n += l.quantity();
  return n;
}

void expect(order_state actual, std::initializer_list<order_state> allowed, order_event_kind e) {
  for (auto s : allowed)
    if (s == actual) return;
  ORDO_ASSERT(false, "event {} cannot apply in state {}", name(e), name(actual));
}

// A persisted event belongs to this order and is not older than its state.
void expect_same_order_not_earlier(const v1::OrderState& s, order_state st,
                                   const v1::OrderEvent& e) {
  ORDO_ASSERT(st == order_state::none || e.order_id() == s.order_id(),
              "event for \"{}\" applied to \"{}\"", e.order_id(), s.order_id());
  ORDO_ASSERT(e.at_ms() >= s.updated_at_ms(), "event time {} before state time {}", e.at_ms(),
              s.updated_at_ms());
}

void apply_placed(v1::OrderState& s, const v1::OrderEvent& e) {
  const auto& p = e.order_placed();
  s.set_order_id(e.order_id());
  s.set_customer_id(p.customer_id());
  if (p.has_merchant_id()) s.set_merchant_id(p.merchant_id());
  s.mutable_lines()->CopyFrom(p.lines());
  s.set_currency(p.currency());
  s.mutable_shipping_address()->CopyFrom(p.shipping_address());
  s.set_total_minor(p.total_minor());
  s.set_placed_at_ms(e.at_ms());
  s.set_status(v1::ORDER_STATUS_PLACED);
}

void apply_rejected(v1::OrderState& s, const v1::OrderRejected& r) {
  s.set_status(v1::ORDER_STATUS_REJECTED);
  // The upcaster's rule again: the runtime's load path evolves events read back as they are.
  s.set_close_code(current_rejection_code(r.code()));
  s.set_close_reason(r.detail().empty() ? fmt::format("out of stock: {}", r.sku()) : r.detail());
}

void apply_authorized(v1::OrderState& s, const v1::PaymentAuthorized& a) {
  s.set_payment_id(a.payment_id());
  s.set_authorized_minor(a.amount().amount_minor());
  s.set_status(v1::ORDER_STATUS_PAYMENT_AUTHORIZED);
}

void apply_shipped(v1::OrderState& s, const v1::OrderShipped& sh) {
  s.set_carrier(sh.carrier());
  s.set_tracking_number(sh.tracking_number());
  s.set_status(v1::ORDER_STATUS_SHIPPED);
}

// A refund of the whole capture closes the order as refunded.
void apply_refund(v1::OrderState& s, const v1::RefundIssued& r) {
  s.set_refunded_minor(s.refunded_minor() + r.amount().amount_minor());
  if (s.refunded_minor() == s.captured_minor()) s.set_status(v1::ORDER_STATUS_REFUNDED);
}

void apply_restock_requested(v1::OrderState& s, const v1::RestockRequested& r) {
  // Capped at what was ordered: events written before the rule existed may ask for more
  // (that stock was already returned; the count stays truthful for later refunds).
  auto& done = *s.mutable_restocked();
  for (const auto& l : r.lines()) {
    const int64_t now = std::min(done[l.sku()] + l.quantity(), ordered_of(s, l.sku()));
    if (now > 0)
      done[l.sku()] = now;
    else
      done.erase(l.sku()); // not a line of this order
  }
}

} // namespace

v1::OrderState evolve(v1::OrderState s, const v1::OrderEvent& e) {
  using S = order_state;
  const auto kind = event_kind_of(e);
  ORDO_ASSERT(kind.has_value(), "order event kind {} unknown: upcast or hold before evolving",
              static_cast<int>(e.kind_case()));
  const auto st = state_of(s);
  expect_same_order_not_earlier(s, st, e);

  switch (*kind) {
  case order_event_kind::order_placed:
    expect(st, {S::none}, *kind);
    apply_placed(s, e);
    break;
  case order_event_kind::stock_reserved:
    expect(st, {S::placed}, *kind);
    s.set_status(v1::ORDER_STATUS_STOCK_RESERVED);
    break;
  case order_event_kind::order_rejected:
    expect(st, {S::placed}, *kind);
    apply_rejected(s, e.order_rejected());
    break;
  case order_event_kind::payment_authorized:
    expect(st, {S::stock_reserved}, *kind);
    apply_authorized(s, e.payment_authorized());
    break;
  case order_event_kind::payment_declined:
    expect(st, {S::stock_reserved}, *kind);
    s.set_status(v1::ORDER_STATUS_CANCELLED);
    s.set_close_reason(fmt::format("payment declined: {}", e.payment_declined().reason()));
    break;
  case order_event_kind::payment_timed_out:
    expect(st, {S::stock_reserved}, *kind);
    s.set_status(v1::ORDER_STATUS_CANCELLED);
    s.set_close_reason("payment timed out");
    break;
  case order_event_kind::fulfilment_started:
    expect(st, {S::payment_authorized}, *kind);
    s.set_status(v1::ORDER_STATUS_FULFILLING);
    break;
  case order_event_kind::order_shipped:
    expect(st, {S::fulfilling}, *kind);
    apply_shipped(s, e.order_shipped());
    break;
  case order_event_kind::payment_captured:
    expect(st, {S::shipped}, *kind);
    ORDO_ASSERT(s.captured_minor() == 0, "second capture on \"{}\"", s.order_id());
    s.set_captured_minor(e.payment_captured().amount().amount_minor());
    break;
  case order_event_kind::stock_commit_requested:
    expect(st, {S::shipped}, *kind);
    break;
  case order_event_kind::order_delivered:
    expect(st, {S::shipped}, *kind);
    s.set_status(v1::ORDER_STATUS_DELIVERED);
    break;
  case order_event_kind::order_cancelled:
    expect(st, {S::placed, S::stock_reserved, S::payment_authorized, S::fulfilling}, *kind);
    s.set_status(v1::ORDER_STATUS_CANCELLED);
    s.set_close_reason(fmt::format("cancelled by customer: {}", e.order_cancelled().reason()));
    break;
  case order_event_kind::stock_release_requested:
  case order_event_kind::payment_void_requested:
    // Compensations follow the transition that closed the order.
    expect(st, {S::rejected, S::cancelled}, *kind);
    break;
  case order_event_kind::refund_issued:
    expect(st, {S::delivered}, *kind);
    apply_refund(s, e.refund_issued());
    break;
  case order_event_kind::restock_requested:
    expect(st, {S::delivered, S::refunded}, *kind);
    apply_restock_requested(s, e.restock_requested());
    break;
  }
  s.set_updated_at_ms(e.at_ms());
  s.set_last_sequence(s.last_sequence() + 1);
  check_invariants(s);
  return s;
}

v1::OrderState replay(const std::vector<v1::OrderEvent>& events, v1::OrderState from) {
  for (const auto& e : events)
    from = evolve(std::move(from), e);
  return from;
}

void check_invariants(const v1::OrderState& s) {
  ORDO_ASSERT(0 <= s.refunded_minor() && s.refunded_minor() <= s.captured_minor(),
              "order \"{}\": refunded {} outside 0..captured {}", s.order_id(), s.refunded_minor(),
              s.captured_minor());
  ORDO_ASSERT(s.captured_minor() <= s.authorized_minor(),
              "order \"{}\": captured {} > authorized {}", s.order_id(), s.captured_minor(),
              s.authorized_minor());
  ORDO_ASSERT(s.authorized_minor() == 0 || s.authorized_minor() == s.total_minor(),
              "order \"{}\": authorized {} != total {}", s.order_id(), s.authorized_minor(),
              s.total_minor());
  for (const auto& [sku, qty] : s.restocked())
    ORDO_ASSERT(0 < qty && qty <= ordered_of(s, sku),
                "order \"{}\": {} units of sku \"{}\" restocked, {} ordered", s.order_id(), qty,
                sku, ordered_of(s, sku));
  ORDO_ASSERT(s.status() != v1::ORDER_STATUS_REFUNDED ||
                  (s.captured_minor() > 0 && s.refunded_minor() == s.captured_minor()),
              "order \"{}\": refunded status with refunded {} of captured {}", s.order_id(),
              s.refunded_minor(), s.captured_minor());
}

} // namespace ordo::domain
