// The group-commit writer: drains the queue in batches, one write transaction and one commit
// per batch, then completes every request of the batch.

#include <pthread.h>

#include <chrono>

#include <fmt/core.h>

#include "storage/check.hpp"
#include "storage/journal_impl.hpp"
#include "storage/store_ops.hpp"

namespace ordo::storage {

namespace {

// Outcome of applying one request inside the batch transaction. rc != 0: an LMDB write failed
// and the transaction is unusable (the whole batch fails).
struct applied {
  caf::expected<append_result> result{append_result{}};
  int rc = 0;
  std::string what;
};

applied apply(MDB_txn* t, const lmdb::tables& db, const append_request& req, uint64_t& feed_next) {
  applied out;
  auto last = ops::find_last(t, db, req.entity);
  if (!last) {
    out.result = last.error();
    return out;
  }
  if (last->seq != req.expected_seq) {
    out.result = make_error(storage_errc::sequence_conflict,
                            fmt::format("entity {}: expected seq {}, last is {}", req.entity,
                                        req.expected_seq, last->seq));
    return out;
  }
  // Every check happens before the first write, so a refused request writes nothing.
  for (const auto& r : req.idempotency) {
    const auto& ent = r.entity.empty() ? req.entity : r.entity;
    auto key = codec::pair_key(ent, r.key);
    std::string_view v;
    int rc = lmdb::get(t, db.idem, key, v);
    if (rc == MDB_NOTFOUND) continue;
    if (rc != 0) return applied{lmdb::error_from(rc, "idempotency lookup"), rc, "idem get"};
    auto body = codec::unseal(key, v);
    if (!body || body->size() < 8) {
      out.result = ops::corrupted(fmt::format("idempotency record of entity {} damaged", ent));
      return out;
    }
    out.result = make_duplicate_error(fmt::format("entity {}: idempotency key already stored", ent),
                                      std::string(body->substr(8)));
    return out;
  }
  const uint64_t new_last = req.expected_seq + req.events.size();
  bool write_snapshot = false;
  if (req.snapshot) {
    if (req.snapshot->seq > new_last) {
      out.result = make_error(storage_errc::invalid_argument,
                              fmt::format("entity {}: snapshot seq {} beyond last seq {}",
                                          req.entity, req.snapshot->seq, new_last));
      return out;
    }
    auto old = ops::find_snapshot(t, db, req.entity);
    write_snapshot = !old || !*old || (*old)->first <= req.snapshot->seq;
  }

  append_result res;
  res.first_seq = req.expected_seq + 1;
  res.last_seq = new_last;
  uint32_t prev_crc = last->rec_crc;
  auto fail = [&](int rc, const char* what) {
    out.rc = rc;
    out.what = fmt::format("{} for entity {}", what, req.entity);
    return out;
  };
  for (size_t i = 0; i < req.events.size(); ++i) {
    const uint64_t seq = req.expected_seq + 1 + i;
    const uint64_t pos = feed_next++;
    auto pos_key = codec::u64_key(pos);
    auto rec = codec::encode_log(pos_key, prev_crc, seq, req.entity, req.events[i]);
    prev_crc = codec::sealed_crc(rec);
    if (int rc = lmdb::put(t, db.log, pos_key, rec, MDB_APPEND); rc != 0)
      return fail(rc, "log put");
    auto ikey = codec::index_key(req.entity, seq);
    if (int rc = lmdb::put(t, db.index, ikey, codec::encode_index(ikey, pos, prev_crc)); rc != 0)
      return fail(rc, "index put");
    if (i == 0) res.first_position = pos;
    res.last_position = pos;
  }
  for (const auto& r : req.idempotency) {
    const auto& ent = r.entity.empty() ? req.entity : r.entity;
    auto key = codec::pair_key(ent, r.key);
    std::string body;
    codec::put_u64(body, req.now_ms);
    body.append(r.result);
    if (int rc = lmdb::put(t, db.idem, key, codec::seal(key, body)); rc != 0)
      return fail(rc, "idempotency put");
    auto ekey = codec::expiry_key(req.now_ms, ent, r.key);
    if (int rc = lmdb::put(t, db.idem_exp, ekey, codec::seal(ekey, {})); rc != 0)
      return fail(rc, "idempotency expiry put");
  }
  if (write_snapshot) {
    auto key = codec::entity_prefix(req.entity);
    std::string body;
    codec::put_u64(body, req.snapshot->seq);
    body.append(req.snapshot->bytes);
    if (int rc = lmdb::put(t, db.snap, key, codec::seal(key, body)); rc != 0)
      return fail(rc, "snapshot put");
  }
  for (const auto& id : req.timer_cancels)
    if (int rc = ops::cancel_timer(t, db, req.entity, id); rc != 0) return fail(rc, "timer cancel");
  for (const auto& s : req.timer_schedules) {
    if (int rc = ops::cancel_timer(t, db, req.entity, s.timer_id); rc != 0)
      return fail(rc, "timer replace");
    auto tkey = codec::timer_key(s.due_ms, req.entity, s.timer_id);
    if (int rc = lmdb::put(t, db.timers, tkey, codec::seal(tkey, s.payload)); rc != 0)
      return fail(rc, "timer put");
    auto ikey = codec::pair_key(req.entity, s.timer_id);
    if (int rc = lmdb::put(t, db.timer_ids, ikey, codec::seal(ikey, codec::u64_key(s.due_ms)));
        rc != 0)
      return fail(rc, "timer id put");
  }
  out.result = res;
  return out;
}

void complete_all(std::vector<pending>& batch, const caf::error& err) {
  for (auto& p : batch)
    p.done(err);
}

} // namespace

void journal::impl::writer_loop() {
  pthread_setname_np(pthread_self(), "ordo-writer");
  std::vector<pending> batch;
  for (;;) {
    batch.clear();
    {
      std::unique_lock<std::mutex> lk{mu};
      writer_wait = 1;
      cv.wait(lk, [&] { return !queue.empty() || stopping; });
      if (queue.empty()) break; // stopping and drained
      if (queue.size() < opts.batch_max_requests && opts.batch_max_wait_us > 0 && !stopping) {
        writer_wait = 2;
        cv.wait_for(lk, std::chrono::microseconds(opts.batch_max_wait_us),
                    [&] { return queue.size() >= opts.batch_max_requests || stopping; });
      }
      writer_wait = 0;
      size_t bytes = 0;
      while (!queue.empty() && batch.size() < opts.batch_max_requests &&
             (batch.empty() || bytes + queue.front().bytes <= opts.batch_max_bytes)) {
        bytes += queue.front().bytes;
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      queued.store(queue.size(), std::memory_order_relaxed);
    }
    if (failed.load()) {
      complete_all(batch, make_error(storage_errc::failed, describe(current_failure())));
      continue;
    }
    run_batch(batch);
  }
}

void journal::impl::record_commit_latency(std::chrono::steady_clock::duration d) {
  auto us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
  commit_us_sum.fetch_add(us, std::memory_order_relaxed);
  size_t b = 0;
  while (b < commit_latency_bounds_us.size() && us > commit_latency_bounds_us[b])
    ++b;
  commit_buckets[b].fetch_add(1, std::memory_order_relaxed);
}

void journal::impl::run_batch(std::vector<pending>& batch) {
  ORDO_STORAGE_CHECK(!batch.empty(), "empty batch");
  batches.fetch_add(1, std::memory_order_relaxed);
  batch_requests.fetch_add(batch.size(), std::memory_order_relaxed);
  const auto began = std::chrono::steady_clock::now();
  lmdb::txn t;
  if (int rc = t.begin(env, false); rc != 0) {
    auto err = make_error(storage_errc::io_error,
                          fmt::format("begin write txn: {} ({})", mdb_strerror(rc), rc));
    fail_stop(err);
    complete_all(batch, err);
    return;
  }
  auto next = ops::meta_u64(t.get(), db, ops::meta_feed_next, 1);
  if (!next) {
    // A damaged feed counter: refuse to write rather than reuse positions.
    fail_stop(next.error());
    complete_all(batch, next.error());
    return;
  }
  const uint64_t feed_start = *next;
  uint64_t feed_next = feed_start;
  std::vector<caf::expected<append_result>> results;
  results.reserve(batch.size());
  for (auto& p : batch) {
    auto a = apply(t.get(), db, p.req, feed_next);
    if (a.rc != 0) {
      t.abort();
      caf::error err;
      if (lmdb::is_full(a.rc)) {
        err = lmdb::error_from(a.rc, a.what);
      } else {
        err = make_error(storage_errc::io_error,
                         fmt::format("{}: {} ({})", a.what, mdb_strerror(a.rc), a.rc));
        fail_stop(err);
      }
      complete_all(batch, err);
      return;
    }
    results.push_back(std::move(a.result));
  }
  if (feed_next != feed_start) {
    if (int rc = ops::put_meta_u64(t.get(), db, ops::meta_feed_next, feed_next); rc != 0) {
      t.abort();
      auto err = lmdb::is_full(rc) ? lmdb::error_from(rc, "feed counter put")
                                   : make_error(storage_errc::io_error, "feed counter put");
      if (!lmdb::is_full(rc)) fail_stop(err);
      complete_all(batch, err);
      return;
    }
  }
  if (auto err = commit(t, fmt::format("batch of {} requests", batch.size()))) {
    complete_all(batch, err);
    return;
  }
  record_commit_latency(std::chrono::steady_clock::now() - began);
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i].done(std::move(results[i]));
}

} // namespace ordo::storage
