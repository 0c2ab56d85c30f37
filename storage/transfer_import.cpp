// Shard transfer, the import side (see SHARD TRANSFER in journal.hpp and transfer_export.cpp):
// import_records writes another store's entities, their events into import_log; drop_timers.
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
using transfer::read_timers_of;

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
