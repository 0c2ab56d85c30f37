#include "storage/journal.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <unordered_map>

#include <fmt/core.h>

#include "storage/check.hpp"
#include "storage/log_format.hpp"
#include "storage/journal_impl.hpp"
#include "storage/store_ops.hpp"

namespace ordo::storage {

namespace {

// Checkpoints are fully synced in full_sync and no_meta_sync alike: the log segments they
// release are deleted right after, so a checkpoint's meta page must be on disk first (with
// MDB_NOMETASYNC a power loss could roll LMDB back behind a deleted segment).
unsigned env_flags(durability mode) {
  unsigned f = MDB_NOTLS;
  if (mode == durability::no_sync) f |= MDB_NOSYNC;
  return f;
}

// Creates the tables and the format record on first open; refuses newer formats.
caf::error init_store(journal::impl& p) {
  lmdb::txn t;
  if (int rc = t.begin(p.env, false); rc != 0) return lmdb::error_from(rc, "begin init txn");
  if (int rc = lmdb::open_tables(t.get(), true, p.db); rc != 0)
    return lmdb::error_from(rc, "open tables");
  std::string_view v;
  auto key = ops::meta_format_version;
  int rc = lmdb::get(t.get(), p.db.meta, key, v);
  if (rc == MDB_NOTFOUND) {
    std::string body;
    codec::put_u32(body, format_version);
    rc = lmdb::put(t.get(), p.db.meta, key, codec::seal(key, body));
    if (rc == 0) rc = ops::put_meta_u64(t.get(), p.db, ops::meta_feed_next, 1);
    if (rc == 0) rc = ops::put_meta_u64(t.get(), p.db, ops::meta_feed_low, 0);
    if (rc != 0) return lmdb::error_from(rc, "write format record");
  } else if (rc != 0) {
    return lmdb::error_from(rc, "read format record");
  } else {
    auto body = codec::unseal(key, v);
    if (!body || body->size() != 4)
      return make_error(storage_errc::corrupted,
                        fmt::format("store {}: format version record damaged", p.opts.dir));
    auto found = codec::get_u32(*body, 0);
    if (found > format_version)
      return make_error(storage_errc::format_too_new,
                        fmt::format("store {} has format version {}, this build reads up to {}: "
                                    "open it with a newer Ordo",
                                    p.opts.dir, found, format_version));
    if (found < format_version) {
      // From now on acknowledged data may live only in the shard log, which older builds
      // would not read: mark the store so that they refuse it.
      std::string upgraded;
      codec::put_u32(upgraded, format_version);
      rc = lmdb::put(t.get(), p.db.meta, key, codec::seal(key, upgraded));
      if (rc != 0) return lmdb::error_from(rc, "upgrade format record");
    }
  }
  if (int crc = t.commit(); crc != 0) return lmdb::error_from(crc, "commit init txn");
  return {};
}

// Makes the names in `dir` (data.mdb, lock.mdb, ordo.lock) and `dir` itself in its parent
// durable. Without it a new store's file can vanish at a power loss on a file system that
// only promises what POSIX does (the power-loss test's strict-directory case).
caf::error sync_directory(const std::string& dir) {
  for (const auto& d : {std::filesystem::path{dir}, std::filesystem::path{dir}.parent_path()}) {
    if (d.empty()) continue;
    int fd = ::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
      return make_error(storage_errc::lmdb_error,
                        fmt::format("cannot open directory {} to sync it: {}", d.string(),
                                    std::strerror(errno)));
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0)
      return make_error(storage_errc::io_error,
                        fmt::format("fsync of directory {}: {}", d.string(), std::strerror(err)));
  }
  return {};
}

std::optional<uint64_t> free_space_bytes(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return std::nullopt;
  return uint64_t{st.f_bavail} * st.f_frsize;
}

// Opens the shard log and replays its frames after the store's last checkpoint into the
// overlay, checking that they continue the store (feed positions, entity seqs).
caf::error open_log(journal::impl& p) {
  lmdb::txn t; // one read snapshot for the counters and every replay check
  if (int rc = t.begin(p.env, true); rc != 0) return lmdb::error_from(rc, "begin read txn");
  auto a = ops::meta_u64(t.get(), p.db, ops::meta_log_applied, 0);
  if (!a) return a.error();
  auto next = ops::meta_u64(t.get(), p.db, ops::meta_feed_next, 1);
  if (!next) return next.error();
  const uint64_t applied = *a;
  p.feed_next = *next;
  shard_log_options lo;
  lo.dir = p.opts.dir + "/log";
  lo.segment_bytes = p.opts.log_segment_bytes;
  lo.sync = p.opts.mode != durability::no_sync;
  // Each frame is decoded straight from the segment's mapping, checked against the store and
  // the frames before it, and indexed.
  auto replay = [&](uint64_t epoch, uint64_t position, std::string_view payload) -> caf::error {
    auto requests = logfmt::decode_batch(payload);
    if (!requests)
      return make_error(storage_errc::corrupted,
                        fmt::format("log {} position {}: frame checksum holds but its batch does "
                                    "not decode",
                                    p.opts.dir, position));
    auto b = std::make_shared<logfmt::logged_batch>();
    b->epoch = epoch;
    b->position = position;
    b->bytes = payload.size();
    b->requests = std::move(*requests);
    std::unordered_map<std::string, uint64_t> frame_last; // earlier requests of this frame
    for (const auto& lr : b->requests) {
      uint64_t last = 0;
      if (auto it = frame_last.find(lr.req.entity); it != frame_last.end()) {
        last = it->second;
      } else if (auto s = p.tail.last_seq(lr.req.entity)) {
        last = *s;
      } else {
        auto l = ops::find_last(t.get(), p.db, lr.req.entity);
        if (!l) return l.error();
        last = l->seq;
      }
      if (last != lr.req.expected_seq || lr.req.entity.empty() || lr.req.entity.size() > 255)
        return make_error(storage_errc::corrupted,
                          fmt::format("log {} position {}: entity {} continues after seq {} but "
                                      "the store's last seq is {}",
                                      p.opts.dir, position, lr.req.entity, lr.req.expected_seq,
                                      last));
      if (!lr.req.events.empty()) {
        if (lr.first_position != p.feed_next)
          return make_error(storage_errc::corrupted,
                            fmt::format("log {} position {}: feed position {} where {} is due",
                                        p.opts.dir, position, lr.first_position, p.feed_next));
        p.feed_next += lr.req.events.size();
      }
      frame_last[lr.req.entity] = lr.req.expected_seq + lr.req.events.size();
    }
    p.tail.add(b);
    return {};
  };
  auto log = shard_log::open(lo, applied, replay);
  if (!log) return log.error();
  p.log = std::move(*log);
  p.applied = applied;
  p.tail_bytes = p.tail.bytes();
  p.tail_records = p.tail.records();
  return {};
}

} // namespace

