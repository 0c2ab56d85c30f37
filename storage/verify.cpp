// verify(): a read-only scan of a whole store in one read transaction — every table's
// checksums, entity chains, feed <-> index consistency, timer and idempotency cross-tables.
// Imported events (import_log, positions 2^63 and up) are checked like feed records, except
// that their positions are contiguous on their own and never count towards the feed.

#include <algorithm>
#include <iterator>

#include <fmt/core.h>

#include "storage/journal.hpp"
#include "storage/lmdb_util.hpp"
#include "storage/store_ops.hpp"

namespace ordo::storage {

namespace {

constexpr size_t problems_max = 1000;

struct scan {
  MDB_txn* t;
  const lmdb::tables& db;
  verify_report& rep;
  // Next free position of the import range (see import_log()).
  uint64_t import_next = ops::import_first_position;

  template <class... Args>
  void problem(fmt::format_string<Args...> f, Args&&... args) {
    if (rep.problems.size() < problems_max)
      rep.problems.push_back(fmt::format(f, std::forward<Args>(args)...));
  }

  // Calls body(key, value) for each record of `d`; LMDB errors become problems.
  template <class F>
  void each(MDB_dbi d, const char* table, F&& body) {
    lmdb::cursor c{t, d};
    int rc = c.get(MDB_FIRST);
    for (; rc == 0; rc = c.get(MDB_NEXT))
      body(c.key(), c.value());
    if (rc != MDB_NOTFOUND) problem("{}: scan stopped: {} ({})", table, mdb_strerror(rc), rc);
  }

  bool exists(MDB_dbi d, std::string_view key, std::string_view& v) {
    return lmdb::get(t, d, key, v) == 0;
  }

  // Every meta record is one this build writes, sealed, of its size: a damaged key would
  // otherwise read as "absent" and fall back to a default (feed_low 0, log_applied 0) that
  // looks valid. Records written when the store was created must exist.
  void meta() {
    struct known {
      std::string_view name;
      size_t body_size;
      bool from_creation;
      uint64_t value; // the default a reader takes when the record is absent
      bool seen = false;
    };
    known all[] = {{ops::meta_format_version, 4, true, 0},
                   {ops::meta_feed_next, 8, true, 1},
                   {ops::meta_feed_low, 8, true, 0},
                   {ops::meta_log_applied, 8, false, 0},
                   {ops::meta_truncate_cursor, 8, false, 0},
                   {ops::meta_import_next, 8, false, ops::import_first_position}};
    auto find = [&](std::string_view name) {
      return std::find_if(std::begin(all), std::end(all),
                          [&](const known& r) { return r.name == name; });
    };
    each(db.meta, "meta", [&](std::string_view k, std::string_view v) {
      auto it = find(k);
      if (it == std::end(all)) return problem("meta: unknown record (key {} bytes)", k.size());
      it->seen = true;
      auto body = codec::unseal(k, v);
      if (!body || body->size() != it->body_size) return problem("meta: record {} damaged", k);
      it->value = it->body_size == 4 ? codec::get_u32(*body, 0) : codec::get_u64(*body, 0);
    });
    for (const auto& r : all)
      if (r.from_creation && !r.seen) problem("meta: record {} missing", r.name);
    rep.feed_low_water = find(ops::meta_feed_low)->value;
    rep.feed_head = find(ops::meta_feed_next)->value - 1;
    // Since format 3, feed events reach the store only by a checkpoint, which records how far
    // it applied; a format-2 store (not yet opened by this build) has events without it.
    if (find(ops::meta_format_version)->value >= 3 && rep.feed_head > 0 &&
        !find(ops::meta_log_applied)->seen)
      problem("meta: record {} missing", ops::meta_log_applied);
    const uint64_t imp = find(ops::meta_import_next)->value;
    if (!ops::is_import_position(imp))
      problem("meta: import counter {} outside the import range", imp);
    else
      import_next = imp;
  }

  // The record at a position of the feed (log) or of the import range (import_log).
  bool event_record(uint64_t pos, std::string_view pos_key, std::string_view& v) {
    if (!ops::is_import_position(pos)) return exists(db.log, pos_key, v);
    return db.has_import_log && exists(db.import_log, pos_key, v);
  }

