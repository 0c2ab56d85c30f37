#pragma once
// Every bound the domain enforces, in one place. Validation messages quote these values;
// docs/domain.md has the same table. Changing a limit is a product decision: tighten only
// with a migration plan (old events may hold values the new limit would refuse — replay
// never re-validates, only decide() does).
#include <cstdint>

namespace ordo::domain::limits {

// Identifiers (order_id, customer_id, merchant_id, sku, payment_id): 1..64 bytes of
// [A-Za-z0-9._:-]. Printable, no spaces: they become storage keys and log fields.
inline constexpr std::size_t id_bytes_min = 1;
inline constexpr std::size_t id_bytes_max = 64;

// Order lines.
inline constexpr int64_t quantity_min = 1;
inline constexpr int64_t quantity_max = 10'000;
inline constexpr int lines_min = 1;
inline constexpr int lines_max = 100;

// Money, in minor units. 100 lines * 10,000 units * 10^9 = 10^15 < 2^63: order totals can
// never overflow int64.
inline constexpr int64_t unit_price_min_minor = 1;
inline constexpr int64_t unit_price_max_minor = 1'000'000'000;
inline constexpr int64_t refund_min_minor = 1;
inline constexpr std::size_t currency_bytes = 3; // ISO-4217: three uppercase letters
inline constexpr std::size_t country_bytes = 2;  // ISO-3166 alpha-2: two uppercase letters

// Free text (address fields, reasons): at most 256 bytes (UTF-8 is checked by protobuf).
inline constexpr std::size_t text_bytes_max = 256;
// Carrier name and tracking number: 1..64 bytes.
inline constexpr std::size_t short_text_bytes_max = 64;

// Inventory of one SKU.
inline constexpr int64_t stock_max = 1'000'000'000; // on_hand never exceeds this
// Commits a SKU remembers for idempotency (see InventoryState.committed_order): bounds the
// state and its snapshots; older repeats are answered by the runtime's idempotency records.
inline constexpr int committed_remembered_max = 4'096;
inline constexpr int64_t restock_quantity_max = 1'000'000;
inline constexpr int64_t adjust_delta_max = 1'000'000; // |delta| in 1..this

} // namespace ordo::domain::limits
