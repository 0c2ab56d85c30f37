// Shard transfer, the export side (see SHARD TRANSFER in journal.hpp): export_records reads whole entities and
// selected idempotency records in batches; import_records writes them into another store, the
// events at positions of the import range (2^63 and up) in their own table, import_log, so they
// never enter its feed; drop_timers silences the timers of entities this store no longer owns.
//
// Why a table of its own: in `log`, records above the feed would make every later feed append
// an insert before them: no MDB_APPEND, and LMDB then splits the page holding the feed's tail
// in the middle, so the feed's pages stay about 64 % full for good (measured: 7 instead of 11
// records of 300 bytes per page), i.e. more pages written per commit on the hot path.

#include <map>
#include <memory>

#include <fmt/core.h>

#include "storage/journal_impl.hpp"
#include "storage/store_ops.hpp"
#include "storage/transfer.hpp"

namespace ordo::storage {

namespace {

using transfer::bad;
using transfer::idem_body;

// ---------------------------------------------------------------------------------------------
// Export

// The resume token: "" (start), or a phase byte and the first key that phase has still to
// examine (inclusive): 'E' + entity prefix (whole entities), 'I' + idem key (single records).
constexpr char phase_entities = 'E';
constexpr char phase_records = 'I';

bool selected(const export_selector& s, std::string_view entity) {
  return s.entity && s.entity(entity);
}

std::string_view entity_of_prefix(std::string_view prefix) {
  return prefix.substr(1);
}

// Walks the entities of a store in entity-prefix order: the union of the entities of the tables
// keyed by len|entity|... (index, idem, snap, timer_ids), so an entity with only idempotency
// records is found too. Each table keeps its own cursor and head; advancing past an entity
// re-seeks only the tables positioned at it.
class entity_walk {
public:
  entity_walk(MDB_txn* t, const lmdb::tables& db) {
    const std::pair<MDB_dbi, const char*> all[] = {
        {db.index, "index"}, {db.idem, "idem"}, {db.snap, "snap"}, {db.timer_ids, "timer_ids"}};
    for (const auto& [d, name] : all)
      sources_.push_back(source{std::make_unique<lmdb::cursor>(t, d), name, std::nullopt});
  }

  /// Positions every table at the first entity whose prefix is ≥ `from` ("" : the first).
  caf::error start(std::string_view from) {
    for (auto& s : sources_)
      if (auto err = seek(s, from)) return err;
    return {};
  }

  /// The smallest entity prefix still ahead; nullopt at the end.
  std::optional<std::string> current() const {
    std::optional<std::string> best;
    for (const auto& s : sources_)
      if (s.head && (!best || *s.head < *best)) best = s.head;
    return best;
  }

  /// Moves past the entity with prefix `prefix` (the current one).
  caf::error skip(std::string_view prefix) {
    auto next = ops::prefix_successor(prefix);
    for (auto& s : sources_) {
      if (!s.head || *s.head != prefix) continue;
      if (!next) {
        s.head.reset();
        continue;
      }
      if (auto err = seek(s, *next)) return err;
    }
    return {};
  }

private:
  struct source {
    std::unique_ptr<lmdb::cursor> c;
    const char* name;
    std::optional<std::string> head; // entity prefix of the cursor's key, nullopt at the end
  };

  static caf::error seek(source& s, std::string_view from) {
    int rc = from.empty() ? s.c->get(MDB_FIRST) : s.c->seek(from);
    if (rc == MDB_NOTFOUND) {
      s.head.reset();
      return {};
    }
    if (rc != 0) return lmdb::error_from(rc, fmt::format("export: scan {}", s.name));
    auto split = codec::split_pair_key(s.c->key());
    if (!split) return ops::corrupted(fmt::format("{}: malformed key", s.name));
    s.head = std::string(s.c->key().substr(0, 1 + split->first.size()));
    return {};
  }