  // Where an index entry may point: the feed up to its head, or the import range in use.
  bool position_in_use(uint64_t pos) const {
    return ops::is_import_position(pos) ? pos < import_next : pos <= rep.feed_head;
  }

  void index() {
    std::string cur; // entity prefix of the run being scanned
    uint64_t prev_seq = 0;
    uint32_t prev_crc = 0;
    each(db.index, "index", [&](std::string_view k, std::string_view v) {
      ++rep.index_entries;
      auto split = codec::split_pair_key(k);
      if (!split || split->second.size() != 8) return problem("index: malformed key");
      auto entity = split->first;
      const uint64_t seq = codec::get_u64(split->second, 0);
      auto iv = codec::decode_index(k, v);
      if (!iv) return problem("index: entry of entity {} seq {} damaged", entity, seq);
      bool first = k.substr(0, k.size() - 8) != cur;
      if (first) {
        cur = std::string(k.substr(0, k.size() - 8));
        ++rep.entities;
        if (seq != 1) {
          auto snap = ops::find_snapshot(t, db, entity);
          if (!snap || !*snap || (*snap)->first < seq - 1)
            problem("index: entity {} starts at seq {} without a covering snapshot", entity, seq);
        }
      } else if (seq != prev_seq + 1) {
        problem("index: entity {} seq {} follows seq {} (gap)", entity, seq, prev_seq);
      }
      if (!position_in_use(iv->position))
        problem("index: entity {} seq {} points past the feed head or import counter ({})", entity,
                seq, iv->position);
      std::string_view rv;
      auto pos_key = codec::u64_key(iv->position);
      if (!event_record(iv->position, pos_key, rv)) {
        problem("index: entity {} seq {} points to missing {}", entity, seq,
                ops::position_name(iv->position));
      } else {
        auto rec = codec::decode_log(pos_key, rv);
        if (!rec || rec->crc != iv->rec_crc || rec->entity != entity || rec->seq != seq)
          problem("index: entity {} seq {}: record at position {} damaged or mismatched", entity,
                  seq, iv->position);
        else if ((seq == 1 && rec->prev_crc != 0) ||
                 (!first && seq == prev_seq + 1 && rec->prev_crc != prev_crc))
          problem("index: entity {} seq {}: chain to previous event broken", entity, seq);
      }
      prev_seq = seq;
      prev_crc = iv->rec_crc;
    });
  }

  // Each record of a log table (`log`: the feed; `import_log`: imported events) decodes and
  // is the record its index entry points to.
  void record(const char* table, std::string_view k, std::string_view v, uint64_t pos) {
    auto rec = codec::decode_log(k, v);
    if (!rec) return problem("{}: record at position {} damaged", table, pos);
    std::string_view iv;
    auto ikey = codec::index_key(rec->entity, rec->seq);
    auto dec = exists(db.index, ikey, iv) ? codec::decode_index(ikey, iv) : std::nullopt;
    if (!dec || dec->position != pos)
      problem("{}: position {} (entity {} seq {}) has no index entry pointing to it", table, pos,
              rec->entity, rec->seq);
  }

  void log() {
    uint64_t expected = rep.feed_low_water + 1;
    each(db.log, "log", [&](std::string_view k, std::string_view v) {
      ++rep.events;
      if (k.size() != 8) return problem("log: malformed key");
      const uint64_t pos = codec::get_u64(k, 0);
      if (pos > rep.feed_head)
        problem("log: position {} beyond the feed head {}", pos, rep.feed_head);
      if (pos > rep.feed_low_water) {
        if (pos != expected) problem("log: positions {}..{} missing", expected, pos - 1);
        expected = pos + 1;
      }
      record("log", k, v, pos);
    });
    if (expected <= rep.feed_head)
      problem("log: positions {}..{} missing", expected, rep.feed_head);
  }

  // Imported events: contiguous from import_first_position to import_next - 1 (nothing
  // deletes them), never counted in the feed.
  void import_log() {
    uint64_t expected = ops::import_first_position;
    if (db.has_import_log) {
      each(db.import_log, "import_log", [&](std::string_view k, std::string_view v) {
        ++rep.events;
        if (k.size() != 8) return problem("import_log: malformed key");
        const uint64_t pos = codec::get_u64(k, 0);
        if (pos >= import_next)
          problem("import_log: position {} beyond the import counter {}", pos, import_next);
        if (pos != expected) problem("import_log: positions {}..{} missing", expected, pos - 1);
        expected = pos + 1;
        record("import_log", k, v, pos);
      });
    }
    if (expected < import_next)
      problem("import_log: positions {}..{} missing", expected, import_next - 1);
  }

