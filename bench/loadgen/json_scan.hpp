// Plain scans of the node's compact JSON answers for the few fields the load generator reads
// (order ids, an order's status and times, a SKU's stock and price) — not a JSON parser. A
// key is matched with its quotes and colon ("status":), which cannot occur inside a JSON
// string (a quote there is escaped), so a value never matches as a key. The first match wins:
// callers ask only for fields that occur once, at the top level or in a known object.
#pragma once

#include <cstdint>
#include <string_view>

namespace ordo::loadgen {

// The value of the first "order_id" string field, or empty; only ids of [A-Za-z0-9_-] up to
// 128 bytes (safe in a URL path unescaped). The node's command answers carry the order's own.
std::string_view find_order_id(std::string_view json);

// The raw text of the string field `key` ("key":"..."), without escapes resolved; empty when
// absent or not a string.
std::string_view json_string(std::string_view json, std::string_view key);

// An integer field, written as a number or (Protobuf's 64-bit rule) as a string of digits.
// False when absent or not an integer. Proto3 JSON omits zeros: callers treat absent as 0
// where the schema says so.
bool json_int(std::string_view json, std::string_view key, int64_t& out);

} // namespace ordo::loadgen
