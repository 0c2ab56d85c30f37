// decide() for orders: unknown kind -> validation -> entity check -> table -> per-command
// data checks and events.
#include <algorithm>
#include <map>
#include <string>

#include <fmt/core.h>

#include "domain/assert.hpp"
#include "domain/order.hpp"
#include "domain/order_machine.hpp"
#include "domain/upcast.hpp"
#include "domain/validation.hpp"

namespace ordo::domain {

namespace {

// Appends events that share the order id and the (monotone) timestamp.
struct emitter {
  std::string order_id;
  int64_t at_ms;
  order_decision out;

  v1::OrderEvent& add() {
    auto& e = out.events.emplace_back();
    e.set_order_id(order_id);
    e.set_at_ms(at_ms);
    return e;
  }
  void release_stock(const v1::OrderState& s) {
    add().mutable_stock_release_requested()->mutable_lines()->CopyFrom(s.lines());
  }
};

int64_t restocked_of(const v1::OrderState& s, const std::string& sku) {
  auto it = s.restocked().find(sku);
  return it == s.restocked().end() ? 0 : it->second;
}

order_decision reject(v1::RejectionCode code, std::string message) {
  return rejected<v1::OrderEvent>(code, std::move(message));
}

void place(emitter& em, const v1::PlaceOrder& c) {
  auto* e = em.add().mutable_order_placed();
  e->set_customer_id(c.customer_id());
  if (c.has_merchant_id()) e->set_merchant_id(c.merchant_id());
  e->mutable_lines()->CopyFrom(c.lines());
  e->set_currency(c.currency());
  e->mutable_shipping_address()->CopyFrom(c.shipping_address());
  int64_t total = 0; // bounded by limits: cannot overflow (see limits.hpp)
  for (const auto& l : c.lines())
    total += l.quantity() * l.unit_price().amount_minor();
  e->set_total_minor(total);
}

void reject_stock(emitter& em, const v1::OrderState& s, const v1::RejectOutOfStock& c) {
  auto* e = em.add().mutable_order_rejected();
  e->set_sku(c.sku());
  e->set_code(current_rejection_code(c.code())); // an older sender's command has no code
  e->set_detail(c.detail());
  em.release_stock(s); // some lines may have been reserved before one failed
}

std::optional<v1::Rejection> authorize(emitter& em, const v1::OrderState& s,
                                       const v1::ConfirmPaymentAuthorized& c) {
  // We authorize exactly the order total; anything else is a gateway/runtime mismatch.
  if (c.amount().currency() != s.currency() || c.amount().amount_minor() != s.total_minor())
    return make_rejection(v1::REJECTION_CODE_AMOUNT_MISMATCH,
                          fmt::format("payment_authorized.amount: {} {} differs from order "
                                      "total {} {}",
                                      c.amount().amount_minor(), c.amount().currency(),
                                      s.total_minor(), s.currency()));
  auto* e = em.add().mutable_payment_authorized();
  e->set_payment_id(c.payment_id());
  e->mutable_amount()->CopyFrom(c.amount());
  if (c.start_fulfilment()) {
    e->set_fulfilment_started(true);
    em.add().mutable_fulfilment_started();
  }
  return std::nullopt;
}

void ship(emitter& em, const v1::OrderState& s, const v1::MarkShipped& c) {
  auto* e = em.add().mutable_order_shipped();
  e->set_carrier(c.carrier());
  e->set_tracking_number(c.tracking_number());
  // Capture happens at shipment: the customer is charged when the goods leave.
  auto* cap = em.add().mutable_payment_captured();
  cap->set_payment_id(s.payment_id());
  cap->mutable_amount()->set_amount_minor(s.authorized_minor());
  cap->mutable_amount()->set_currency(s.currency());
  em.add().mutable_stock_commit_requested()->mutable_lines()->CopyFrom(s.lines());
}

void cancel(emitter& em, const v1::OrderState& s, const v1::CancelOrder& c) {
  const auto st = state_of(s);
  em.add().mutable_order_cancelled()->set_reason(c.reason());
  // Release even from `placed`: a reservation may be in flight; release is idempotent.
  em.release_stock(s);
  if (st == order_state::stock_reserved) {
    // Authorization was requested and may still succeed: void whatever arrives.
    em.add().mutable_payment_void_requested();
  } else if (st == order_state::payment_authorized || st == order_state::fulfilling) {
    em.add().mutable_payment_void_requested()->set_payment_id(s.payment_id());
  }
}

std::optional<v1::Rejection> refund(emitter& em, const v1::OrderState& s,
                                    const v1::RefundOrder& c) {
  const int64_t refundable = s.captured_minor() - s.refunded_minor();
  if (c.amount().currency() != s.currency())
    return make_rejection(v1::REJECTION_CODE_AMOUNT_MISMATCH,
                          fmt::format("refund_order.amount.currency: \"{}\" differs from order "
                                      "currency \"{}\"",
                                      c.amount().currency(), s.currency()));
  if (c.amount().amount_minor() > refundable)
    return make_rejection(v1::REJECTION_CODE_REFUND_EXCEEDS_CAPTURED,
                          fmt::format("refund_order.amount: {} exceeds refundable {} (captured "
                                      "{} - refunded {})",
                                      c.amount().amount_minor(), refundable, s.captured_minor(),
                                      s.refunded_minor()));
  // Stock returned by refunds, over all refunds, never exceeds what the order took.
  std::map<std::string, int64_t> returnable;
  for (const auto& l : s.lines())
    returnable[l.sku()] += l.quantity();
  for (const auto& [sku, qty] : s.restocked())
    returnable[sku] -= qty;
  std::map<std::string, int64_t> returned;
  for (int i = 0; i < c.restock_lines_size(); ++i) {
    const auto& l = c.restock_lines(i);
    returned[l.sku()] += l.quantity();
    const int64_t left = returnable[l.sku()]; // absent sku: 0
    if (returned[l.sku()] > left)
      return make_rejection(v1::REJECTION_CODE_RESTOCK_EXCEEDS_RETURNABLE,
                            fmt::format("refund_order.restock_lines[{}]: {} units of sku \"{}\" "
                                        "exceed the {} still returnable (ordered {}, already "
                                        "restocked {})",
                                        i, returned[l.sku()], l.sku(), left,
                                        left + restocked_of(s, l.sku()),
                                        restocked_of(s, l.sku())));
  }
  auto* e = em.add().mutable_refund_issued();
  e->mutable_amount()->CopyFrom(c.amount());
  e->set_reason(c.reason());
  if (!c.restock()) return std::nullopt;
  // No lines given: whatever is still returnable comes back (possibly nothing).
  v1::RestockRequested lines;
  if (c.restock_lines_size() > 0)
    lines.mutable_lines()->CopyFrom(c.restock_lines());
  else
    for (const auto& [sku, qty] : returnable)
      if (qty > 0) {
        auto* l = lines.add_lines();
        l->set_sku(sku);
        l->set_quantity(qty);
      }
  if (lines.lines_size() > 0) *em.add().mutable_restock_requested() = std::move(lines);
  return std::nullopt;
}

} // namespace

order_decision decide(const v1::OrderState& s, const v1::OrderCommand& c, int64_t now_ms) {
  const auto kind = command_kind_of(c);
  if (!kind)
    return reject(v1::REJECTION_CODE_UNKNOWN_COMMAND,
                  fmt::format("order command kind {} is not set or unknown to this node",
                              static_cast<int>(c.kind_case())));
  if (auto e = validate(c)) return rejected<v1::OrderEvent>(std::move(*e));
  const auto st = state_of(s);
  if (st != order_state::none && c.order_id() != s.order_id())
    return reject(v1::REJECTION_CODE_WRONG_ENTITY,
                  fmt::format("order_id: \"{}\" sent to order \"{}\"", c.order_id(), s.order_id()));
  const auto& cell = order_table(st, *kind);
  if (!cell.accepted)
    return reject(cell.rejection, fmt::format("{} is not allowed in state {} (order \"{}\")",
                                              name(*kind), name(st), c.order_id()));

  emitter em{c.order_id(), std::max(now_ms, s.updated_at_ms()), {}};
  std::optional<v1::Rejection> data_error;
  switch (*kind) {
  case order_command_kind::place_order:
    place(em, c.place_order());
    break;
  case order_command_kind::confirm_stock_reserved:
    em.add().mutable_stock_reserved();
    break;
  case order_command_kind::reject_out_of_stock:
    reject_stock(em, s, c.reject_out_of_stock());
    break;
  case order_command_kind::payment_authorized:
    data_error = authorize(em, s, c.payment_authorized());
    break;
  case order_command_kind::payment_declined:
    em.add().mutable_payment_declined()->set_reason(c.payment_declined().reason());
    em.release_stock(s);
    break;
  case order_command_kind::payment_timed_out:
    em.add().mutable_payment_timed_out();
    em.release_stock(s);
    em.add().mutable_payment_void_requested(); // a late authorization must not hold funds
    break;
  case order_command_kind::start_fulfilment:
    em.add().mutable_fulfilment_started();
    break;
  case order_command_kind::mark_shipped:
    ship(em, s, c.mark_shipped());
    break;
  case order_command_kind::mark_delivered:
    em.add().mutable_order_delivered();
    break;
  case order_command_kind::cancel_order:
    cancel(em, s, c.cancel_order());
    break;
  case order_command_kind::refund_order:
    data_error = refund(em, s, c.refund_order());
    break;
  }
  if (data_error) return rejected<v1::OrderEvent>(std::move(*data_error));

  ORDO_ASSERT(!em.out.events.empty() && event_kind_of(em.out.events.front()) == cell.event,
              "decide({}, {}) must start with {}", name(st), name(*kind), name(cell.event));
  return std::move(em.out);
}

} // namespace ordo::domain