caf::expected<size_t> validate_request(const append_request& req, const journal_options& o) {
  auto bad = [](std::string what) { return make_error(storage_errc::invalid_argument, what); };
  auto big = [&](std::string_view what, size_t n) {
    return make_error(storage_errc::record_too_large,
                      fmt::format("entity {}: {} is {} bytes, limit {}", req.entity, what, n,
                                  o.record_max_bytes));
  };
  if (req.entity.empty() || req.entity.size() > 255)
    return bad(fmt::format("entity must be 1..255 bytes, is {}", req.entity.size()));
  size_t bytes = 0;
  for (const auto& e : req.events) {
    if (e.size() > o.record_max_bytes) return big("event", e.size());
    bytes += e.size();
  }
  for (const auto& r : req.idempotency) {
    if (r.entity.size() > 255) return bad("idempotency entity longer than 255 bytes");
    if (r.key.empty() || r.key.size() > 200) return bad("idempotency key must be 1..200 bytes");
    if (r.result.size() > o.record_max_bytes) return big("idempotency result", r.result.size());
    bytes += r.result.size();
  }
  if (req.snapshot) {
    if (req.snapshot->bytes.size() > o.record_max_bytes)
      return big("snapshot", req.snapshot->bytes.size());
    if (req.snapshot->seq == 0) return bad("snapshot seq must be ≥ 1");
    bytes += req.snapshot->bytes.size();
  }
  for (const auto& s : req.timer_schedules) {
    if (s.timer_id.empty() || s.timer_id.size() > 200) return bad("timer id must be 1..200 bytes");
    if (s.payload.size() > o.record_max_bytes) return big("timer payload", s.payload.size());
    bytes += s.payload.size();
  }
  for (const auto& id : req.timer_cancels)
    if (id.empty() || id.size() > 200) return bad("timer id must be 1..200 bytes");
  return bytes;
}

