// The checkpointer: applies the log's tail (the overlay's batches) to LMDB in synced write
// transactions of about one log segment's worth each, each also recording the last log position
// it applied; after each it drops those batches from the overlay and deletes the log segments
// no longer needed.

#include <pthread.h>

#include <chrono>

#include <fmt/core.h>

#include "storage/check.hpp"
#include "storage/journal_impl.hpp"
#include "storage/store_ops.hpp"

namespace ordo::storage {

namespace {

// Outcome of applying one logged request: rc != 0 is an LMDB failure (the transaction is
// unusable); `mismatch` means the store does not continue where the log says it does.
struct apply_outcome {
  int rc = 0;
  std::string what;
  caf::error mismatch;
};

apply_outcome apply_logged(MDB_txn* t, const lmdb::tables& db, uint64_t batch_position,
                           const logfmt::logged_request& lr) {
  const auto& req = lr.req;
  apply_outcome out;
  auto fail = [&](int rc, const char* what) {
    out.rc = rc;
    out.what = fmt::format("{} for entity {}", what, req.entity);
    return out;
  };
  auto last = ops::find_last(t, db, req.entity);
  if (!last) {
    out.mismatch = last.error();
    return out;
  }
  if (last->seq != req.expected_seq) {
    out.mismatch = ops::corrupted(fmt::format("log position {}: entity {} continues after seq "
                                              "{} but the store's last seq is {}",
                                              batch_position, req.entity, req.expected_seq,
                                              last->seq));
    return out;
  }
  uint32_t prev_crc = last->rec_crc;
  for (size_t i = 0; i < req.events.size(); ++i) {
    const uint64_t seq = req.expected_seq + 1 + i;
    const uint64_t pos = lr.first_position + i;
    auto pos_key = codec::u64_key(pos);
    auto rec = codec::encode_log(pos_key, prev_crc, seq, req.entity, req.events[i]);
    prev_crc = codec::sealed_crc(rec);
    if (int rc = lmdb::put(t, db.log, pos_key, rec, MDB_APPEND); rc != 0)
      return fail(rc, "log put");
    auto ikey = codec::index_key(req.entity, seq);
    if (int rc = lmdb::put(t, db.index, ikey, codec::encode_index(ikey, pos, prev_crc)); rc != 0)
      return fail(rc, "index put");
  }
  for (const auto& r : req.idempotency) {
    auto key = codec::pair_key(r.entity, r.key);
    std::string body;
    codec::put_u64(body, req.now_ms);
    body.append(r.result);
    if (int rc = lmdb::put(t, db.idem, key, codec::seal(key, body)); rc != 0)
      return fail(rc, "idempotency put");
    auto ekey = codec::expiry_key(req.now_ms, r.entity, r.key);
    if (int rc = lmdb::put(t, db.idem_exp, ekey, codec::seal(ekey, {})); rc != 0)
      return fail(rc, "idempotency expiry put");
  }
  if (req.snapshot) {
    auto old = ops::find_snapshot(t, db, req.entity);
    if (!old) {
      out.mismatch = old.error();
      return out;
    }
    if (!*old || (*old)->first <= req.snapshot->seq) {
      auto key = codec::entity_prefix(req.entity);
      std::string body;
      codec::put_u64(body, req.snapshot->seq);
      body.append(req.snapshot->bytes);
      if (int rc = lmdb::put(t, db.snap, key, codec::seal(key, body)); rc != 0)
        return fail(rc, "snapshot put");
    }
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
  return out;
}

} // namespace

void journal::impl::want_checkpoint() {
  {
    std::lock_guard<std::mutex> g{ckpt_wait_mu};
    ckpt_wanted = true;
  }
  ckpt_cv.notify_one();
}

caf::error journal::impl::run_checkpoint() {
  std::vector<overlay::batch_ptr> todo;
  {
    std::lock_guard<std::mutex> g{omu};
    todo.assign(tail.batches().begin(), tail.batches().end());
  }
  if (todo.empty()) return {};
  if (failed.load()) return make_error(storage_errc::failed, describe(current_failure()));
  // One transaction per segment's worth of batches, releasing segments after each: applying
  // a large tail on a nearly full disk then needs room for about one segment's worth in LMDB,
  // not for the whole tail while the log still holds it. A chunk that fails for space leaves
  // the chunks before it applied; the next checkpoint continues from there.
  size_t first = 0;
  while (first < todo.size()) {
    size_t end = first, bytes = 0;
    while (end < todo.size() &&
           (end == first || bytes + todo[end]->bytes <= opts.log_segment_bytes))
      bytes += todo[end++]->bytes;
    if (auto err = apply_chunk(todo.data() + first, end - first)) return err;
    first = end;
  }
  return {};
}

caf::error journal::impl::apply_chunk(const overlay::batch_ptr* chunk, size_t count) {
  const auto began = std::chrono::steady_clock::now();
  lmdb::txn t;
  if (int rc = t.begin(env, false); rc != 0) {
    auto err = make_error(storage_errc::io_error,
                          fmt::format("begin checkpoint txn: {} ({})", mdb_strerror(rc), rc));
    fail_stop(err);
    return err;
  }
  uint64_t feed_after = 0, records = 0;
  for (size_t i = 0; i < count; ++i) {
    const auto& b = chunk[i];
    for (const auto& lr : b->requests) {
      auto out = apply_logged(t.get(), db, b->position, lr);
      if (out.mismatch) {
        t.abort();
        fail_stop(out.mismatch);
        return out.mismatch;
      }
      if (out.rc != 0) {
        t.abort();
        if (lmdb::is_full(out.rc)) return lmdb::error_from(out.rc, "checkpoint: " + out.what);
        auto err = make_error(storage_errc::io_error, fmt::format("checkpoint: {}: {} ({})",
                                                                  out.what, mdb_strerror(out.rc),
                                                                  out.rc));
        fail_stop(err);
        return err;
      }
      if (!lr.req.events.empty()) feed_after = lr.first_position + lr.req.events.size();
      records += logfmt::record_count(lr.req);
    }
  }
  const uint64_t through = chunk[count - 1]->position;
  int rc = 0;
  if (feed_after != 0) rc = ops::put_meta_u64(t.get(), db, ops::meta_feed_next, feed_after);
  if (rc == 0) rc = ops::put_meta_u64(t.get(), db, ops::meta_log_applied, through);
  if (rc != 0) {
    t.abort();
    if (lmdb::is_full(rc)) return lmdb::error_from(rc, "checkpoint meta put");
    auto err = make_error(storage_errc::io_error, "checkpoint meta put");
    fail_stop(err);
    return err;
  }
  ckpt_commits_begun.fetch_add(1);
  auto committed = commit(t, fmt::format("checkpoint through log position {}", through));
  ckpt_commits_ended.fetch_add(1);
  if (committed) return committed; // commit() fail-stopped unless the disk is full
  {
    std::lock_guard<std::mutex> r{removal_mu};
    std::lock_guard<std::mutex> g{omu};
    tail.remove_through(through);
    tail_bytes.store(tail.bytes(), std::memory_order_relaxed);
    tail_records.store(tail.records(), std::memory_order_relaxed);
  }
  applied.store(through);
  checkpoints.fetch_add(1, std::memory_order_relaxed);
  checkpoint_records.fetch_add(records, std::memory_order_relaxed);
  checkpoint_us_sum.fetch_add(micros_since(began), std::memory_order_relaxed);
  ckpt_done_cv.notify_all();
  if (auto released = log->release_up_to(through); !released) {
    // Old segments that stay cost disk space only; recovery skips applied frames.
    fmt::print(stderr, "[storage] journal {}: {}\n", opts.dir, describe(released.error()));
  }
  return {};
}

caf::error journal::impl::checkpoint_and_record() {
  caf::error err;
  {
    std::lock_guard<std::mutex> g{ckpt_mu};
    err = run_checkpoint();
  }
  std::lock_guard<std::mutex> lk{ckpt_wait_mu};
  ckpt_full = storage_errc_of(err) == storage_errc::storage_full ? err : caf::error{};
  return err;
}

bool journal::impl::checkpoint_blocked() {
  std::lock_guard<std::mutex> lk{ckpt_wait_mu};
  return static_cast<bool>(ckpt_full);
}

void journal::impl::checkpointer_loop() {
  pthread_setname_np(pthread_self(), "ordo-checkpoint");
  const auto interval = std::chrono::milliseconds(opts.checkpoint_interval_ms);
  for (;;) {
    {
      std::unique_lock<std::mutex> lk{ckpt_wait_mu};
      ckpt_cv.wait_for(lk, interval, [&] { return ckpt_wanted || ckpt_stop; });
      if (ckpt_stop) break;
      ckpt_wanted = false;
    }
    if (checkpoint_and_record()) ckpt_done_cv.notify_all();
    if (failed.load()) {
      ckpt_done_cv.notify_all();
      continue; // nothing more to apply; wait for close
    }
    if (auto spare = log->prepare_spare(); spare && storage_errc_of(spare) != storage_errc::storage_full)
      fmt::print(stderr, "[storage] journal {}: preparing the next log segment: {}\n", opts.dir,
                 describe(spare));
  }
}

} // namespace ordo::storage
