// Shard transfer (see SHARD TRANSFER in journal.hpp): export_records reads whole entities and
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

namespace ordo::storage {

namespace {

// ---------------------------------------------------------------------------------------------
// Export

// The resume token: "" (start), or a phase byte and the first key that phase has still to
// examine (inclusive): 'E' + entity prefix (whole entities), 'I' + idem key (single records).
constexpr char phase_entities = 'E';
constexpr char phase_records = 'I';

caf::error bad(std::string what) {
  return make_error(storage_errc::invalid_argument, std::move(what));
}

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

// created_ms and result of a sealed idem value; nullopt if damaged.
std::optional<std::pair<uint64_t, std::string_view>> idem_body(std::string_view key,
                                                               std::string_view value) {
  auto body = codec::unseal(key, value);
  if (!body || body->size() < 8) return std::nullopt;
  return std::pair{codec::get_u64(*body, 0), body->substr(8)};
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

// ---------------------------------------------------------------------------------------------
// Import

caf::error validate_import(const std::vector<entity_records>& batch, const journal_options& o) {
  auto big = [&](std::string_view entity, std::string_view what, size_t n) {
    return make_error(storage_errc::record_too_large,
                      fmt::format("import: entity {}: {} is {} bytes, limit {}", entity, what, n,
                                  o.record_max_bytes));
  };
  for (const auto& e : batch) {
    if (e.entity.empty() || e.entity.size() > 255)
      return bad(fmt::format("import: entity must be 1..255 bytes, is {}", e.entity.size()));
    for (size_t i = 0; i < e.events.size(); ++i) {
      const auto& ev = e.events[i];
      if (ev.seq == 0 || (i > 0 && ev.seq != e.events[i - 1].seq + 1))
        return bad(fmt::format("import: entity {}: events not ascending and gap-free at seq {}",
                               e.entity, ev.seq));
      if (ev.bytes.size() > o.record_max_bytes) return big(e.entity, "event", ev.bytes.size());
    }
    if (e.latest_snapshot) {
      if (e.latest_snapshot->seq == 0)
        return bad(fmt::format("import: entity {}: snapshot seq must be ≥ 1", e.entity));
      if (e.latest_snapshot->bytes.size() > o.record_max_bytes)
        return big(e.entity, "snapshot", e.latest_snapshot->bytes.size());
    }
    for (const auto& r : e.idempotency) {
      if (r.key.empty() || r.key.size() > 200)
        return bad(
            fmt::format("import: entity {}: idempotency key must be 1..200 bytes", e.entity));
      if (r.result.size() > o.record_max_bytes)
        return big(e.entity, "idempotency result", r.result.size());
    }
    for (const auto& s : e.timers) {
      if (s.timer_id.empty() || s.timer_id.size() > 200)
        return bad(fmt::format("import: entity {}: timer id must be 1..200 bytes", e.entity));
      if (s.payload.size() > o.record_max_bytes)
        return big(e.entity, "timer payload", s.payload.size());
    }
  }
  return {};
}

// Applies a batch inside one write transaction. Any error leaves the transaction to be aborted
// by the caller (nothing is written); LMDB write failures are classified (full / fail-stop).
struct importer {
  journal::impl& p;
  MDB_txn* t;
  uint64_t import_next;
  size_t writes = 0; // records put or deleted: 0 means the batch changed nothing

  const lmdb::tables& db() const { return p.db; }

  caf::error failed(int rc, std::string_view what, std::string_view entity) {
    return ops::standalone_write_failed(p, rc,
                                        fmt::format("import: {} for entity {}", what, entity));
  }

  caf::error apply(const entity_records& e) {
    auto last = ops::find_last(t, db(), e.entity);
    if (!last) return last.error();
    uint64_t new_last = last->seq;
    if (!e.events.empty()) {
      if (auto err = events(e, *last)) return err;
      new_last = std::max(new_last, e.events.back().seq);
    }
    if (e.latest_snapshot)
      if (auto err = put_snapshot(e, new_last)) return err;
    for (const auto& r : e.idempotency)
      if (auto err = idempotency(e.entity, r)) return err;
    // An entry with only idempotency records (export phase 2, e.g. placement records) is not
    // the whole entity: its timers are not part of it and stay as they are.
    if (!e.events.empty() || e.latest_snapshot || !e.timers.empty())
      if (auto err = timers(e)) return err;
    return {};
  }

  // Appends the events the store lacks, after checking that the batch continues (or repeats)
  // the local history.
  caf::error events(const entity_records& e, const ops::last_event& last) {
    const uint64_t first = e.events.front().seq, batch_last = e.events.back().seq;
    const uint64_t local = last.seq;
    if (batch_last < local)
      return make_error(storage_errc::sequence_conflict,
                        fmt::format("import: entity {}: local history is ahead (last seq {}) of "
                                    "the imported one (last seq {})",
                                    e.entity, local, batch_last));
    if (local > 0 && first > local + 1)
      return make_error(storage_errc::sequence_conflict,
                        fmt::format("import: entity {}: imported events start at seq {}, local "
                                    "last seq is {} (gap)",
                                    e.entity, first, local));
    if (local == 0 && first > 1 && (!e.latest_snapshot || e.latest_snapshot->seq < first - 1))
      return bad(fmt::format("import: entity {}: history starts at seq {} without a snapshot "
                             "covering the events before it",
                             e.entity, first));
    // Overlap: the local copy of an event must be the same event (same history).
    for (const auto& ev : e.events) {
      if (ev.seq > local) break;
      auto ikey = codec::index_key(e.entity, ev.seq);
      std::string_view v;
      int rc = lmdb::get(t, db().index, ikey, v);
      if (rc == MDB_NOTFOUND) continue; // truncated here: nothing to compare with
      if (rc != 0) return lmdb::error_from(rc, fmt::format("import: index of {}", e.entity));
      auto iv = codec::decode_index(ikey, v);
      if (!iv)
        return ops::corrupted(
            fmt::format("index entry of entity {} seq {} damaged", e.entity, ev.seq));
      auto rec = ops::load_event(t, db(), e.entity, ev.seq, *iv);
      if (!rec) return rec.error();
      if (rec->payload != ev.bytes)
        return make_error(storage_errc::sequence_conflict,
                          fmt::format("import: entity {} seq {}: imported event differs from the "
                                      "stored one (histories diverged)",
                                      e.entity, ev.seq));
    }
    // Chain from the local last event; the first event of a new history (seq 1, or the first
    // kept one of a truncated history, which nothing checks) links to 0.
    uint32_t prev_crc = local == 0 ? 0 : last.rec_crc;
    for (const auto& ev : e.events) {
      if (ev.seq <= local) continue;
      const uint64_t pos = import_next++;
      auto pos_key = codec::u64_key(pos);
      auto rec = codec::encode_log(pos_key, prev_crc, ev.seq, e.entity, ev.bytes);
      prev_crc = codec::sealed_crc(rec);
      if (int rc = lmdb::put(t, db().import_log, pos_key, rec, MDB_APPEND); rc != 0)
        return failed(rc, "import log put", e.entity);
      auto ikey = codec::index_key(e.entity, ev.seq);
      if (int rc = lmdb::put(t, db().index, ikey, codec::encode_index(ikey, pos, prev_crc));
          rc != 0)
        return failed(rc, "index put", e.entity);
      writes += 2;
    }
    return {};
  }

  caf::error put_snapshot(const entity_records& e, uint64_t last_seq) {
    const auto& s = *e.latest_snapshot;
    if (s.seq > last_seq)
      return bad(fmt::format("import: entity {}: snapshot seq {} beyond last seq {}", e.entity,
                             s.seq, last_seq));
    auto old = ops::find_snapshot(t, db(), e.entity);
    if (!old) return old.error();
    if (*old && (*old)->first >= s.seq) return {}; // the local one is as new
    auto key = codec::entity_prefix(e.entity);
    std::string body;
    codec::put_u64(body, s.seq);
    body.append(s.bytes);
    if (int rc = lmdb::put(t, db().snap, key, codec::seal(key, body)); rc != 0)
      return failed(rc, "snapshot put", e.entity);
    ++writes;
    return {};
  }

  // Puts one record, replacing a different one and its expiry entry.
  caf::error idempotency(std::string_view entity, const entity_records::stored_idempotency& r) {
    auto key = codec::pair_key(entity, r.key);
    std::string_view v;
    int rc = lmdb::get(t, db().idem, key, v);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return lmdb::error_from(rc, fmt::format("import: idempotency of {}", entity));
    if (rc == 0) {
      auto old = idem_body(key, v);
      if (!old)
        return ops::corrupted(fmt::format("idempotency record of entity {} damaged", entity));
      if (old->first == r.created_ms && old->second == r.result) return {};
      if (old->first != r.created_ms) {
        rc = lmdb::del(t, db().idem_exp, codec::expiry_key(old->first, entity, r.key));
        if (rc != 0 && rc != MDB_NOTFOUND) return failed(rc, "idempotency expiry delete", entity);
      }
    }
    std::string body;
    codec::put_u64(body, r.created_ms);
    body.append(r.result);
    if (rc = lmdb::put(t, db().idem, key, codec::seal(key, body)); rc != 0)
      return failed(rc, "idempotency put", entity);
    auto ekey = codec::expiry_key(r.created_ms, entity, r.key);
    if (rc = lmdb::put(t, db().idem_exp, ekey, codec::seal(ekey, {})); rc != 0)
      return failed(rc, "idempotency expiry put", entity);
    writes += 2;
    return {};
  }

  // Replaces the entity's timers by the batch's, unless they are the same already.
  caf::error timers(const entity_records& e) {
    using timer_set = std::map<std::string, std::pair<uint64_t, std::string>, std::less<>>;
    timer_set want;
    for (const auto& s : e.timers)
      want[s.timer_id] = {s.due_ms, s.payload};
    entity_records local;
    if (auto err = read_timers_of(t, db(), e.entity, local)) return err;
    timer_set have;
    for (const auto& s : local.timers)
      have[s.timer_id] = {s.due_ms, s.payload};
    if (have == want) return {};
    for (const auto& [id, unused] : have)
      if (int rc = ops::cancel_timer(t, db(), e.entity, id); rc != 0)
        return failed(rc, "timer delete", e.entity);
    for (const auto& [id, sched] : want) {
      auto tkey = codec::timer_key(sched.first, e.entity, id);
      if (int rc = lmdb::put(t, db().timers, tkey, codec::seal(tkey, sched.second)); rc != 0)
        return failed(rc, "timer put", e.entity);
      auto ikey = codec::pair_key(e.entity, id);
      if (int rc =
              lmdb::put(t, db().timer_ids, ikey, codec::seal(ikey, codec::u64_key(sched.first)));
          rc != 0)
        return failed(rc, "timer id put", e.entity);
    }
    writes += have.size() + want.size();
    return {};
  }
};

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

caf::error journal::import_records(const std::vector<entity_records>& batch) {
  auto& p = *impl_;
  if (auto err = validate_import(batch, p.opts)) return err;
  std::unique_lock<std::mutex> pause; // declared first: released after t ends
  lmdb::txn t;
  // The entities come from another store; only if the tail holds any of them (a shard coming
  // back) must LMDB be brought up to date before comparing histories.
  auto tail_holds_one = [&](const overlay& o) {
    for (const auto& e : batch)
      if (o.holds(e.entity)) return true;
    return false;
  };
  if (auto err = ops::begin_standalone_write(p, t, &pause, tail_holds_one)) return err;
  auto next = ops::meta_u64(t.get(), p.db, ops::meta_import_next, ops::import_first_position);
  if (!next) return next.error();
  if (!ops::is_import_position(*next))
    return ops::corrupted(fmt::format("meta record {} out of range", ops::meta_import_next));
  importer im{p, t.get(), *next};
  for (const auto& e : batch)
    if (auto err = im.apply(e)) return err;
  if (im.writes == 0) return {}; // the store holds all of it already: no commit, no sync
  if (im.import_next != *next) {
    if (int rc = ops::put_meta_u64(t.get(), p.db, ops::meta_import_next, im.import_next); rc != 0)
      return ops::standalone_write_failed(p, rc, "import counter put");
  }
  return p.commit(t, fmt::format("import of {} entities", batch.size()));
}

caf::expected<uint64_t> journal::drop_timers(const export_selector& select) {
  auto& p = *impl_;
  std::unique_lock<std::mutex> pause; // declared first: released after t ends
  lmdb::txn t;
  if (auto err = ops::begin_standalone_write(p, t, &pause)) return err;
  if (!select.entity) return uint64_t{0};
  std::vector<std::pair<std::string, std::string>> doomed; // entity, timer id
  {
    lmdb::cursor c{t.get(), p.db.timer_ids};
    int rc = c.get(MDB_FIRST);
    while (rc != MDB_NOTFOUND) {
      if (rc != 0) return lmdb::error_from(rc, "drop timers: scan");
      auto split = codec::split_pair_key(c.key());
      if (!split || split->second.empty()) return ops::corrupted("timer_ids: malformed key");
      if (!select.entity(split->first)) { // skip all of this entity's timers
        auto next = ops::prefix_successor(c.key().substr(0, 1 + split->first.size()));
        rc = next ? c.seek(*next) : MDB_NOTFOUND;
        continue;
      }
      // A damaged id entry would leave its timer behind to fire: refuse instead.
      auto due = codec::unseal(c.key(), c.value());
      if (!due || due->size() != 8)
        return ops::corrupted(fmt::format("timer id of entity {} damaged", split->first));
      doomed.emplace_back(split->first, split->second);
      rc = c.get(MDB_NEXT);
    }
  }
  if (doomed.empty()) return uint64_t{0};
  for (const auto& [entity, id] : doomed)
    if (int rc = ops::cancel_timer(t.get(), p.db, entity, id); rc != 0)
      return ops::standalone_write_failed(p, rc, fmt::format("drop timers of {}", entity));
  if (auto err = p.commit(t, "drop timers")) return err;
  return static_cast<uint64_t>(doomed.size());
}

} // namespace ordo::storage
