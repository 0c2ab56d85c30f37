// Read calls: each opens and closes its own read-only transaction (MDB_NOTLS), verifies every
// record it returns, and reports damage as `corrupted` naming entity and seq or position.

#include <algorithm>

#include <fmt/core.h>

#include "storage/journal_impl.hpp"
#include "storage/store_ops.hpp"

namespace ordo::storage {

namespace {

caf::expected<lmdb::txn> begin_read(MDB_env* env) {
  if (env == nullptr) return make_error(storage_errc::closed, "journal is closed");
  lmdb::txn t;
  if (int rc = t.begin(env, true); rc != 0) return lmdb::error_from(rc, "begin read txn");
  return t;
}

// Copies what a read needs from the overlay (the log's un-checkpointed tail) and begins the
// LMDB read transaction, both under the overlay's lock: whatever the overlay no longer holds
// then, the transaction's snapshot does (journal_impl.hpp, "The overlay's locks").
template <class Copy>
caf::expected<lmdb::txn> begin_merged_read(journal::impl& p, Copy&& copy) {
  std::lock_guard<std::mutex> g{p.omu};
  copy(static_cast<const overlay&>(p.tail));
  return begin_read(p.env);
}

bool valid_entity(std::string_view e) {
  return !e.empty() && e.size() <= 255;
}

caf::error bad_entity(std::string_view e) {
  return make_error(storage_errc::invalid_argument,
                    fmt::format("entity must be 1..255 bytes, is {}", e.size()));
}

} // namespace

caf::error journal::read_events(std::string_view entity, uint64_t from_seq,
                                const event_visitor& visit) const {
  if (!valid_entity(entity)) return bad_entity(entity);
  const uint64_t first = from_seq == 0 ? 1 : from_seq;
  uint64_t tail_first = 0; // first seq the overlay holds (0: none); LMDB has those before it
  std::vector<std::pair<uint64_t, std::string>> tail_events;
  auto t = begin_merged_read(*impl_, [&](const overlay& o) {
    tail_first = o.first_seq(entity);
    if (tail_first != 0) o.events(entity, first, tail_events);
  });
  if (!t) return t.error();
  auto visit_tail = [&]() -> caf::error {
    for (const auto& [seq, bytes] : tail_events)
      if (!visit(seq, bytes)) return {};
    return {};
  };
  if (tail_first != 0 && first >= tail_first) return visit_tail();
  const auto& db = impl_->db;
  auto prefix = codec::entity_prefix(entity);
  // The chain link of the record before `first`, when it still exists.
  std::optional<uint32_t> prev_crc;
  if (first == 1) {
    prev_crc = 0;
  } else {
    auto k = codec::index_key(entity, first - 1);
    std::string_view v;
    if (lmdb::get(t->get(), db.index, k, v) == 0) {
      auto iv = codec::decode_index(k, v);
      if (!iv)
        return ops::corrupted(
            fmt::format("index entry of entity {} seq {} damaged", entity, first - 1));
      prev_crc = iv->rec_crc;
    }
  }
  lmdb::cursor c{t->get(), db.index};
  uint64_t expected = first;
  for (int rc = c.seek(codec::index_key(entity, first)); rc != MDB_NOTFOUND; rc = c.get(MDB_NEXT)) {
    if (rc != 0) return lmdb::error_from(rc, fmt::format("read events of {}", entity));
    auto k = c.key();
    if (k.size() != prefix.size() + 8 || k.substr(0, prefix.size()) != prefix) break;
    const uint64_t seq = codec::get_u64(k, prefix.size());
    if (tail_first != 0 && seq >= tail_first) break; // the overlay has these (and is newer)
    if (seq != expected) {
      if (expected == first) {
        auto snap = ops::find_snapshot(t->get(), db, entity);
        if (snap && *snap && (*snap)->first >= seq - 1)
          return make_error(storage_errc::truncated,
                            fmt::format("entity {}: events {}..{} were truncated; start from "
                                        "the snapshot at seq {}",
                                        entity, expected, seq - 1, (*snap)->first));
      }
      return ops::corrupted(fmt::format("entity {}: event seq {} missing (next stored is {})",
                                        entity, expected, seq));
    }
    auto iv = codec::decode_index(k, c.value());
    if (!iv)
      return ops::corrupted(fmt::format("index entry of entity {} seq {} damaged", entity, seq));
    // Imported events (import range, see import_records) are read like any other.
    auto rec = ops::load_event(t->get(), db, entity, seq, *iv);
    if (!rec) return rec.error();
    if (prev_crc && rec->prev_crc != *prev_crc)
      return ops::corrupted(
          fmt::format("entity {} seq {}: chain to previous event broken", entity, seq));
    if (!visit(seq, rec->payload)) return {};
    prev_crc = rec->crc;
    ++expected;
  }
  if (tail_first != 0 && expected < tail_first && expected >= first)
    return ops::corrupted(fmt::format("entity {}: events {}..{} missing before the log's tail",
                                      entity, expected, tail_first - 1));
  return visit_tail();
}

caf::expected<uint64_t> journal::last_seq(std::string_view entity) const {
  if (!valid_entity(entity)) return bad_entity(entity);
  std::optional<uint64_t> tail_last;
  auto t = begin_merged_read(*impl_, [&](const overlay& o) { tail_last = o.last_seq(entity); });
  if (!t) return t.error();
  if (tail_last) return *tail_last;
  auto last = ops::find_last(t->get(), impl_->db, entity);
  if (!last) return last.error();
  return last->seq;
}

caf::expected<std::optional<snapshot>> journal::load_snapshot(std::string_view entity) const {
  if (!valid_entity(entity)) return bad_entity(entity);
  std::optional<snapshot> in_tail;
  auto t = begin_merged_read(*impl_, [&](const overlay& o) { in_tail = o.latest_snapshot(entity); });
  if (!t) return t.error();
  auto s = ops::find_snapshot(t->get(), impl_->db, entity);
  if (!s) return s.error();
  if (in_tail && (!*s || (*s)->first <= in_tail->seq)) return in_tail;
  if (!*s) return std::optional<snapshot>{};
  return std::optional{snapshot{(*s)->first, std::string((*s)->second)}};
}

caf::expected<std::optional<std::string>> journal::find_idempotency(std::string_view entity,
                                                                    std::string_view key) const {
  if (!valid_entity(entity)) return bad_entity(entity);
  if (key.empty() || key.size() > 200)
    return make_error(storage_errc::invalid_argument, "idempotency key must be 1..200 bytes");
  std::optional<std::string> in_tail;
  auto t = begin_merged_read(*impl_, [&](const overlay& o) { in_tail = o.idempotency(entity, key); });
  if (!t) return t.error();
  if (in_tail) return in_tail;
  auto k = codec::pair_key(entity, key);
  std::string_view v;
  int rc = lmdb::get(t->get(), impl_->db.idem, k, v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>{};
  if (rc != 0) return lmdb::error_from(rc, fmt::format("idempotency of {}", entity));
  auto body = codec::unseal(k, v);
  if (!body || body->size() < 8)
    return ops::corrupted(fmt::format("idempotency record of entity {} damaged", entity));
  return std::optional{std::string(body->substr(8))};
}

caf::error journal::read_feed(uint64_t after, size_t max, const feed_visitor& visit) const {
  uint64_t tail_first = 0; // first position the overlay holds (0: none)
  std::vector<overlay::feed_item> tail_items;
  auto t = begin_merged_read(*impl_, [&](const overlay& o) {
    tail_first = o.feed_first();
    if (after != UINT64_MAX) o.feed(after, max, tail_items);
  });
  if (!t) return t.error();
  const auto& db = impl_->db;
  auto low = ops::meta_u64(t->get(), db, ops::meta_feed_low, 0);
  if (!low) return low.error();
  if (after < *low)
    return make_error(
        storage_errc::truncated,
        fmt::format("feed read after position {}: positions up to {} were truncated", after, *low));
  if (after == UINT64_MAX) return {}; // nothing can follow (and after + 1 would wrap)
  lmdb::cursor c{t->get(), db.log};
  uint64_t expected = after + 1;
  size_t n = 0;
  const bool lmdb_part = tail_first == 0 || after + 1 < tail_first;
  for (int rc = lmdb_part ? c.seek(codec::u64_key(after + 1)) : MDB_NOTFOUND;
       n < max && rc != MDB_NOTFOUND; rc = c.get(MDB_NEXT), ++n) {
    if (rc != 0) return lmdb::error_from(rc, "read feed");
    if (c.key().size() != 8) return ops::corrupted("feed key of wrong size");
    const uint64_t pos = codec::get_u64(c.key(), 0);
    if (tail_first != 0 && pos >= tail_first) break; // the overlay has these
    if (pos != expected)
      return ops::corrupted(
          fmt::format("feed position {} missing (next stored is {})", expected, pos));
    auto rec = codec::decode_log(c.key(), c.value());
    if (!rec) return ops::corrupted(fmt::format("feed record at position {} damaged", pos));
    if (!visit(pos, rec->entity, rec->seq, rec->payload)) return {};
    ++expected;
  }
  if (tail_first == 0 || n >= max) return {};
  if (lmdb_part && expected < tail_first)
    return ops::corrupted(fmt::format("feed positions {}..{} missing before the log's tail",
                                      expected, tail_first - 1));
  for (const auto& item : tail_items) {
    if (n++ >= max) break;
    if (!visit(item.position, item.entity, item.seq, item.bytes)) return {};
  }
  return {};
}

caf::expected<uint64_t> journal::feed_head() const {
  uint64_t tail_last = 0;
  auto t = begin_merged_read(*impl_, [&](const overlay& o) { tail_last = o.feed_last(); });
  if (!t) return t.error();
  if (tail_last != 0) return tail_last;
  auto next = ops::meta_u64(t->get(), impl_->db, ops::meta_feed_next, 1);
  if (!next) return next.error();
  return *next - 1;
}

caf::expected<journal::feed_bounds_t> journal::feed_bounds() const {
  uint64_t tail_last = 0;
  auto t = begin_merged_read(*impl_, [&](const overlay& o) { tail_last = o.feed_last(); });
  if (!t) return t.error();
  auto low = ops::meta_u64(t->get(), impl_->db, ops::meta_feed_low, 0);
  auto cursor = ops::meta_u64(t->get(), impl_->db, ops::meta_truncate_cursor, 0);
  auto next = ops::meta_u64(t->get(), impl_->db, ops::meta_feed_next, 1);
  if (!low) return low.error();
  if (!cursor) return cursor.error();
  if (!next) return next.error();
  return feed_bounds_t{*low, *cursor, tail_last != 0 ? tail_last : *next - 1};
}

caf::expected<std::optional<uint64_t>> journal::load_offset(std::string_view name) const {
  if (auto err = ops::check_offset_name(name)) return err;
  auto t = begin_read(impl_->env);
  if (!t) return t.error();
  std::string_view v;
  int rc = lmdb::get(t->get(), impl_->db.offsets, name, v);
  if (rc == MDB_NOTFOUND) return std::optional<uint64_t>{};
  if (rc != 0) return lmdb::error_from(rc, fmt::format("offset {}", name));
  auto position = ops::decode_offset(name, v);
  if (!position) return position.error();
  return std::optional{*position};
}

caf::expected<std::vector<std::pair<std::string, uint64_t>>>
journal::list_offsets(std::string_view prefix) const {
  auto t = begin_read(impl_->env);
  if (!t) return t.error();
  std::vector<std::pair<std::string, uint64_t>> out;
  lmdb::cursor c{t->get(), impl_->db.offsets};
  int rc = prefix.empty() ? c.get(MDB_FIRST) : c.seek(prefix);
  for (; rc != MDB_NOTFOUND; rc = c.get(MDB_NEXT)) {
    if (rc != 0) return lmdb::error_from(rc, "read offsets");
    auto name = c.key();
    if (name.substr(0, prefix.size()) != prefix) break;
    auto position = ops::decode_offset(name, c.value());
    if (!position) return position.error();
    out.emplace_back(std::string{name}, *position);
  }
  return out;
}

caf::error journal::due_timers(uint64_t now_ms, size_t max, const timer_visitor& visit) const {
  // Collected under the overlay's lock (a timer the tail changed overrides LMDB's copy), then
  // visited without it.
  std::vector<overlay::due_timer> due;
  {
    auto& p = *impl_;
    std::lock_guard<std::mutex> g{p.omu};
    due = p.tail.due(now_ms, max);
    auto t = begin_read(p.env);
    if (!t) return t.error();
    lmdb::cursor c{t->get(), p.db.timers};
    size_t n = 0;
    for (int rc = c.get(MDB_FIRST); n < max && rc != MDB_NOTFOUND; rc = c.get(MDB_NEXT)) {
      if (rc != 0) return lmdb::error_from(rc, "read timers");
      auto k = c.key();
      if (k.size() < 10) return ops::corrupted("timer key of wrong size");
      const uint64_t due_ms = codec::get_u64(k, 0);
      if (due_ms > now_ms) break;
      auto ids = codec::split_pair_key(k.substr(8));
      auto body = codec::unseal(k, c.value());
      if (!ids || !body) return ops::corrupted(fmt::format("timer due at {} ms damaged", due_ms));
      if (p.tail.timer(ids->first, ids->second)) continue; // the tail's version counts
      due.push_back(overlay::due_timer{std::string{ids->first}, std::string{ids->second},
                                       std::string{*body}, due_ms});
      ++n;
    }
  }
  std::stable_sort(due.begin(), due.end(),
                   [](const auto& a, const auto& b) { return a.due_ms < b.due_ms; });
  if (due.size() > max) due.resize(max);
  for (const auto& d : due)
    if (!visit(d.entity, d.timer_id, d.due_ms, d.payload)) return {};
  return {};
}

caf::expected<std::optional<std::string>>
journal::last_entity_with_prefix(std::string_view prefix) const {
  if (prefix.size() > 255) return std::optional<std::string>{};
  std::optional<std::string> best;
  auto t = begin_merged_read(*impl_, [&](const overlay& o) { best = o.last_entity_with_prefix(prefix); });
  if (!t) return t.error();
  lmdb::cursor c{t->get(), impl_->db.index};
  for (size_t len = std::max<size_t>(prefix.size(), 1); len <= 255; ++len) {
    std::string probe(1, static_cast<char>(len));
    probe.append(prefix);
    probe.append(len - prefix.size() + 8, '\xFF');
    int rc = c.seek(probe);
    if (rc == 0 && c.key() != probe)
      rc = c.get(MDB_PREV);
    else if (rc == MDB_NOTFOUND)
      rc = c.get(MDB_LAST);
    if (rc == MDB_NOTFOUND) continue;
    if (rc != 0) return lmdb::error_from(rc, "entity prefix scan");
    auto k = c.key();
    if (k.size() != len + 9 || static_cast<unsigned char>(k[0]) != len ||
        k.substr(1, prefix.size()) != prefix)
      continue;
    auto entity = k.substr(1, len);
    if (!best || entity > *best) best = std::string(entity);
  }
  return best;
}

} // namespace ordo::storage