journal::journal(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

journal::~journal() {
  close();
}

journal::impl::~impl() {
  if (env != nullptr) mdb_env_close(env);
}

caf::expected<std::unique_ptr<journal>> journal::open(journal_options o) {
  if (o.dir.empty()) return make_error(storage_errc::invalid_argument, "options.dir is empty");
  if (o.batch_max_requests == 0 || o.queue_max_requests == 0 || o.record_max_bytes == 0 ||
      o.record_max_bytes > (size_t{256} << 20))
    return make_error(storage_errc::invalid_argument, "batch/queue/record limits out of range");
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec)
    return make_error(storage_errc::lmdb_error,
                      fmt::format("cannot create {}: {}", o.dir, ec.message()));
  auto p = std::make_unique<impl>();
  auto lock = dir_lock::acquire(o.dir);
  if (!lock) return lock.error();
  p->lock = std::move(*lock);
  p->opts = std::move(o);
  int rc = mdb_env_create(&p->env);
  if (rc == 0) rc = mdb_env_set_maxdbs(p->env, 16);
  if (rc == 0) rc = mdb_env_set_maxreaders(p->env, p->opts.max_readers);
  if (rc == 0) rc = mdb_env_set_mapsize(p->env, p->opts.map_size_bytes);
  if (rc == 0) rc = mdb_env_open(p->env, p->opts.dir.c_str(), env_flags(p->opts.mode), 0644);
  if (rc != 0) return lmdb::error_from(rc, fmt::format("open store {}", p->opts.dir));
  if (auto err = init_store(*p)) return err;
  if (auto err = open_log(*p)) return err;
  if (p->opts.mode != durability::no_sync)
    if (auto err = sync_directory(p->opts.dir)) return err;
  auto* raw = p.get();
  raw->writer = std::thread([raw] { raw->writer_loop(); });
  raw->checkpointer = std::thread([raw] { raw->checkpointer_loop(); });
  return std::unique_ptr<journal>(new journal(std::move(p)));
}

caf::error journal::submit(append_request req, completion done) {
  ORDO_STORAGE_CHECK(static_cast<bool>(done), "submit without a completion for {}", req.entity);
  auto bytes = validate_request(req, impl_->opts);
  if (!bytes) return bytes.error();
  auto& p = *impl_;
  std::unique_lock<std::mutex> lk{p.mu};
  if (p.fail_error) return make_error(storage_errc::failed, describe(p.fail_error));
  if (p.stopping) return make_error(storage_errc::closed, "journal is closing");
  if (p.queue.size() >= p.opts.queue_max_requests)
    return make_error(storage_errc::overloaded,
                      fmt::format("submit queue full ({} requests)", p.opts.queue_max_requests));
  p.queue.push_back(pending{std::move(req), std::move(done), *bytes});
  p.queued.store(p.queue.size(), std::memory_order_relaxed);
  bool wake =
      p.writer_wait == 1 || (p.writer_wait == 2 && p.queue.size() >= p.writer_enough);
  lk.unlock();
  if (wake) p.cv.notify_one();
  return {};
}

