// The HTTP requests of docs/api.md the flows send, written whole (head and body) by appending
// to a caller's buffer, so a worker reuses one string per request and never allocates on the
// hot path once it has grown. The mix (workload.cpp) writes its own, with the same helpers.
#pragma once

#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "options.hpp"

namespace ordo::loadgen {

template <typename... Args>
void append(std::string& out, fmt::format_string<Args...> f, Args&&... args) {
  fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
}

// A SKU always has the same price, as in a real catalogue: 1.00 .. 99.99 (EUR). The saga flow
// makes it the SKU's price of record before the run.
inline uint64_t price_minor(unsigned sku) {
  return 100 + (uint64_t{sku} * 7919) % 9900;
}

struct order_line {
  unsigned sku = 0;
  unsigned quantity = 0;
};

// "Host: ...\r\n" and, with --key, "Authorization: Bearer ...\r\n": the lines every request
// carries.
std::string common_head(const options& opts);

// POST `target` with a JSON body; `idem_key` may be empty (no Idempotency-Key header),
// `extra_head` is zero or more complete header lines.
void append_post(std::string& out, std::string_view target, std::string_view head,
                 std::string_view idem_key, std::string_view body,
                 std::string_view extra_head = {});
void append_get(std::string& out, std::string_view target, std::string_view head);

// A PlaceOrder in EUR at the SKUs' prices (price_minor), to a fixed address.
void append_place_body(std::string& body, unsigned customer, unsigned merchant,
                       const order_line* lines, size_t line_count);
// `--lines` order lines on distinct SKUs drawn from `--skus` (options checks --lines <= --skus
// and <= 100), 1..3 units each; returns how many were written. One reservation per SKU.
size_t draw_distinct_lines(std::mt19937_64& rng, const options& opts, order_line (&lines)[100]);
// The order total of those lines, as the node computes it.
uint64_t total_minor(const order_line* lines, size_t line_count);

// "Ordo-Signature: t=...,v1=...\r\n" for a webhook body sent now, or empty without
// --webhook-secret.
std::string webhook_signature_line(const options& opts, std::string_view body);

} // namespace ordo::loadgen
