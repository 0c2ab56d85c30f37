// Standalone writes: snapshot, consumer offset, idempotency retention, feed truncation. Each
// runs one synced write transaction on the calling thread (LMDB's writer lock serializes it
// with the group-commit writer).

#include <map>

#include <fmt/core.h>

#include "storage/journal_impl.hpp"
#include "storage/store_ops.hpp"

namespace ordo::storage {

namespace {

// One snapshot put inside a standalone write transaction: checks the entity and sequence,
// skips it when a newer snapshot is stored. Returns whether it was written.
caf::expected<bool> put_snapshot(journal::impl& p, MDB_txn* t, std::string_view entity,
                                 uint64_t seq, std::string_view bytes) {
  if (entity.empty() || entity.size() > 255)
    return make_error(storage_errc::invalid_argument, "entity must be 1..255 bytes");
  if (bytes.size() > p.opts.record_max_bytes)
    return make_error(storage_errc::record_too_large,
                      fmt::format("entity {}: snapshot is {} bytes, limit {}", entity, bytes.size(),
                                  p.opts.record_max_bytes));
  auto last = ops::find_last(t, p.db, entity);
  if (!last) return last.error();
  if (seq == 0 || seq > last->seq)
    return make_error(
        storage_errc::invalid_argument,
        fmt::format("entity {}: snapshot seq {} not in 1..{}", entity, seq, last->seq));
  auto old = ops::find_snapshot(t, p.db, entity);
  if (old && *old && (*old)->first >= seq) return false; // as new or newer already stored
  auto key = codec::entity_prefix(entity);
  std::string body;
  codec::put_u64(body, seq);
  body.append(bytes);
  if (int rc = lmdb::put(t, p.db.snap, key, codec::seal(key, body)); rc != 0)
    return ops::standalone_write_failed(p, rc, fmt::format("snapshot put for {}", entity));
  return true;
}

} // namespace

caf::error journal::save_snapshot(std::string_view entity, uint64_t seq, std::string_view bytes) {
  auto& p = *impl_;
  std::unique_lock<std::mutex> pause; // declared first: released after t ends
  lmdb::txn t;
  if (auto err = ops::begin_standalone_write(p, t, &pause)) return err;
  auto put = put_snapshot(p, t.get(), entity, seq, bytes);
  if (!put) return put.error();
  if (!*put) return {}; // nothing to write
  return p.commit(t, fmt::format("snapshot of {}", entity));
}

caf::expected<size_t> journal::save_snapshots(const std::vector<snapshot_entry>& batch) {
  auto& p = *impl_;
  if (batch.empty()) return size_t{0};
  std::unique_lock<std::mutex> pause; // declared first: released after t ends
  lmdb::txn t;
  if (auto err = ops::begin_standalone_write(p, t, &pause)) return err;
  size_t written = 0;
  for (const auto& e : batch) {
    auto put = put_snapshot(p, t.get(), e.entity, e.seq, e.bytes);
    if (!put) return put.error();
    written += *put ? 1 : 0;
  }
  if (written == 0) return size_t{0};
  if (auto err = p.commit(t, fmt::format("{} snapshots", written))) return err;
  return written;
}

caf::error journal::save_offset(std::string_view name, uint64_t position) {
  auto& p = *impl_;
  if (auto err = ops::check_offset_name(name)) return err;
  lmdb::txn t;
  if (auto err = ops::begin_standalone_write(p, t, nullptr)) return err;
  if (int rc = lmdb::put(t.get(), p.db.offsets, name, codec::seal(name, codec::u64_key(position)));
      rc != 0)
    return ops::standalone_write_failed(p, rc, fmt::format("offset put for {}", name));
  return p.commit(t, fmt::format("offset {}", name));
}

caf::expected<bool> journal::delete_offset(std::string_view name) {
  auto& p = *impl_;
  if (auto err = ops::check_offset_name(name)) return err;
  lmdb::txn t;
  if (auto err = ops::begin_standalone_write(p, t, nullptr)) return err;
  int rc = lmdb::del(t.get(), p.db.offsets, name);
  if (rc == MDB_NOTFOUND) return false; // the transaction aborts: nothing written
  if (rc != 0)
    return ops::standalone_write_failed(p, rc, fmt::format("offset delete for {}", name));
  if (auto err = p.commit(t, fmt::format("offset {} delete", name))) return err;
  return true;
}

caf::expected<uint64_t> journal::expire_idempotency(uint64_t older_than_ms, size_t max_records) {
  auto& p = *impl_;
  std::unique_lock<std::mutex> pause; // declared first: released after t ends
  lmdb::txn t;
  if (auto err = ops::begin_standalone_write(p, t, &pause)) return err;
  std::vector<std::string> expired; // expiry keys
  {
    lmdb::cursor c{t.get(), p.db.idem_exp};
    for (int rc = c.get(MDB_FIRST); rc != MDB_NOTFOUND && expired.size() < max_records;
         rc = c.get(MDB_NEXT)) {
      if (rc != 0) return lmdb::error_from(rc, "idempotency expiry scan");
      if (c.key().size() < 10) return ops::corrupted("idempotency expiry key of wrong size");
      if (codec::get_u64(c.key(), 0) >= older_than_ms) break;
      expired.emplace_back(c.key());
    }
  }
  for (const auto& ek : expired) {
    std::string_view idem_key = std::string_view(ek).substr(8);
    if (int rc = lmdb::del(t.get(), p.db.idem, idem_key); rc != 0 && rc != MDB_NOTFOUND)
      return ops::standalone_write_failed(p, rc, "idempotency delete");
    if (int rc = lmdb::del(t.get(), p.db.idem_exp, ek); rc != 0)
      return ops::standalone_write_failed(p, rc, "idempotency expiry delete");
  }
  if (expired.empty()) return uint64_t{0};
  if (auto err = p.commit(t, "idempotency expiry")) return err;
  return static_cast<uint64_t>(expired.size());
}

caf::expected<truncate_result> journal::truncate_feed(uint64_t up_to, size_t max_records) {
  auto& p = *impl_;
  std::unique_lock<std::mutex> pause; // declared first: released after t ends
  lmdb::txn t;
  if (auto err = ops::begin_standalone_write(p, t, &pause)) return err;
  auto low = ops::meta_u64(t.get(), p.db, ops::meta_feed_low, 0);
  auto next = ops::meta_u64(t.get(), p.db, ops::meta_feed_next, 1);
  auto cursor_pos = ops::meta_u64(t.get(), p.db, ops::meta_truncate_cursor, 0);
  if (!low) return low.error();
  if (!next) return next.error();
  if (!cursor_pos) return cursor_pos.error();
  truncate_result res;
  res.low_water = std::max(*low, std::min(up_to, *next - 1));
  // Which records may go: entity's snapshot covers it, it is not the entity's last event, and
  // it is the entity's first stored one (next_first tracks that through this scan). Only a
  // prefix of a history may go: a record whose earlier events are still stored stays, or
  // read_events would meet a gap. That happens when an earlier call kept those events (no
  // snapshot covered them then) and when they were imported (import_log, never scanned here).
  struct entity_info {
    uint64_t snap_seq = 0;
    uint64_t last_seq = 0;
    uint64_t next_first = 0;
  };
  std::map<std::string, entity_info, std::less<>> seen;
  std::vector<std::pair<uint64_t, std::string>> doomed; // position, index key
  uint64_t examined_to = *cursor_pos;
  {
    lmdb::cursor c{t.get(), p.db.log};
    size_t n = 0;
    for (int rc = c.seek(codec::u64_key(*cursor_pos + 1)); rc != MDB_NOTFOUND && n < max_records;
         rc = c.get(MDB_NEXT), ++n) {
      if (rc != 0) return lmdb::error_from(rc, "truncate scan");
      if (c.key().size() != 8) return ops::corrupted("feed key of wrong size");
      const uint64_t pos = codec::get_u64(c.key(), 0);
      if (pos > res.low_water) break;
      auto rec = codec::decode_log(c.key(), c.value());
      if (!rec) return ops::corrupted(fmt::format("feed record at position {} damaged", pos));
      auto it = seen.find(rec->entity);
      if (it == seen.end()) {
        entity_info info;
        auto snap = ops::find_snapshot(t.get(), p.db, rec->entity);
        if (!snap) return snap.error();
        if (*snap) info.snap_seq = (*snap)->first;
        auto last = ops::find_last(t.get(), p.db, rec->entity);
        if (!last) return last.error();
        info.last_seq = last->seq;
        auto first = ops::find_first(t.get(), p.db, rec->entity);
        if (!first) return first.error();
        info.next_first = *first;
        it = seen.emplace(std::string(rec->entity), info).first;
      }
      auto& info = it->second;
      if (rec->seq <= info.snap_seq && rec->seq < info.last_seq && rec->seq == info.next_first) {
        ++info.next_first;
        doomed.emplace_back(pos, codec::index_key(rec->entity, rec->seq));
        ++res.removed;
      } else {
        ++res.kept;
      }
      examined_to = pos;
    }
  }
  if (res.removed + res.kept == max_records && examined_to < res.low_water)
    res.done = false;
  else
    examined_to = res.low_water;
  for (const auto& [pos, ikey] : doomed) {
    if (int rc = lmdb::del(t.get(), p.db.log, codec::u64_key(pos)); rc != 0)
      return ops::standalone_write_failed(p, rc, "truncate log delete");
    if (int rc = lmdb::del(t.get(), p.db.index, ikey); rc != 0)
      return ops::standalone_write_failed(p, rc, "truncate index delete");
  }
  int rc = ops::put_meta_u64(t.get(), p.db, ops::meta_feed_low, res.low_water);
  if (rc == 0) rc = ops::put_meta_u64(t.get(), p.db, ops::meta_truncate_cursor, examined_to);
  if (rc != 0) return ops::standalone_write_failed(p, rc, "truncate meta put");
  if (auto err = p.commit(t, "feed truncation")) return err;
  return res;
}

} // namespace ordo::storage