void journal::close() {
  auto& p = *impl_;
  std::lock_guard<std::mutex> g{p.close_mu};
  if (p.closed) return;
  p.closed = true;
  {
    std::lock_guard<std::mutex> lk{p.mu};
    p.stopping = true;
  }
  p.cv.notify_all();
  if (p.writer.joinable()) p.writer.join();
  {
    std::lock_guard<std::mutex> lk{p.ckpt_wait_mu};
    p.ckpt_stop = true;
  }
  p.ckpt_cv.notify_all();
  p.ckpt_done_cv.notify_all();
  if (p.checkpointer.joinable()) p.checkpointer.join();
  if (p.log && !p.failed.load()) {
    // A clean close leaves an empty tail: the next open replays nothing.
    std::lock_guard<std::mutex> g{p.ckpt_mu};
    if (auto err = p.run_checkpoint())
      fmt::print(stderr, "[storage] journal {}: last checkpoint at close: {}\n", p.opts.dir,
                 describe(err));
  }
  p.log.reset();
  mdb_env_close(p.env);
  p.env = nullptr;
  p.lock.reset(); // after the environment: the next process may open it now
}

journal::stats_t journal::stats() const {
  stats_t s;
  s.batches = impl_->batches.load(std::memory_order_relaxed);
  s.requests = impl_->batch_requests.load(std::memory_order_relaxed);
  s.commit_us_sum = impl_->commit_us_sum.load(std::memory_order_relaxed);
  for (size_t i = 0; i < commit_latency_buckets; ++i)
    s.commit_buckets[i] = impl_->commit_buckets[i].load(std::memory_order_relaxed);
  s.queued = impl_->queued.load(std::memory_order_relaxed);
  auto& p = *impl_;
  s.applied_position = p.applied.load(std::memory_order_relaxed);
  s.checkpoints = p.checkpoints.load(std::memory_order_relaxed);
  s.checkpoint_us_sum = p.checkpoint_us_sum.load(std::memory_order_relaxed);
  s.checkpoint_records = p.checkpoint_records.load(std::memory_order_relaxed);
  s.tail_bytes = p.tail_bytes.load(std::memory_order_relaxed);
  s.tail_records = p.tail_records.load(std::memory_order_relaxed);
  s.tail_waits = p.tail_waits.load(std::memory_order_relaxed);
  s.log_appends_overlap = p.appends_overlap.n.load(std::memory_order_relaxed);
  s.log_append_us_overlap = p.appends_overlap.us.load(std::memory_order_relaxed);
  s.log_appends_quiet = p.appends_quiet.n.load(std::memory_order_relaxed);
  s.log_append_us_quiet = p.appends_quiet.us.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> g{p.close_mu};
  if (p.log) {
    auto ls = p.log->stats();
    s.log_position = p.log->next_position() - 1;
    s.log_bytes = ls.bytes_written;
    s.log_syncs = ls.syncs;
    s.log_segments = ls.segments;
  }
  return s;
}

caf::error journal::fail_stop_error() const {
  return impl_->current_failure();
}

void journal::impl::fail_stop(caf::error err) {
  std::lock_guard<std::mutex> lk{mu};
  if (!fail_error) {
    fmt::print(stderr, "[storage] journal {} FAIL-STOPPED: {}\n", opts.dir, describe(err));
    fail_error = std::move(err);
  }
  failed = true;
}

caf::error journal::impl::current_failure() {
  std::lock_guard<std::mutex> lk{mu};
  return fail_error;
}

caf::error journal::impl::commit(lmdb::txn& t, const std::string& what) {
  int rc = t.commit();
  if (rc == 0) return {};
  if (lmdb::is_full(rc)) return lmdb::error_from(rc, what);
  // LMDB 0.9.24 turns a short write (the disk filled up mid-write) into EIO. Nothing of the
  // failed transaction is referenced by a meta page, so with the file system (nearly) full we
  // report storage_full instead of fail-stopping. A failed fdatasync never gets here with a
  // full disk in practice; if it did, the batch still fails and is never acknowledged.
  if (rc == EIO) {
    if (auto free_bytes = free_space_bytes(opts.dir); free_bytes && *free_bytes < (1u << 20))
      return make_error(storage_errc::storage_full,
                        fmt::format("{}: short write (LMDB reports EIO) with {} bytes free on "
                                    "the file system: disk full",
                                    what, *free_bytes));
  }
  auto err = make_error(
      storage_errc::io_error,
      fmt::format("{}: commit failed: {} ({}); journal fail-stopped", what, mdb_strerror(rc), rc));
  fail_stop(err);
  return err;
}

} // namespace ordo::storage
