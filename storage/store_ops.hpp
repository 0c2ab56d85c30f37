#pragma once
// Internal: small read/write steps on one transaction, shared by the writer, the readers and
// verify(). Each returns an LMDB code or a caf::error naming what is damaged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "storage/codec.hpp"
#include "storage/lmdb_util.hpp"

namespace ordo::storage::ops {

inline constexpr std::string_view meta_format_version = "format_version";
inline constexpr std::string_view meta_feed_low = "feed_low";
inline constexpr std::string_view meta_feed_next = "feed_next";
inline constexpr std::string_view meta_truncate_cursor = "truncate_cursor";

/// A sealed u64 meta value; `fallback` when absent.
caf::expected<uint64_t> meta_u64(MDB_txn* t, const lmdb::tables& db, std::string_view name,
                                 uint64_t fallback);
int put_meta_u64(MDB_txn* t, const lmdb::tables& db, std::string_view name, uint64_t v);

struct last_event {
  uint64_t seq = 0;     // 0: no events
  uint32_t rec_crc = 0; // crc of that event's log record (chain link for the next one)
};

/// The entity's last index entry, verified.
caf::expected<last_event> find_last(MDB_txn* t, const lmdb::tables& db, std::string_view entity);

/// The entity's snapshot, verified; nullopt if none.
caf::expected<std::optional<std::pair<uint64_t, std::string_view>>>
find_snapshot(MDB_txn* t, const lmdb::tables& db, std::string_view entity);

/// Removes a timer (both tables) if present.
int cancel_timer(MDB_txn* t, const lmdb::tables& db, std::string_view entity,
                 std::string_view timer_id);

caf::error corrupted(std::string what);

} // namespace ordo::storage::ops
