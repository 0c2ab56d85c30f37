// The group-commit writer: drains the queue in batches; validates each batch against LMDB and
// the overlay, writes the accepted requests as one frame of the shard log (one fdatasync),
// adds them to the overlay, then completes every request of the batch.

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include <fmt/core.h>

#include "storage/check.hpp"
#include "storage/journal_impl.hpp"
#include "storage/store_ops.hpp"

namespace ordo::storage {

namespace {

// What the requests accepted so far in this batch changed: later requests of the batch see it.
struct batch_view {
  std::unordered_map<std::string, uint64_t> last_seq;   // entity → last seq
  std::unordered_map<std::string, std::string> results; // pair_key(entity, key) → result
};

// The entity's last seq as of this point of the batch: the batch, the overlay, then LMDB.
caf::expected<uint64_t> current_last(MDB_txn* t, const lmdb::tables& db, const overlay& tail,
                                     const batch_view& bv, const std::string& entity) {
  if (auto it = bv.last_seq.find(entity); it != bv.last_seq.end()) return it->second;
  if (auto s = tail.last_seq(entity)) return *s;
  auto last = ops::find_last(t, db, entity);
  if (!last) return last.error();
  return last->seq;
}

// A stored result for the idempotency record, if any (duplicate), looked up in the same order.
caf::expected<std::optional<std::string>> stored_result(MDB_txn* t, const lmdb::tables& db,
                                                        const overlay& tail, const batch_view& bv,
                                                        const std::string& entity,
                                                        const std::string& key) {
  auto pk = codec::pair_key(entity, key);
  if (auto it = bv.results.find(pk); it != bv.results.end())
    return std::optional<std::string>{it->second};
  if (auto r = tail.idempotency(entity, key)) return r;
  std::string_view v;
  int rc = lmdb::get(t, db.idem, pk, v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string>{};
  if (rc != 0) return lmdb::error_from(rc, "idempotency lookup");
  auto body = codec::unseal(pk, v);
  if (!body || body->size() < 8)
    return ops::corrupted(fmt::format("idempotency record of entity {} damaged", entity));
  return std::optional{std::string(body->substr(8))};
}

// Checks one request against the state before it; on success assigns its seqs and feed
// positions and records its effects in `bv`. Refused requests change nothing.
caf::expected<append_result> validate(MDB_txn* t, const lmdb::tables& db, const overlay& tail,
                                      batch_view& bv, append_request& req, uint64_t& feed_next) {
  auto last = current_last(t, db, tail, bv, req.entity);
  if (!last) return last.error();
  if (*last != req.expected_seq)
    return make_error(storage_errc::sequence_conflict,
                      fmt::format("entity {}: expected seq {}, last is {}", req.entity,
                                  req.expected_seq, *last));
  for (auto& r : req.idempotency) {
    if (r.entity.empty()) r.entity = req.entity;
    auto found = stored_result(t, db, tail, bv, r.entity, r.key);
    if (!found) return found.error();
    if (*found)
      return make_duplicate_error(
          fmt::format("entity {}: idempotency key already stored", r.entity), std::move(**found));
  }
  const uint64_t new_last = req.expected_seq + req.events.size();
  if (req.snapshot && req.snapshot->seq > new_last)
    return make_error(storage_errc::invalid_argument,
                      fmt::format("entity {}: snapshot seq {} beyond last seq {}", req.entity,
                                  req.snapshot->seq, new_last));
  append_result res;
  res.first_seq = req.expected_seq + 1;
  res.last_seq = new_last;
  if (!req.events.empty()) {
    res.first_position = feed_next;
    res.last_position = feed_next + req.events.size() - 1;
    feed_next += req.events.size();
  }
  bv.last_seq[req.entity] = new_last;
  for (const auto& r : req.idempotency)
    bv.results[codec::pair_key(r.entity, r.key)] = r.result;
  return res;
}

void complete_all(std::vector<pending>& batch, const caf::error& err) {
  for (auto& p : batch)
    p.done(err);
}

} // namespace

void journal::impl::writer_loop() {
  pthread_setname_np(pthread_self(), "ordo-writer");
  std::vector<pending> batch;
  // Wait for more only while fewer are queued than the last batch held: submitters that were
  // answered together come back together, so that many are likely on their way; a lone
  // submitter (last batch 1) is not delayed — the wait was ~0.1 ms of its 0.45 ms commit.
  // The first batch waits for a full one.
  size_t expected = opts.batch_max_requests;
  for (;;) {
    batch.clear();
    {
      std::unique_lock<std::mutex> lk{mu};
      writer_wait = 1;
      cv.wait(lk, [&] { return !queue.empty() || stopping; });
      if (queue.empty()) break; // stopping and drained
      const size_t enough = std::min(expected, opts.batch_max_requests);
      if (queue.size() < enough && opts.batch_max_wait_us > 0 && !stopping) {
        writer_wait = 2;
        writer_enough = enough;
        cv.wait_for(lk, std::chrono::microseconds(opts.batch_max_wait_us),
                    [&] { return queue.size() >= enough || stopping; });
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
    expected = batch.size();
    if (failed.load()) {
      complete_all(batch, make_error(storage_errc::failed, describe(current_failure())));
      continue;
    }
    run_batch(batch);
  }
}

void journal::impl::record_commit_latency(uint64_t us) {
  commit_us_sum.fetch_add(us, std::memory_order_relaxed);
  size_t b = 0;
  while (b < commit_latency_bounds_us.size() && us > commit_latency_bounds_us[b])
    ++b;
  commit_buckets[b].fetch_add(1, std::memory_order_relaxed);
}

caf::error journal::impl::timed_append(const logfmt::logged_batch& b, std::string_view payload) {
  const uint64_t ended_before = ckpt_commits_ended.load();
  const bool busy_before = ckpt_commits_begun.load() != ended_before;
  const auto began = std::chrono::steady_clock::now();
  auto err = log->append(b.epoch, b.position, payload);
  const bool overlapped = busy_before || ckpt_commits_begun.load() != ended_before;
  (overlapped ? appends_overlap : appends_quiet).add(micros_since(began));
  return err;
}

void journal::impl::run_batch(std::vector<pending>& batch) {
  ORDO_STORAGE_CHECK(!batch.empty(), "empty batch");
  std::lock_guard<std::mutex> pause{writer_mu}; // standalone writes run between batches
  batches.fetch_add(1, std::memory_order_relaxed);
  batch_requests.fetch_add(batch.size(), std::memory_order_relaxed);
  const auto began = std::chrono::steady_clock::now();
  if (!admit_batch(batch)) return;

  std::vector<caf::expected<append_result>> results;
  std::vector<size_t> accepted; // indexes into batch, in order
  if (!validate_batch(batch, results, accepted)) return;
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i] && storage_errc_of(results[i].error()) == storage_errc::corrupted) {
      // The store's own records are damaged: stop writing rather than build on them.
      fail_stop(results[i].error());
      break;
    }
  if (!accepted.empty() && !failed.load()) {
    log_accepted(batch, results, accepted, began);
  } else if (!accepted.empty()) {
    auto err = make_error(storage_errc::failed, describe(current_failure()));
    for (auto i : accepted)
      results[i] = err;
  }
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i].done(std::move(results[i]));
}

bool journal::impl::admit_batch(std::vector<pending>& batch) {
  // The last checkpoint found no space: try again now (space may have been freed) and refuse
  // the batch while it still fails, so that the tail does not grow on a full disk.
  if (checkpoint_blocked()) {
    if (auto err = checkpoint_and_record(); err && !failed.load()) {
      complete_all(batch, err);
      return false;
    }
  }
  // Room in the tail: wait for the checkpointer rather than hold unbounded memory.
  if (tail_bytes.load(std::memory_order_relaxed) > opts.log_tail_max_bytes) {
    tail_waits.fetch_add(1, std::memory_order_relaxed);
    want_checkpoint();
    std::unique_lock<std::mutex> lk{ckpt_wait_mu};
    ckpt_done_cv.wait(lk, [&] {
      return tail_bytes.load(std::memory_order_relaxed) <= opts.log_tail_max_bytes || ckpt_stop ||
             failed.load() || static_cast<bool>(ckpt_full);
    });
    if (ckpt_full && tail_bytes.load() > opts.log_tail_max_bytes) {
      complete_all(batch, ckpt_full);
      return false;
    }
  }
  if (failed.load()) {
    complete_all(batch, make_error(storage_errc::failed, describe(current_failure())));
    return false;
  }
  return true;
}

bool journal::impl::validate_batch(std::vector<pending>& batch,
                                   std::vector<caf::expected<append_result>>& results,
                                   std::vector<size_t>& accepted) {
  results.reserve(batch.size());
  std::lock_guard<std::mutex> hold{removal_mu}; // the overlay keeps its batches meanwhile
  lmdb::txn t;
  if (int rc = t.begin(env, true); rc != 0) {
    auto err = lmdb::error_from(rc, "begin read txn for a batch");
    complete_all(batch, err);
    return false;
  }
  batch_view bv;
  uint64_t next = feed_next;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto r = validate(t.get(), db, tail, bv, batch[i].req, next);
    if (r) accepted.push_back(i);
    results.push_back(std::move(r));
  }
  return true;
}

