#pragma once
// The order state machine as data. `order_table(state, command)` is the single source of
// truth for which command is allowed where: decide() consults it before doing anything
// else, tests/domain walks every cell, and docs/domain.md draws it.
//
// A cell is either accepted (with the *primary* event kind the command produces; decide()
// may append compensation events after it) or a rejection code. The table describes a
// valid command; field validation and data checks (amounts) come on top.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ordo/v1/common.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo::domain {

enum class order_state : uint8_t {
  none, // not placed yet
  placed,
  stock_reserved,
  payment_authorized,
  fulfilling,
  shipped,
  delivered,
  rejected,  // terminal
  cancelled, // terminal
  refunded,  // terminal (fully refunded)
};
inline constexpr std::size_t order_state_count = 10;

enum class order_command_kind : uint8_t {
  place_order,
  confirm_stock_reserved,
  reject_out_of_stock,
  payment_authorized,
  payment_declined,
  payment_timed_out,
  start_fulfilment,
  mark_shipped,
  mark_delivered,
  cancel_order,
  refund_order,
};
inline constexpr std::size_t order_command_kind_count = 11;

enum class order_event_kind : uint8_t {
  order_placed,
  stock_reserved,
  order_rejected,
  payment_authorized,
  payment_declined,
  payment_timed_out,
  fulfilment_started,
  order_shipped,
  payment_captured,
  stock_commit_requested,
  order_delivered,
  order_cancelled,
  stock_release_requested,
  payment_void_requested,
  refund_issued,
  restock_requested,
};
inline constexpr std::size_t order_event_kind_count = 16;

struct order_transition {
  bool accepted = false;
  order_event_kind event = order_event_kind::order_placed;      // if accepted
  v1::RejectionCode rejection = v1::REJECTION_CODE_UNSPECIFIED; // if not accepted
};

/// The outcome of a valid `command` in `state`.
const order_transition& order_table(order_state state, order_command_kind command);

bool is_terminal(order_state state);

order_state state_of(const v1::OrderState& state);
v1::OrderStatus to_status(order_state state);
/// nullopt if the command's oneof is not set (or is a case this build does not know).
std::optional<order_command_kind> command_kind_of(const v1::OrderCommand& command);
/// nullopt if the event's oneof is not set (or is a case this build does not know).
std::optional<order_event_kind> event_kind_of(const v1::OrderEvent& event);

std::string_view name(order_state state);
std::string_view name(order_command_kind kind);
std::string_view name(order_event_kind kind);

} // namespace ordo::domain