  void idempotency() {
    each(db.idem, "idem", [&](std::string_view k, std::string_view v) {
      ++rep.idempotency_records;
      auto body = codec::unseal(k, v);
      auto split = codec::split_pair_key(k);
      if (!body || body->size() < 8 || !split) return problem("idem: record damaged");
      std::string_view ev;
      auto ekey = codec::expiry_key(codec::get_u64(*body, 0), split->first, split->second);
      if (!exists(db.idem_exp, ekey, ev))
        problem("idem: entity {} record has no expiry entry", split->first);
    });
    each(db.idem_exp, "idem_exp", [&](std::string_view k, std::string_view v) {
      std::string_view iv;
      if (!codec::unseal(k, v) || k.size() < 10) return problem("idem_exp: entry damaged");
      if (!exists(db.idem, k.substr(8), iv)) problem("idem_exp: entry without its record");
    });
  }

  void snapshots() {
    each(db.snap, "snap", [&](std::string_view k, std::string_view v) {
      ++rep.snapshots;
      auto body = codec::unseal(k, v);
      auto split = codec::split_pair_key(k);
      if (!body || body->size() < 8 || !split || !split->second.empty())
        return problem("snap: record damaged");
      auto last = ops::find_last(t, db, split->first);
      if (!last || codec::get_u64(*body, 0) > last->seq)
        problem("snap: entity {} snapshot beyond its last event", split->first);
    });
  }

  void timers() {
    each(db.timers, "timers", [&](std::string_view k, std::string_view v) {
      ++rep.timers;
      auto split = k.size() > 9 ? codec::split_pair_key(k.substr(8)) : std::nullopt;
      if (!codec::unseal(k, v) || !split) return problem("timers: record damaged");
      std::string_view iv;
      auto ikey = codec::pair_key(split->first, split->second);
      auto body = exists(db.timer_ids, ikey, iv) ? codec::unseal(ikey, iv) : std::nullopt;
      if (!body || body->size() != 8 || codec::get_u64(*body, 0) != codec::get_u64(k, 0))
        problem("timers: entity {} timer without a matching id entry", split->first);
    });
    each(db.timer_ids, "timer_ids", [&](std::string_view k, std::string_view v) {
      auto body = codec::unseal(k, v);
      auto split = codec::split_pair_key(k);
      if (!body || body->size() != 8 || !split) return problem("timer_ids: record damaged");
      std::string_view tv;
      if (!exists(db.timers,
                  codec::timer_key(codec::get_u64(*body, 0), split->first, split->second), tv))
        problem("timer_ids: entity {} id without its timer", split->first);
    });
  }

  void offsets() {
    each(db.offsets, "offsets", [&](std::string_view k, std::string_view v) {
      ++rep.offsets;
      auto body = codec::unseal(k, v);
      if (!body || body->size() != 8) problem("offsets: {} damaged", k);
    });
  }
};

} // namespace

caf::expected<verify_report> verify(const std::string& dir) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc == 0) rc = mdb_env_set_maxdbs(env, 16);
  if (rc == 0) rc = mdb_env_set_mapsize(env, uint64_t{64} << 30);
  if (rc == 0) rc = mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0644);
  if (rc != 0) {
    if (env != nullptr) mdb_env_close(env);
    return lmdb::error_from(rc, fmt::format("verify: open {}", dir));
  }
  verify_report rep;
  {
    lmdb::txn t;
    lmdb::tables db;
    rc = t.begin(env, true);
    if (rc == 0) rc = lmdb::open_tables(t.get(), false, db);
    if (rc != 0) {
      rep.problems.push_back(fmt::format("tables: {} ({})", mdb_strerror(rc), rc));
    } else {
      scan s{t.get(), db, rep};
      s.meta();
      s.index();
      s.log();
      s.import_log();
      s.idempotency();
      s.snapshots();
      s.timers();
      s.offsets();
    }
  }
  mdb_env_close(env);
  return rep;
}

} // namespace ordo::storage