void journal::impl::log_accepted(std::vector<pending>& batch,
                                 std::vector<caf::expected<append_result>>& results,
                                 const std::vector<size_t>& accepted,
                                 std::chrono::steady_clock::time_point began) {
  auto lb = std::make_shared<logfmt::logged_batch>();
  lb->epoch = opts.epoch;
  lb->position = log->next_position();
  lb->requests.reserve(accepted.size());
  for (auto i : accepted)
    lb->requests.push_back(logfmt::logged_request{std::move(batch[i].req),
                                                  results[i]->first_position});
  auto payload = logfmt::encode_batch(*lb);
  lb->bytes = payload.size();
  if (auto err = timed_append(*lb, payload)) {
    if (storage_errc_of(err) != storage_errc::storage_full) fail_stop(err);
    else want_checkpoint(); // no room for a segment: applying the tail releases segments
    for (auto i : accepted)
      results[i] = err;
    return;
  }
  for (const auto& lr : lb->requests)
    feed_next += lr.req.events.size();
  size_t records = 0;
  for (const auto& lr : lb->requests)
    records += logfmt::record_count(lr.req);
  {
    std::lock_guard<std::mutex> g{omu};
    tail.add(lb);
    tail_bytes.store(tail.bytes(), std::memory_order_relaxed);
    tail_records.store(tail.records(), std::memory_order_relaxed);
  }
  if (tail_records.load(std::memory_order_relaxed) >= opts.checkpoint_max_records)
    want_checkpoint();
  record_commit_latency(micros_since(began));
}

} // namespace ordo::storage
