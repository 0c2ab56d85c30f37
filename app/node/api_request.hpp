#pragma once
// Reading a request: path segments, query parameters and the idempotency key —
// each checked against its limit, so input over a limit is a 4xx naming that limit before
// anything reaches the runtime (docs/api.md, "Limits").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/node/auth.hpp"
#include "app/node/http_types.hpp"

namespace ordo::node {

/// An Idempotency-Key header: 1..this many bytes of visible ASCII (0x21..0x7E).
inline constexpr size_t idempotency_key_bytes_max = 128;

/// "/v1/orders/X" → {"v1", "orders", "X"} (empty segments dropped).
std::vector<std::string_view> split_path(std::string_view path);

/// ?a=1&b=2 → the value of `name` ("" when absent).
std::string_view query_param(std::string_view query, std::string_view name);

/// A 400 answer when the request's Idempotency-Key breaks its limits; nullopt when it is
/// absent or fine.
std::optional<http_response> check_idempotency_key(const http_request& r);

/// The key a command is stored under: the caller's Idempotency-Key scoped to the caller (one
/// client's key can never return another client's answer), or a fresh unique key.
std::string command_key(const http_request& r, const principal& who);

/// A 400 answer naming the limit when `sku` is not a valid SKU id; nullopt when it is.
std::optional<http_response> check_sku(std::string_view sku);

} // namespace ordo::node
