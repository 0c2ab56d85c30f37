// The one whole-number parser (include/ordo/parse_number.hpp) that config values, query
// parameters, ordo-demo, ordoctl and ordo-loadgen share: its edge cases.
#include <cstdint>
#include <limits>
#include <string>

#include <doctest/doctest.h>

#include "ordo/parse_number.hpp"

using ordo::digit_groups;
using ordo::number_error;
using ordo::parse_u64;
using ordo::parse_unsigned;

namespace {
constexpr uint64_t u64_max = std::numeric_limits<uint64_t>::max();

// The error for `text` (bounds lo..hi), and that a failure leaves `out` alone.
number_error error_of(const std::string& text, uint64_t lo = 0, uint64_t hi = u64_max,
                      digit_groups groups = digit_groups::none) {
  uint64_t out = 4242;
  auto e = parse_u64(text, out, lo, hi, groups);
  if (e != number_error::none) CHECK_MESSAGE(out == 4242, text);
  return e;
}
} // namespace

TEST_SUITE("number_parsing") {
  TEST_CASE("digits and nothing else") {
    uint64_t v = 0;
    CHECK(parse_u64("0", v) == number_error::none);
    CHECK(v == 0);
    CHECK(parse_u64("00017", v) == number_error::none);
    CHECK(v == 17);
    CHECK(parse_u64("18446744073709551615", v) == number_error::none);
    CHECK(v == u64_max);
    CHECK(error_of("") == number_error::empty);
    for (const char* junk : {"-1", "+1", " 1", "1 ", "1x", "x1", "0x10", "1.0", "1e3", "١",
                             "1_000", "-0", "\t7", "7\n"})
      CHECK_MESSAGE(error_of(junk) == number_error::not_digits, junk);
    CHECK(error_of(std::string{"1\0" "2", 3}) == number_error::not_digits);
  }

  TEST_CASE("overflow and bounds") {
    CHECK(error_of("18446744073709551616") == number_error::out_of_range); // 2^64
    CHECK(error_of("99999999999999999999") == number_error::out_of_range);
    CHECK(error_of("1000000000000000000000000000000") == number_error::out_of_range);
    // Junk wins over size: the text is not a number at all.
    CHECK(error_of("99999999999999999999x") == number_error::not_digits);
    uint64_t v = 0;
    CHECK(parse_u64("5", v, 5, 5) == number_error::none);
    CHECK(error_of("4", 5, 10) == number_error::out_of_range);
    CHECK(error_of("11", 5, 10) == number_error::out_of_range);
  }

  TEST_CASE("underscores group digits only where TOML allows them") {
    uint64_t v = 0;
    CHECK(parse_u64("1_000_000", v, 0, u64_max, digit_groups::underscore) == number_error::none);
    CHECK(v == 1'000'000);
    CHECK(parse_u64("18_446_744_073_709_551_615", v, 0, u64_max, digit_groups::underscore) ==
          number_error::none);
    CHECK(v == u64_max);
    for (const char* bad : {"_", "_1", "1_", "1__0", "_1_", "-1_0"})
      CHECK_MESSAGE(error_of(bad, 0, u64_max, digit_groups::underscore) ==
                        number_error::not_digits,
                    bad);
    CHECK(error_of("18_446_744_073_709_551_616", 0, u64_max, digit_groups::underscore) ==
          number_error::out_of_range);
  }

  TEST_CASE("narrower types: the bounds shrink to what the type holds") {
    uint16_t port = 7;
    CHECK(parse_unsigned("65535", port) == number_error::none);
    CHECK(port == 65535);
    CHECK(parse_unsigned("65536", port) == number_error::out_of_range);
    CHECK(parse_unsigned("70000", port, 1, 100'000) == number_error::out_of_range);
    CHECK(port == 65535);
    unsigned u = 0;
    CHECK(parse_unsigned("4294967296", u) == number_error::out_of_range);
    CHECK(parse_unsigned("0", u, 1, 10) == number_error::out_of_range);
    CHECK(parse_unsigned("-5", u) == number_error::not_digits);
  }
}
