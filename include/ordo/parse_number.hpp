#pragma once
// The one parser of whole numbers written as text: config values and `--name=value`
// overrides, HTTP query parameters, and the command-line options of the tools.
//
// Strict on purpose: decimal digits and nothing else — no sign, no spaces, no "0x", no
// trailing junk — so "-1" is never read as 2^64-1 (what strtoull does) and "10ms" never as 10.
// Header-only, C++17 and standard library only: `ordo-loadgen` (built as C++17, linked without
// the runtime) uses it as well as the node.

#include <cstdint>
#include <limits>
#include <string_view>

namespace ordo {

enum class number_error : uint8_t {
  none,         // parsed, and within the bounds asked for
  empty,        // no digits at all
  not_digits,   // a sign, a space, a letter, a misplaced separator, ...
  out_of_range, // digits, but the value is below `lo`, above `hi` or beyond 2^64-1
};

/// Whether '_' may group digits, as TOML writes numbers (1_000_000): only between two digits.
enum class digit_groups : uint8_t { none, underscore };

/// Reads all of `text` as a decimal number in [lo, hi] into `out`. On any error `out` is left
/// unchanged.
inline number_error parse_u64(std::string_view text, uint64_t& out, uint64_t lo = 0,
                              uint64_t hi = std::numeric_limits<uint64_t>::max(),
                              digit_groups groups = digit_groups::none) {
  if (text.empty()) return number_error::empty;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  // Shape first, so "99999999999999999999x" is junk rather than out of range.
  for (size_t i = 0; i < text.size(); ++i) {
    if (digit(text[i])) continue;
    const bool grouped = groups == digit_groups::underscore && text[i] == '_' && i > 0 &&
                         i + 1 < text.size() && digit(text[i - 1]) && digit(text[i + 1]);
    if (!grouped) return number_error::not_digits;
  }
  constexpr uint64_t max = std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  for (char c : text) {
    if (c == '_') continue;
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return number_error::out_of_range;
    v = v * 10 + d;
  }
  if (v < lo || v > hi) return number_error::out_of_range;
  out = v;
  return number_error::none;
}

/// `parse_u64` for a narrower unsigned type: the bounds are clamped to what T holds.
template <class T>
number_error parse_unsigned(std::string_view text, T& out, uint64_t lo = 0,
                            uint64_t hi = std::numeric_limits<T>::max()) {
  static_assert(std::numeric_limits<T>::is_integer && !std::numeric_limits<T>::is_signed);
  const uint64_t t_max = std::numeric_limits<T>::max();
  uint64_t v = 0;
  auto e = parse_u64(text, v, lo, hi < t_max ? hi : t_max);
  if (e == number_error::none) out = static_cast<T>(v);
  return e;
}

} // namespace ordo
