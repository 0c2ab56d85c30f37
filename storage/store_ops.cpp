#include "storage/store_ops.hpp"

#include <fmt/core.h>

#include "storage/journal_impl.hpp"

namespace ordo::storage::ops {

caf::error corrupted(std::string what) {
  return make_error(storage_errc::corrupted, std::move(what));
}

caf::error check_offset_name(std::string_view name) {
  if (name.empty() || name.size() > 255)
    return make_error(storage_errc::invalid_argument, "offset name must be 1..255 bytes");
  return {};
}

caf::expected<uint64_t> decode_offset(std::string_view name, std::string_view value) {
  auto body = codec::unseal(name, value);
  if (!body || body->size() != 8) return corrupted(fmt::format("offset {} damaged", name));
  return codec::get_u64(*body, 0);
}

std::string position_name(uint64_t pos) {
  if (is_import_position(pos)) return fmt::format("import position {}", pos);
  return fmt::format("feed position {}", pos);
}

std::optional<std::string> prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xFF)
    s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

caf::error checkpoint_now(journal::impl& p) {
  if (p.env == nullptr) return make_error(storage_errc::closed, "journal is closed");
  std::lock_guard<std::mutex> g{p.ckpt_mu};
  return p.run_checkpoint();
}

caf::error begin_standalone_write(journal::impl& p, lmdb::txn& t,
                                  std::unique_lock<std::mutex>* pause,
                                  const std::function<bool(const overlay&)>& needs_checkpoint) {
  if (p.env == nullptr) return make_error(storage_errc::closed, "journal is closed");
  if (auto f = p.current_failure()) return make_error(storage_errc::failed, describe(f));
  if (pause != nullptr) {
    *pause = std::unique_lock<std::mutex>{p.writer_mu};
    bool needed = true;
    if (needs_checkpoint) {
      std::lock_guard<std::mutex> g{p.omu};
      needed = needs_checkpoint(p.tail);
    }
    if (needed)
      if (auto err = checkpoint_now(p)) return err;
  }
  if (int rc = t.begin(p.env, false); rc != 0) {
    auto err = make_error(storage_errc::io_error,
                          fmt::format("begin write txn: {} ({})", mdb_strerror(rc), rc));
    p.fail_stop(err);
    return err;
  }
  return {};
}

caf::error standalone_write_failed(journal::impl& p, int rc, const std::string& what) {
  if (lmdb::is_full(rc)) return lmdb::error_from(rc, what);
  auto err = make_error(storage_errc::io_error, fmt::format("{}: {} ({}); journal fail-stopped",
                                                            what, mdb_strerror(rc), rc));
  p.fail_stop(err);
  return err;
}

caf::expected<uint64_t> meta_u64(MDB_txn* t, const lmdb::tables& db, std::string_view name,
                                 uint64_t fallback) {
  std::string_view v;
  int rc = lmdb::get(t, db.meta, name, v);
  if (rc == MDB_NOTFOUND) return fallback;
  if (rc != 0) return lmdb::error_from(rc, fmt::format("meta {}", name));
  auto body = codec::unseal(name, v);
  if (!body || body->size() != 8) return corrupted(fmt::format("meta record {} damaged", name));
  return codec::get_u64(*body, 0);
}

int put_meta_u64(MDB_txn* t, const lmdb::tables& db, std::string_view name, uint64_t v) {
  return lmdb::put(t, db.meta, name, codec::seal(name, codec::u64_key(v)));
}

