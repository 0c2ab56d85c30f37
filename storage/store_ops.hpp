#pragma once
// Internal: small read/write steps on one transaction, shared by the writer, the readers and
// verify(). Each returns an LMDB code or a caf::error naming what is damaged.

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "storage/codec.hpp"
#include "storage/journal.hpp"
#include "storage/lmdb_util.hpp"

namespace ordo::storage {
class overlay;
}

namespace ordo::storage::ops {

inline constexpr std::string_view meta_format_version = "format_version";
inline constexpr std::string_view meta_feed_low = "feed_low";
inline constexpr std::string_view meta_feed_next = "feed_next";
inline constexpr std::string_view meta_truncate_cursor = "truncate_cursor";
/// Next free position of the import range, in import_log (absent: import_first_position).
inline constexpr std::string_view meta_import_next = "import_next";
/// The last shard-log position a checkpoint applied (absent: 0, nothing applied yet).
inline constexpr std::string_view meta_log_applied = "log_applied";

/// Imported events (import_records) get positions 2^63 and up, in their own table (import_log):
/// index entries point to them like to feed positions, the feed counter never meets them.
inline constexpr uint64_t import_first_position = uint64_t{1} << 63;
inline bool is_import_position(uint64_t pos) {
  return pos >= import_first_position;
}
/// "feed position N" / "import position N", for error messages.
std::string position_name(uint64_t pos);

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

/// The entity's first stored seq (> 1 once truncate_feed removed early events), 0 if none.
caf::expected<uint64_t> find_first(MDB_txn* t, const lmdb::tables& db, std::string_view entity);

/// The log record of the entity's event `seq` that index value `iv` points to, checked against
/// it (crc, entity, seq). Damage is `corrupted` naming entity, seq and position.
caf::expected<codec::log_record> load_event(MDB_txn* t, const lmdb::tables& db,
                                            std::string_view entity, uint64_t seq,
                                            const codec::index_value& iv);

/// The entity's snapshot, verified; nullopt if none.
caf::expected<std::optional<std::pair<uint64_t, std::string_view>>>
find_snapshot(MDB_txn* t, const lmdb::tables& db, std::string_view entity);

/// Removes a timer (both tables) if present.
int cancel_timer(MDB_txn* t, const lmdb::tables& db, std::string_view entity,
                 std::string_view timer_id);

caf::error corrupted(std::string what);

/// invalid_argument unless a consumer offset's name is 1..255 bytes.
caf::error check_offset_name(std::string_view name);
/// A stored consumer offset, verified (checksum, size).
caf::expected<uint64_t> decode_offset(std::string_view name, std::string_view value);

/// The smallest key greater than every key starting with `prefix` (nullopt: none exists). With
/// entity_prefix(e) it skips all of one entity's keys in the tables keyed by len|entity|...
std::optional<std::string> prefix_successor(std::string_view prefix);

// Standalone writes (maintenance.cpp, transfer_import.cpp) run one synced write transaction on the
// calling thread.

/// Begins the write transaction unless the journal is closed or fail-stopped. With `pause`,
/// first pauses the group-commit writer (holding its lock in *pause until the caller is done)
/// and checkpoints the log's whole tail, so that LMDB alone holds every acknowledged write:
/// for writes that read or change what the log also writes (snapshots, timers, the feed,
/// imports). Without it (consumer offsets) the writer keeps running. `needs_checkpoint`, when
/// given, decides from the paused tail whether the checkpoint is needed at all.
caf::error begin_standalone_write(journal::impl& p, lmdb::txn& t,
                                  std::unique_lock<std::mutex>* pause,
                                  const std::function<bool(const overlay&)>& needs_checkpoint = {});
/// Applies the log's whole tail to LMDB now (export reads LMDB alone).
caf::error checkpoint_now(journal::impl& p);
/// The error for a failed LMDB write: storage_full, or io_error and the journal fail-stops.
caf::error standalone_write_failed(journal::impl& p, int rc, const std::string& what);

} // namespace ordo::storage::ops
