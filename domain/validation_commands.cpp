// Command validators: one function per command, composed from the field checks.
#include "domain/validation.hpp"

#include <cstdint>

#include <fmt/core.h>

#include "domain/decision.hpp"
#include "domain/limits.hpp"

namespace ordo::domain {

namespace {

field_error invalid(std::string message) {
  return make_rejection(v1::REJECTION_CODE_INVALID_ARGUMENT, std::move(message));
}

field_error check_place(const v1::PlaceOrder& c) {
  if (auto e = check_id("place_order.customer_id", c.customer_id())) return e;
  if (c.has_merchant_id())
    if (auto e = check_id("place_order.merchant_id", c.merchant_id())) return e;
  if (auto e = check_currency("place_order.currency", c.currency())) return e;
  if (c.lines_size() < limits::lines_min || c.lines_size() > limits::lines_max)
    return invalid(fmt::format("place_order.lines: count {} is outside {}..{}", c.lines_size(),
                               limits::lines_min, limits::lines_max));
  for (int i = 0; i < c.lines_size(); ++i) {
    const auto field = fmt::format("place_order.lines[{}]", i);
    if (auto e = check_line(field, c.lines(i))) return e;
    // One currency per order: totals and refunds are single-currency sums.
    if (c.lines(i).unit_price().currency() != c.currency())
      return invalid(fmt::format("{}.unit_price.currency: \"{}\" differs from order currency "
                                 "\"{}\"",
                                 field, c.lines(i).unit_price().currency(), c.currency()));
    // One price per SKU: inventory checks one reservation per (sku, order) against the
    // SKU's price of record.
    for (int j = 0; j < i; ++j)
      if (c.lines(j).sku() == c.lines(i).sku() &&
          c.lines(j).unit_price().amount_minor() != c.lines(i).unit_price().amount_minor())
        return invalid(fmt::format("{}.unit_price: {} differs from lines[{}] of the same sku "
                                   "\"{}\" ({})",
                                   field, c.lines(i).unit_price().amount_minor(), j,
                                   c.lines(i).sku(), c.lines(j).unit_price().amount_minor()));
  }
  return check_address("place_order.shipping_address", c.shipping_address());
}

field_error check_refund(const v1::RefundOrder& c) {
  // Upper bound is state-dependent (captured - refunded) and checked in decide().
  if (auto e = check_money("refund_order.amount", c.amount(), limits::refund_min_minor, INT64_MAX))
    return e;
  if (auto e = check_text("refund_order.reason", c.reason(), limits::text_bytes_max, false))
    return e;
  if (!c.restock() && c.restock_lines_size() > 0)
    return invalid("refund_order.restock_lines: must be empty when restock is false");
  if (c.restock_lines_size() > limits::lines_max)
    return invalid(fmt::format("refund_order.restock_lines: count {} is outside 0..{}",
                               c.restock_lines_size(), limits::lines_max));
  for (int i = 0; i < c.restock_lines_size(); ++i) {
    const auto field = fmt::format("refund_order.restock_lines[{}]", i);
    if (auto e = check_id(field + ".sku", c.restock_lines(i).sku())) return e;
    if (auto e = check_quantity(field + ".quantity", c.restock_lines(i).quantity())) return e;
  }
  return std::nullopt;
}

} // namespace

field_error validate(const v1::OrderCommand& c) {
  using K = v1::OrderCommand;
  if (auto e = check_id("order_id", c.order_id())) return e;
  switch (c.kind_case()) {
  case K::kPlaceOrder:
    return check_place(c.place_order());
  case K::kRejectOutOfStock:
    if (auto e = check_id("reject_out_of_stock.sku", c.reject_out_of_stock().sku())) return e;
    return check_text("reject_out_of_stock.detail", c.reject_out_of_stock().detail(),
                      limits::text_bytes_max, false);
  case K::kPaymentAuthorized:
    if (auto e = check_id("payment_authorized.payment_id", c.payment_authorized().payment_id()))
      return e;
    // Upper bound: at most the largest possible order total.
    return check_money("payment_authorized.amount", c.payment_authorized().amount(), 1,
                       limits::unit_price_max_minor * limits::quantity_max * limits::lines_max);
  case K::kPaymentDeclined:
    return check_text("payment_declined.reason", c.payment_declined().reason(),
                      limits::text_bytes_max, false);
  case K::kMarkShipped:
    if (auto e = check_text("mark_shipped.carrier", c.mark_shipped().carrier(),
                            limits::short_text_bytes_max, true))
      return e;
    return check_text("mark_shipped.tracking_number", c.mark_shipped().tracking_number(),
                      limits::short_text_bytes_max, true);
  case K::kCancelOrder:
    return check_text("cancel_order.reason", c.cancel_order().reason(), limits::text_bytes_max,
                      false);
  case K::kRefundOrder:
    return check_refund(c.refund_order());
  case K::kConfirmStockReserved:
  case K::kPaymentTimedOut:
  case K::kStartFulfilment:
  case K::kMarkDelivered:
  case K::KIND_NOT_SET:
    return std::nullopt; // no fields; an unset kind is refused by decide() as UNKNOWN_COMMAND
  }
  return std::nullopt;
}

field_error validate(const v1::InventoryCommand& c) {
  using K = v1::InventoryCommand;
  if (auto e = check_id("sku", c.sku())) return e;
  if (!c.acting_merchant().empty())
    if (auto e = check_id("acting_merchant", c.acting_merchant())) return e;
  switch (c.kind_case()) {
  case K::kReserve:
    if (auto e = check_id("reserve.order_id", c.reserve().order_id())) return e;
    if (auto e = check_quantity("reserve.quantity", c.reserve().quantity())) return e;
    return check_money("reserve.unit_price", c.reserve().unit_price(),
                       limits::unit_price_min_minor, limits::unit_price_max_minor);
  case K::kSetPrice:
    return check_money("set_price.price", c.set_price().price(), limits::unit_price_min_minor,
                       limits::unit_price_max_minor);
  case K::kAssignOwner:
    return check_id("assign_owner.merchant_id", c.assign_owner().merchant_id());
  case K::kRelease:
    return check_id("release.order_id", c.release().order_id());
  case K::kCommit:
    return check_id("commit.order_id", c.commit().order_id());
  case K::kRestock:
    if (c.restock().quantity() < 1 || c.restock().quantity() > limits::restock_quantity_max)
      return invalid(fmt::format("restock.quantity: {} is outside 1..{}", c.restock().quantity(),
                                 limits::restock_quantity_max));
    return std::nullopt;
  case K::kAdjust: {
    const int64_t d = c.adjust().delta();
    if (d == 0 || d < -limits::adjust_delta_max || d > limits::adjust_delta_max)
      return invalid(fmt::format("adjust.delta: {} is outside -{}..-1 or 1..{}", d,
                                 limits::adjust_delta_max, limits::adjust_delta_max));
    return check_text("adjust.reason", c.adjust().reason(), limits::text_bytes_max, true);
  }
  case K::KIND_NOT_SET:
    return std::nullopt;
  }
  return std::nullopt;
}

} // namespace ordo::domain
