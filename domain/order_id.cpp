#include "domain/order_id.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>

#include <fmt/core.h>

namespace ordo::domain {

namespace {

constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Reverse table; -1 marks characters that are not Crockford base32 digits.
constexpr std::array<int8_t, 256> make_decode_table() {
  std::array<int8_t, 256> t{};
  for (auto& v : t)
    v = -1;
  for (size_t i = 0; i < alphabet.size(); ++i) {
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    char lower = static_cast<char>(alphabet[i] | 0x20);
    if (alphabet[i] >= 'A') t[static_cast<unsigned char>(lower)] = static_cast<int8_t>(i);
  }
  return t;
}
constexpr auto decode_table = make_decode_table();

[[noreturn]] void fail(const char* what) {
  fmt::print(stderr, "order_id invariant violated: {}\n", what);
  std::abort();
}

} // namespace

order_id make_order_id(uint64_t time_ms, uint16_t shard, uint16_t node, uint64_t counter) {
  if (time_ms > order_id::time_ms_max) fail("time_ms does not fit 48 bits");
  if (counter > order_id::counter_max) fail("counter does not fit 48 bits");
  return order_id{(time_ms << 16) | shard, (uint64_t{node} << 48) | counter};
}

std::string order_id::to_string() const {
  // 128 bits as 26 five-bit digits; the first digit carries only the top 3 bits.
  std::string out(text_size, '0');
  uint64_t h = hi, l = lo;
  for (int i = text_size - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = alphabet[l & 31];
    l = (l >> 5) | (h << 59);
    h >>= 5;
  }
  return out;
}

std::optional<order_id> parse_order_id(std::string_view text, std::string* why) {
  auto reject = [&](std::string msg) -> std::optional<order_id> {
    if (why != nullptr) *why = std::move(msg);
    return std::nullopt;
  };
  if (text.size() != order_id::text_size)
    return reject(
        fmt::format("order id must be {} characters, got {}", order_id::text_size, text.size()));
  uint64_t h = 0, l = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int d = decode_table[static_cast<unsigned char>(text[i])];
    if (d < 0) return reject(fmt::format("order id has invalid character at position {}", i));
    if (i == 0 && d > 7) return reject("order id is out of range (first character above 7)");
    h = (h << 5) | (l >> 59);
    l = (l << 5) | static_cast<uint64_t>(d);
  }
  return order_id{h, l};
}

std::optional<uint16_t> shard_of(std::string_view order_id_text) {
  auto id = parse_order_id(order_id_text);
  if (!id) return std::nullopt;
  return id->shard();
}

id_clock advance(id_clock last, uint64_t now_ms) {
  if (!last.issued || now_ms > last.ms) // a fresh millisecond: restart the counter
    return id_clock{std::max(now_ms, last.ms), 0, true};
  if (last.counter == order_id::counter_max) // exhausted: borrow the next ms, never wrap
    return id_clock{last.ms + 1, 0, true};
  return id_clock{last.ms, last.counter + 1, true}; // same ms, or the clock is behind
}

order_id_generator::order_id_generator(uint16_t node, uint64_t floor_ms)
    : node_(node), clock_{floor_ms, 0, false} {}

order_id order_id_generator::next(uint16_t shard, uint64_t now_ms) {
  std::lock_guard<std::mutex> guard{mutex_};
  clock_ = advance(clock_, now_ms);
  return make_order_id(clock_.ms, shard, node_, clock_.counter);
}

uint64_t order_id_generator::last_ms() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return clock_.issued ? clock_.ms : 0;
}

} // namespace ordo::domain
