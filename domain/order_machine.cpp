// The transition table and the enum <-> proto mappings.
#include "domain/order_machine.hpp"

#include "domain/assert.hpp"

namespace ordo::domain {

namespace {

using E = order_event_kind;
constexpr order_transition ok(E e) {
  return {true, e, v1::REJECTION_CODE_UNSPECIFIED};
}
constexpr order_transition no(v1::RejectionCode c) {
  return {false, E::order_placed, c};
}

constexpr auto NF = no(v1::REJECTION_CODE_NOT_FOUND);
constexpr auto AE = no(v1::REJECTION_CODE_ALREADY_EXISTS);
constexpr auto IT = no(v1::REJECTION_CODE_INVALID_TRANSITION);
constexpr auto CL = no(v1::REJECTION_CODE_ORDER_CLOSED);
constexpr auto TL = no(v1::REJECTION_CODE_TOO_LATE_TO_CANCEL);

using row = std::array<order_transition, order_command_kind_count>;

// Columns, in order_command_kind order:
//   place, stock_ok, out_of_stock, pay_ok, pay_declined, pay_timeout,
//   start_fulfilment, ship, deliver, cancel, refund
constexpr std::array<row, order_state_count> table = {{
    /* none */
    {ok(E::order_placed), NF, NF, NF, NF, NF, NF, NF, NF, NF, NF},
    /* placed */
    {AE, ok(E::stock_reserved), ok(E::order_rejected), IT, IT, IT, IT, IT, IT,
     ok(E::order_cancelled), IT},
    /* stock_reserved */
    {AE, IT, IT, ok(E::payment_authorized), ok(E::payment_declined), ok(E::payment_timed_out), IT,
     IT, IT, ok(E::order_cancelled), IT},
    /* payment_authorized */
    {AE, IT, IT, IT, IT, IT, ok(E::fulfilment_started), IT, IT, ok(E::order_cancelled), IT},
    /* fulfilling */
    {AE, IT, IT, IT, IT, IT, IT, ok(E::order_shipped), IT, ok(E::order_cancelled), IT},
    /* shipped */
    {AE, IT, IT, IT, IT, IT, IT, IT, ok(E::order_delivered), TL, IT},
    /* delivered */
    {AE, IT, IT, IT, IT, IT, IT, IT, IT, TL, ok(E::refund_issued)},
    /* rejected */
    {CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL},
    /* cancelled */
    {CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL},
    /* refunded */
    {CL, CL, CL, CL, CL, CL, CL, CL, CL, CL, CL},
}};

// A short row would silently fill with default cells; refuse that at compile time.
constexpr bool every_cell_decided() {
  for (const auto& r : table)
    for (const auto& cell : r)
      if (!cell.accepted && cell.rejection == v1::REJECTION_CODE_UNSPECIFIED) return false;
  return true;
}
static_assert(every_cell_decided(), "order_table has a cell with neither event nor rejection");

} // namespace

const order_transition& order_table(order_state state, order_command_kind command) {
  const auto s = static_cast<std::size_t>(state);
  const auto c = static_cast<std::size_t>(command);
  ORDO_ASSERT(s < order_state_count && c < order_command_kind_count, "cell ({}, {})", s, c);
  return table[s][c];
}

bool is_terminal(order_state state) {
  return state == order_state::rejected || state == order_state::cancelled ||
         state == order_state::refunded;
}

order_state state_of(const v1::OrderState& state) {
  switch (state.status()) {
  case v1::ORDER_STATUS_UNSPECIFIED:
    return order_state::none;
  case v1::ORDER_STATUS_PLACED:
    return order_state::placed;
  case v1::ORDER_STATUS_STOCK_RESERVED:
    return order_state::stock_reserved;
  case v1::ORDER_STATUS_PAYMENT_AUTHORIZED:
    return order_state::payment_authorized;
  case v1::ORDER_STATUS_FULFILLING:
    return order_state::fulfilling;
  case v1::ORDER_STATUS_SHIPPED:
    return order_state::shipped;
  case v1::ORDER_STATUS_DELIVERED:
    return order_state::delivered;
  case v1::ORDER_STATUS_REJECTED:
    return order_state::rejected;
  case v1::ORDER_STATUS_CANCELLED:
    return order_state::cancelled;
  case v1::ORDER_STATUS_REFUNDED:
    return order_state::refunded;
  default:
    break;
  }
  // A status from a newer schema: the caller must not have evolved into it (see README).
  ORDO_ASSERT(false, "unknown order status {}", static_cast<int>(state.status()));
  return order_state::none;
}

v1::OrderStatus to_status(order_state state) {
  // order_state and OrderStatus share their order; the static_asserts keep it that way.
  static_assert(v1::ORDER_STATUS_REFUNDED == static_cast<int>(order_state::refunded));
  static_assert(v1::ORDER_STATUS_PLACED == static_cast<int>(order_state::placed));
  return static_cast<v1::OrderStatus>(static_cast<int>(state));
}

std::optional<order_command_kind> command_kind_of(const v1::OrderCommand& c) {
  using K = v1::OrderCommand;
  switch (c.kind_case()) {
  case K::kPlaceOrder:
    return order_command_kind::place_order;
  case K::kConfirmStockReserved:
    return order_command_kind::confirm_stock_reserved;
  case K::kRejectOutOfStock:
    return order_command_kind::reject_out_of_stock;
  case K::kPaymentAuthorized:
    return order_command_kind::payment_authorized;
  case K::kPaymentDeclined:
    return order_command_kind::payment_declined;
  case K::kPaymentTimedOut:
    return order_command_kind::payment_timed_out;
  case K::kStartFulfilment:
    return order_command_kind::start_fulfilment;
  case K::kMarkShipped:
    return order_command_kind::mark_shipped;
  case K::kMarkDelivered:
    return order_command_kind::mark_delivered;
  case K::kCancelOrder:
    return order_command_kind::cancel_order;
  case K::kRefundOrder:
    return order_command_kind::refund_order;
  case K::KIND_NOT_SET:
    break;
  }
  return std::nullopt;
}

std::optional<order_event_kind> event_kind_of(const v1::OrderEvent& e) {
  using K = v1::OrderEvent;
  // Oneof field numbers 10.. map 1:1 onto order_event_kind, in declaration order.
  static_assert(K::kRestockRequested - K::kOrderPlaced + 1 == order_event_kind_count);
  if (e.kind_case() < K::kOrderPlaced || e.kind_case() > K::kRestockRequested) return std::nullopt;
  return static_cast<order_event_kind>(e.kind_case() - K::kOrderPlaced);
}

std::string_view name(order_state s) {
  constexpr std::array<std::string_view, order_state_count> names = {
      "none",    "placed",    "stock_reserved", "payment_authorized", "fulfilling",
      "shipped", "delivered", "rejected",       "cancelled",          "refunded"};
  return names.at(static_cast<std::size_t>(s));
}

std::string_view name(order_command_kind k) {
  constexpr std::array<std::string_view, order_command_kind_count> names = {
      "place_order",      "confirm_stock_reserved", "reject_out_of_stock", "payment_authorized",
      "payment_declined", "payment_timed_out",      "start_fulfilment",    "mark_shipped",
      "mark_delivered",   "cancel_order",           "refund_order"};
  return names.at(static_cast<std::size_t>(k));
}

std::string_view name(order_event_kind k) {
  constexpr std::array<std::string_view, order_event_kind_count> names = {"order_placed",
                                                                          "stock_reserved",
                                                                          "order_rejected",
                                                                          "payment_authorized",
                                                                          "payment_declined",
                                                                          "payment_timed_out",
                                                                          "fulfilment_started",
                                                                          "order_shipped",
                                                                          "payment_captured",
                                                                          "stock_commit_requested",
                                                                          "order_delivered",
                                                                          "order_cancelled",
                                                                          "stock_release_requested",
                                                                          "payment_void_requested",
                                                                          "refund_issued",
                                                                          "restock_requested"};
  return names.at(static_cast<std::size_t>(k));
}

} // namespace ordo::domain
