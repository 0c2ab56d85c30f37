#pragma once
// Internal: the state behind journal — the env, the bounded queue and the writer thread.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "storage/dir_lock.hpp"
#include "storage/journal.hpp"
#include "storage/lmdb_util.hpp"

namespace ordo::storage {

struct pending {
  append_request req;
  completion done;
  size_t bytes = 0;
};

struct journal::impl {
  journal_options opts;
  std::optional<dir_lock> lock; // held while the environment is open
  MDB_env* env = nullptr;
  lmdb::tables db;

  std::mutex mu;
  std::condition_variable cv;
  std::deque<pending> queue; // guarded by mu
  bool stopping = false;     // guarded by mu
  int writer_wait = 0;       // guarded by mu: 0 busy, 1 idle, 2 filling a batch
  caf::error fail_error;     // guarded by mu; sticky once set
  std::atomic<bool> failed{false};
  std::atomic<uint64_t> batches{0}, batch_requests{0};
  // Monitoring: commit latency (write txn begin → durable commit) as a histogram over
  // journal::commit_latency_bounds_us, and how many appends wait for the writer.
  std::atomic<uint64_t> commit_us_sum{0};
  std::array<std::atomic<uint64_t>, journal::commit_latency_buckets> commit_buckets{};
  std::atomic<uint64_t> queued{0};
  std::thread writer;
  std::mutex close_mu;
  bool closed = false; // guarded by close_mu

  ~impl();
  void writer_loop();
  void run_batch(std::vector<pending>& batch);
  void record_commit_latency(std::chrono::steady_clock::duration d);
  /// Makes the journal fail-stop with `err` (first error wins).
  void fail_stop(caf::error err);
  caf::error current_failure();
  /// Commits `t`, classifying failures (storage_full, or io_error + fail-stop).
  caf::error commit(lmdb::txn& t, const std::string& what);
};

/// Validates sizes on the submitting thread; returns the request's byte weight.
caf::expected<size_t> validate_request(const append_request& req, const journal_options& o);

} // namespace ordo::storage
