#pragma once
// Stateless field validation: every command field against domain/limits.hpp. Runs before any
// state is consulted; a failure is REJECTION_CODE_INVALID_ARGUMENT with a message that names
// the field path (e.g. "place_order.lines[2].quantity") and the violated limit.
// State-dependent checks (amount equals the order total, refund within captured) live in
// decide(), because they need the state.
#include <optional>
#include <string_view>

#include "ordo/v1/common.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo::domain {

using field_error = std::optional<v1::Rejection>; // nullopt: the field is valid

// ---- entry points ----
field_error validate(const v1::OrderCommand& command);
field_error validate(const v1::InventoryCommand& command);

// ---- building blocks (also used by tests to name expectations) ----
field_error check_id(std::string_view field, std::string_view value);
field_error check_quantity(std::string_view field, int64_t quantity);
field_error check_currency(std::string_view field, std::string_view currency);
/// Amount in [min_minor, max_minor] and a valid currency.
field_error check_money(std::string_view field, const v1::Money& money, int64_t min_minor,
                        int64_t max_minor);
/// At most max_bytes; if required, at least one byte.
field_error check_text(std::string_view field, std::string_view value, std::size_t max_bytes,
                       bool required);
field_error check_line(std::string_view field, const v1::OrderLine& line);
field_error check_address(std::string_view field, const v1::Address& address);

} // namespace ordo::domain