  std::vector<source> sources_;
};

// Calls visit(key, value) for every key of `dbi` under `entity`'s prefix, in key order, until
// it returns an error; an LMDB error is named "export: <what> of <entity>".
template <class Visit>
caf::error scan_entity(MDB_txn* t, MDB_dbi dbi, std::string_view entity, const char* what,
                       Visit&& visit) {
  auto prefix = codec::entity_prefix(entity);
  lmdb::cursor c{t, dbi};
  for (int rc = c.seek(prefix); rc != MDB_NOTFOUND; rc = c.get(MDB_NEXT)) {
    if (rc != 0) return lmdb::error_from(rc, fmt::format("export: {} of {}", what, entity));
    if (c.key().substr(0, prefix.size()) != prefix) break;
    if (auto err = visit(c.key(), c.value())) return err;
  }
  return {};
}

// Appends every event of `entity` still stored to `out`, verified like read_events (checksum,
// index cross-check, chain, no gaps; a missing prefix needs a covering snapshot).
caf::error read_events_of(MDB_txn* t, const lmdb::tables& db, std::string_view entity,
                          const std::optional<snapshot>& snap, entity_records& out) {
  const size_t prefix_len = codec::entity_prefix(entity).size();
  uint32_t prev_crc = 0;
  return scan_entity(t, db.index, entity, "index", [&](std::string_view k, std::string_view v) {
    if (k.size() != prefix_len + 8)
      return ops::corrupted(fmt::format("index: malformed key of entity {}", entity));
    const uint64_t seq = codec::get_u64(k, prefix_len);
    auto iv = codec::decode_index(k, v);
    if (!iv)
      return ops::corrupted(fmt::format("index entry of entity {} seq {} damaged", entity, seq));
    if (out.events.empty()) {
      if (seq > 1 && (!snap || snap->seq < seq - 1))
        return ops::corrupted(fmt::format(
            "entity {}: events before seq {} missing without a covering snapshot", entity, seq));
    } else if (seq != out.events.back().seq + 1) {
      return ops::corrupted(fmt::format("entity {}: event seq {} missing (next stored is {})",
                                        entity, out.events.back().seq + 1, seq));
    }
    auto rec = ops::load_event(t, db, entity, seq, *iv);
    if (!rec) return rec.error();
    // The first stored event of a truncated history has no predecessor to chain to.
    if ((seq == 1 || !out.events.empty()) && rec->prev_crc != prev_crc)
      return ops::corrupted(
          fmt::format("entity {} seq {}: chain to previous event broken", entity, seq));
    prev_crc = rec->crc;
    out.events.push_back({seq, std::string(rec->payload)});
    return caf::error{};
  });
}

caf::error read_idempotency_of(MDB_txn* t, const lmdb::tables& db, std::string_view entity,
                               entity_records& out) {
  const size_t prefix_len = codec::entity_prefix(entity).size();
  return scan_entity(
      t, db.idem, entity, "idempotency", [&](std::string_view k, std::string_view v) {
        auto body = idem_body(k, v);
        if (!body || k.size() == prefix_len)
          return ops::corrupted(fmt::format("idempotency record of entity {} damaged", entity));
        out.idempotency.push_back(
            {std::string(k.substr(prefix_len)), body->first, std::string(body->second)});
        return caf::error{};
      });
}

} // namespace

namespace transfer {

caf::error read_timers_of(MDB_txn* t, const lmdb::tables& db, std::string_view entity,
                          entity_records& out) {
  const size_t prefix_len = codec::entity_prefix(entity).size();
  return scan_entity(
      t, db.timer_ids, entity, "timers", [&](std::string_view k, std::string_view v) {
        auto id = k.substr(prefix_len);
        auto due = codec::unseal(k, v);
        if (id.empty() || !due || due->size() != 8)
          return ops::corrupted(fmt::format("timer id of entity {} damaged", entity));
        auto tkey = codec::timer_key(codec::get_u64(*due, 0), entity, id);
        std::string_view tv;
        int grc = lmdb::get(t, db.timers, tkey, tv);
        if (grc != 0 && grc != MDB_NOTFOUND)
          return lmdb::error_from(grc, fmt::format("export: timer of {}", entity));
        auto payload = grc == 0 ? codec::unseal(tkey, tv) : std::nullopt;
        if (!payload)
          return ops::corrupted(
              fmt::format("timer {} of entity {} damaged or missing", id, entity));
        out.timers.push_back({std::string(id), codec::get_u64(*due, 0), std::string(*payload)});
        return caf::error{};
      });
}

} // namespace transfer

namespace {

using transfer::read_timers_of;

caf::expected<entity_records> read_entity(MDB_txn* t, const lmdb::tables& db,
                                          std::string_view entity) {
  entity_records r;
  r.entity = std::string(entity);
  auto snap = ops::find_snapshot(t, db, entity);
  if (!snap) return snap.error();
  if (*snap) r.latest_snapshot = snapshot{(*snap)->first, std::string((*snap)->second)};
  if (auto err = read_events_of(t, db, entity, r.latest_snapshot, r)) return err;
  if (auto err = read_idempotency_of(t, db, entity, r)) return err;
  if (auto err = read_timers_of(t, db, entity, r)) return err;
  return r;
}

// What counts towards max_bytes: the bytes that travel, roughly.
size_t weight(const entity_records& r) {
  size_t n = r.entity.size();
  for (const auto& e : r.events)
    n += e.bytes.size() + 8;
  if (r.latest_snapshot) n += r.latest_snapshot->bytes.size() + 8;
  for (const auto& i : r.idempotency)
    n += i.key.size() + i.result.size() + 8;
  for (const auto& s : r.timers)
    n += s.timer_id.size() + s.payload.size() + 8;
  return n;
}

// Phase 1: whole selected entities from entity prefix `from`. Returns true when the batch is
// full (out.resume set), false when the phase is exhausted.
caf::expected<bool> export_entities(MDB_txn* t, const lmdb::tables& db,
                                    const export_selector& select, std::string_view from,
                                    size_t max_bytes, size_t& bytes, export_batch& out) {
  if (!select.entity) return false;
  entity_walk walk{t, db};
  if (auto err = walk.start(from)) return err;
  while (auto prefix = walk.current()) {
    auto entity = entity_of_prefix(*prefix);
    if (select.entity(entity)) {
      auto r = read_entity(t, db, entity);
      if (!r) return r.error();
      const size_t w = weight(*r);
      if (!out.entities.empty() && bytes + w > max_bytes) {
        out.resume = phase_entities + *prefix; // read it again next time
        return true;
      }
      bytes += w;
      out.entities.push_back(std::move(*r));
    }
    if (auto err = walk.skip(*prefix)) return err;
  }
  return false;
}

// Phase 2: single idempotency records of unselected entities, from idem key `from`.
caf::expected<bool> export_single_records(MDB_txn* t, const lmdb::tables& db,
                                          const export_selector& select, std::string_view from,
                                          size_t max_bytes, size_t& bytes, export_batch& out) {
  if (!select.idempotency_record) return false;
  const size_t first_group = out.entities.size(); // entries before it are whole entities
  lmdb::cursor c{t, db.idem};
  int rc = from.empty() ? c.get(MDB_FIRST) : c.seek(from);
  while (rc != MDB_NOTFOUND) {
    if (rc != 0) return lmdb::error_from(rc, "export: idempotency scan");
    auto k = c.key();
    auto split = codec::split_pair_key(k);
    if (!split || split->second.empty()) return ops::corrupted("idem: malformed key");
    const auto [entity, key] = *split;
    if (selected(select, entity)) { // exported whole in phase 1: skip all its records
      auto next = ops::prefix_successor(k.substr(0, 1 + entity.size()));
      rc = next ? c.seek(*next) : MDB_NOTFOUND;
      continue;
    }
    if (select.idempotency_record(entity, key)) {
      auto body = idem_body(k, c.value());
      if (!body)
        return ops::corrupted(fmt::format("idempotency record of entity {} damaged", entity));
      const size_t w = key.size() + body->second.size() + 8;
      if (!out.entities.empty() && bytes + w > max_bytes) {
        out.resume = phase_records + std::string(k);
        return true;
      }
      bytes += w;
      if (out.entities.size() == first_group || out.entities.back().entity != entity) {
        entity_records r;
        r.entity = std::string(entity);
        out.entities.push_back(std::move(r));
      }
      out.entities.back().idempotency.push_back(
          {std::string(key), body->first, std::string(body->second)});
    }
    rc = c.get(MDB_NEXT);
  }
  return false;
}

} // namespace

caf::expected<export_batch> journal::export_records(const export_selector& select,
                                                    std::string_view resume,
                                                    size_t max_bytes) const {
  char phase = phase_entities;
  std::string_view from;
  if (!resume.empty()) {
    phase = resume[0];
    from = resume.substr(1);
    auto split = codec::split_pair_key(from);
    if ((phase != phase_entities && phase != phase_records) || !split ||
        (phase == phase_entities && !split->second.empty()) ||
        (phase == phase_records && split->second.empty()))
      return bad("export: malformed resume token");
  }
  if (impl_->env == nullptr) return make_error(storage_errc::closed, "journal is closed");
  // Exports read LMDB alone: the first call of a pass applies the log's tail, so the pass sees
  // everything acknowledged before it began (later writes are the caller's to hand over, as
  // with any pass over a live store).
  if (resume.empty())
    if (auto err = ops::checkpoint_now(*impl_)) return err;
  lmdb::txn t;
  if (int rc = t.begin(impl_->env, true); rc != 0) return lmdb::error_from(rc, "begin read txn");
  export_batch out;
  size_t bytes = 0;
  if (phase == phase_entities) {
    auto full = export_entities(t.get(), impl_->db, select, from, max_bytes, bytes, out);
    if (!full) return full.error();
    if (*full) return out;
    from = {};
  }
  auto full = export_single_records(t.get(), impl_->db, select, from, max_bytes, bytes, out);
  if (!full) return full.error();
  out.done = !*full;
  return out;
}

caf::expected<std::vector<entity_records>>
journal::export_named(const std::vector<std::string>& entities,
                      const std::vector<std::pair<std::string, std::string>>& records) const {
  for (const auto& e : entities)
    if (e.empty() || e.size() > 255) return bad("export: entity must be 1..255 bytes");
  if (impl_->env == nullptr) return make_error(storage_errc::closed, "journal is closed");
  if (auto err = ops::checkpoint_now(*impl_)) return err; // exports read LMDB alone
  lmdb::txn t;
  if (int rc = t.begin(impl_->env, true); rc != 0) return lmdb::error_from(rc, "begin read txn");
  std::vector<entity_records> out;
  for (const auto& e : entities) {
    auto r = read_entity(t.get(), impl_->db, e);
    if (!r) return r.error();
    if (r->events.empty() && !r->latest_snapshot && r->idempotency.empty() && r->timers.empty())
      continue; // not stored here: nothing to hand over
    out.push_back(std::move(*r));
  }
  for (const auto& [entity, key] : records) {
    if (entity.empty() || entity.size() > 255 || key.empty() || key.size() > 200)
      return bad("export: idempotency record names must be 1..255 / 1..200 bytes");
    auto k = codec::pair_key(entity, key);
    std::string_view v;
    int rc = lmdb::get(t.get(), impl_->db.idem, k, v);
    if (rc == MDB_NOTFOUND) continue;
    if (rc != 0) return lmdb::error_from(rc, fmt::format("export: idempotency of {}", entity));
    auto body = idem_body(k, v);
    if (!body)
      return ops::corrupted(fmt::format("idempotency record of entity {} damaged", entity));
    if (out.empty() || out.back().entity != entity || !out.back().events.empty()) {
      entity_records r;
      r.entity = entity;
      out.push_back(std::move(r));
    }
    out.back().idempotency.push_back({key, body->first, std::string(body->second)});
  }
  return out;
}

} // namespace ordo::storage
