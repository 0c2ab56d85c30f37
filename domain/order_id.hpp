#pragma once
// Order ids: routable with no lookup, time-ordered, unique across nodes.
//
// An order id is 128 bits, most significant first:
//
//   | 48 bits unix time (ms) | 16 bits virtual shard | 16 bits node id | 48 bits counter |
//
// - Time first, so ids (and the storage keys built from them) sort by creation time: new
//   orders' records land next to each other at the right edge of the B-tree.
// - The virtual shard travels inside the id, so any node routes a command by decoding the
//   id; no directory lookup, no extra hop.
// - The node id makes generators on different nodes disjoint; the counter makes ids from
//   one generator unique within a millisecond.
//
// Clock safety: the generator never lets its time go backwards. If the wall clock steps
// back it keeps issuing ids at its last millisecond with an increasing counter (so ids stay
// unique and ordered); if the counter runs out it borrows the next millisecond. A restarted
// node passes `floor_ms` = (newest id time it has stored) + 1, so a clock that stepped back
// while the node was down cannot reissue an id that was ever persisted.
//
// Text form: 26 characters of Crockford base32 (0-9, A-Z without I L O U), fixed width,
// so text order equals numeric order. Pure code: time comes in as an argument.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ordo::domain {

struct order_id {
  uint64_t hi = 0; // time_ms(48) | shard(16)
  uint64_t lo = 0; // node(16) | counter(48)

  static constexpr int text_size = 26;
  static constexpr uint64_t time_ms_max = (uint64_t{1} << 48) - 1;
  static constexpr uint64_t counter_max = (uint64_t{1} << 48) - 1;

  uint64_t time_ms() const { return hi >> 16; }
  uint16_t shard() const { return static_cast<uint16_t>(hi & 0xFFFF); }
  uint16_t node() const { return static_cast<uint16_t>(lo >> 48); }
  uint64_t counter() const { return lo & counter_max; }

  std::string to_string() const;

  friend auto operator<=>(const order_id&, const order_id&) = default;
};

/// Builds an id from its parts; asserts each part fits its field.
order_id make_order_id(uint64_t time_ms, uint16_t shard, uint16_t node, uint64_t counter);

/// Parses the 26-character text form. On failure returns nullopt and, if `why` is given,
/// a message naming the problem (length, character, position).
std::optional<order_id> parse_order_id(std::string_view text, std::string* why = nullptr);

/// The virtual shard of an order, read from its id; nullopt if the text is not an order id.
std::optional<uint16_t> shard_of(std::string_view order_id_text);

/// The (time, counter) position of the newest id a generator issued.
struct id_clock {
  uint64_t ms = 0;
  uint64_t counter = 0;
  bool issued = false;
  friend bool operator==(const id_clock&, const id_clock&) = default;
};

/// The pure step behind the generator: where the next id goes, given the last position and
/// the wall clock. Time never goes back; a full counter borrows the next millisecond.
id_clock advance(id_clock last, uint64_t now_ms);

/// Issues unique, time-ordered ids for one node. Thread-safe (one short critical section).
class order_id_generator {
public:
  /// `floor_ms`: no id is issued with an earlier time (see the clock note above).
  order_id_generator(uint16_t node, uint64_t floor_ms = 0);

  /// A new id for `shard`, stamped with max(now_ms, last issued time).
  order_id next(uint16_t shard, uint64_t now_ms);

  /// Time of the newest id issued so far (0 before the first).
  uint64_t last_ms() const;

private:
  mutable std::mutex mutex_;
  uint16_t node_;
  id_clock clock_;
};

} // namespace ordo::domain