caf::expected<last_event> find_last(MDB_txn* t, const lmdb::tables& db, std::string_view entity) {
  auto prefix = codec::entity_prefix(entity);
  auto probe = codec::index_key(entity, UINT64_MAX);
  lmdb::cursor c{t, db.index};
  int rc = c.seek(probe);
  if (rc == 0 && c.key() == probe) {
    // seq UINT64_MAX itself: it is the last one.
  } else if (rc == 0) {
    rc = c.get(MDB_PREV);
  } else if (rc == MDB_NOTFOUND) {
    rc = c.get(MDB_LAST);
  }
  if (rc == MDB_NOTFOUND) return last_event{};
  if (rc != 0) return lmdb::error_from(rc, fmt::format("index of {}", entity));
  auto k = c.key();
  if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix) return last_event{};
  uint64_t seq = codec::get_u64(k, prefix.size());
  auto iv = codec::decode_index(k, c.value());
  if (!iv) return corrupted(fmt::format("index entry of entity {} seq {} damaged", entity, seq));
  return last_event{seq, iv->rec_crc};
}

caf::expected<uint64_t> find_first(MDB_txn* t, const lmdb::tables& db, std::string_view entity) {
  auto prefix = codec::entity_prefix(entity);
  lmdb::cursor c{t, db.index};
  int rc = c.seek(prefix);
  if (rc == MDB_NOTFOUND) return uint64_t{0};
  if (rc != 0) return lmdb::error_from(rc, fmt::format("index of {}", entity));
  auto k = c.key();
  if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix) return uint64_t{0};
  return codec::get_u64(k, prefix.size());
}

caf::expected<codec::log_record> load_event(MDB_txn* t, const lmdb::tables& db,
                                            std::string_view entity, uint64_t seq,
                                            const codec::index_value& iv) {
  auto pos_key = codec::u64_key(iv.position);
  std::string_view v;
  int rc = MDB_NOTFOUND;
  if (!is_import_position(iv.position))
    rc = lmdb::get(t, db.log, pos_key, v);
  else if (db.has_import_log)
    rc = lmdb::get(t, db.import_log, pos_key, v);
  if (rc == MDB_NOTFOUND)
    return corrupted(
        fmt::format("entity {} seq {}: {} missing", entity, seq, position_name(iv.position)));
  if (rc != 0) return lmdb::error_from(rc, fmt::format("log read for {}", entity));
  auto rec = codec::decode_log(pos_key, v);
  if (!rec || rec->crc != iv.rec_crc || rec->seq != seq || rec->entity != entity)
    return corrupted(fmt::format("entity {} seq {} ({}): record damaged", entity, seq,
                                 position_name(iv.position)));
  return *rec;
}

caf::expected<std::optional<std::pair<uint64_t, std::string_view>>>
find_snapshot(MDB_txn* t, const lmdb::tables& db, std::string_view entity) {
  auto key = codec::entity_prefix(entity);
  std::string_view v;
  int rc = lmdb::get(t, db.snap, key, v);
  if (rc == MDB_NOTFOUND) return std::optional<std::pair<uint64_t, std::string_view>>{};
  if (rc != 0) return lmdb::error_from(rc, fmt::format("snapshot of {}", entity));
  auto body = codec::unseal(key, v);
  if (!body || body->size() < 8)
    return corrupted(fmt::format("snapshot of entity {} damaged", entity));
  return std::optional{std::pair{codec::get_u64(*body, 0), body->substr(8)}};
}

int cancel_timer(MDB_txn* t, const lmdb::tables& db, std::string_view entity,
                 std::string_view timer_id) {
  auto id_key = codec::pair_key(entity, timer_id);
  std::string_view v;
  int rc = lmdb::get(t, db.timer_ids, id_key, v);
  if (rc == MDB_NOTFOUND) return 0;
  if (rc != 0) return rc;
  auto body = codec::unseal(id_key, v);
  if (body && body->size() == 8) {
    rc = lmdb::del(t, db.timers, codec::timer_key(codec::get_u64(*body, 0), entity, timer_id));
    if (rc != 0 && rc != MDB_NOTFOUND) return rc;
  }
  // A damaged timer_ids value leaves an orphan in `timers`; verify() reports it.
  return lmdb::del(t, db.timer_ids, id_key);
}

} // namespace ordo::storage::ops
