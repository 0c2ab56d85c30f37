#pragma once
// Internal: the state behind journal — the env, the shard log, the overlay of the log's
// un-checkpointed tail, the bounded queue, the writer thread and the checkpointer thread.
//
// THE COMMIT PATH. The writer validates a batch against LMDB + the overlay, writes the
// accepted requests as one frame to the shard log (one fdatasync), adds the batch to the
// overlay, then completes the requests. The checkpointer applies the overlay's batches to LMDB
// in one synced transaction that also records the last applied log position, then removes
// them from the overlay and deletes the log segments it no longer needs.
//
// THE OVERLAY'S LOCKS. Readers see LMDB ∪ overlay, and must never see a batch in neither:
// the checkpointer removes a batch from the overlay only after the LMDB commit holding it.
//   omu         guards the overlay's structure. A reader takes it, copies what it needs from
//               the overlay AND begins its LMDB read transaction, then releases it: whatever
//               the overlay lacks then, that transaction's snapshot has. (It may have both: the
//               overlay's copy is the same data and wins.)
//   removal_mu  held by the writer while it validates a batch (it reads the overlay without
//               omu: only it adds, and removal waits for this lock), and by the checkpointer
//               around remove_through.
//   writer_mu   held by the writer for each batch; a standalone write takes it to pause the
//               writer, checkpoints everything, then writes LMDB directly.
//   ckpt_mu     one checkpoint at a time (the checkpointer thread, standalone writes, close).
// Lock order: writer_mu → ckpt_mu → removal_mu → omu.

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
#include "storage/overlay.hpp"
#include "storage/shard_log.hpp"

namespace ordo::storage {

struct pending {
  append_request req;
  completion done;
  size_t bytes = 0;
};

/// Microseconds from `t0` until now (the journal's timing counters).
inline uint64_t micros_since(std::chrono::steady_clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - t0)
                                   .count());
}

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
  size_t writer_enough = 0;  // guarded by mu: while filling, the queue size that ends the wait
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

  // The shard log and its tail (see the comment at the top).
  std::unique_ptr<shard_log> log;
  overlay tail;                   // guarded by omu (see above)
  uint64_t feed_next = 1;         // writer thread: the next feed position to assign
  std::atomic<uint64_t> applied{0}; // last log position applied to LMDB
  std::mutex omu, removal_mu, writer_mu, ckpt_mu;
  std::mutex ckpt_wait_mu;                // guards the three below
  std::condition_variable ckpt_cv;        // wakes the checkpointer
  std::condition_variable ckpt_done_cv;   // wakes a writer waiting for room in the tail
  bool ckpt_stop = false, ckpt_wanted = false;
  caf::error ckpt_full;                   // the last checkpoint found no space (retried)
  std::thread checkpointer;
  std::atomic<uint64_t> checkpoints{0}, checkpoint_us_sum{0}, checkpoint_records{0};
  // Checkpoint commits begun and ended (their page write-out and syncs): a log append that
  // overlaps one is counted apart, to see what the checkpoint's I/O costs the commit point.
  std::atomic<uint64_t> ckpt_commits_begun{0}, ckpt_commits_ended{0};
  struct timed_count {
    std::atomic<uint64_t> n{0}, us{0};
    void add(uint64_t micros) {
      n.fetch_add(1, std::memory_order_relaxed);
      us.fetch_add(micros, std::memory_order_relaxed);
    }
  };
  timed_count appends_quiet, appends_overlap;
  std::atomic<uint64_t> tail_bytes{0}, tail_records{0}, tail_waits{0};

  ~impl();
  void writer_loop();
  void run_batch(std::vector<pending>& batch);
  /// False (the batch answered) while a full disk or a full tail refuses it, or after a fail-stop.
  bool admit_batch(std::vector<pending>& batch);
  /// Each request checked against LMDB and the tail in one read transaction; `accepted` holds
  /// the indexes of those that passed. False (the batch answered) if the transaction failed.
  bool validate_batch(std::vector<pending>& batch,
                      std::vector<caf::expected<append_result>>& results,
                      std::vector<size_t>& accepted);
  /// The accepted requests as one log frame (one sync), then into the tail.
  void log_accepted(std::vector<pending>& batch,
                    std::vector<caf::expected<append_result>>& results,
                    const std::vector<size_t>& accepted,
                    std::chrono::steady_clock::time_point began);
  void checkpointer_loop();
  /// Applies every batch in the overlay to LMDB (synced transactions of about one segment's
  /// worth each, see apply_chunk) and releases them. Under ckpt_mu. storage_full is returned
  /// (and retried later); other failures fail-stop.
  caf::error run_checkpoint();
  /// One checkpoint transaction applying `count` consecutive tail batches from `chunk`.
  caf::error apply_chunk(const overlay::batch_ptr* chunk, size_t count);
  /// run_checkpoint under ckpt_mu, remembering a storage_full (ckpt_full) for the writer.
  caf::error checkpoint_and_record();
  /// The last checkpoint failed for lack of space.
  bool checkpoint_blocked();
  /// Asks the checkpointer to run soon.
  void want_checkpoint();
  void record_commit_latency(uint64_t us);
  /// Appends the batch's frame to the log, timing it apart when a checkpoint commit overlapped.
  caf::error timed_append(const logfmt::logged_batch& b, std::string_view payload);
  /// Makes the journal fail-stop with `err` (first error wins).
  void fail_stop(caf::error err);
  caf::error current_failure();
  /// Commits `t`, classifying failures (storage_full, or io_error + fail-stop).
  caf::error commit(lmdb::txn& t, const std::string& what);
};

/// Validates sizes on the submitting thread; returns the request's byte weight.
caf::expected<size_t> validate_request(const append_request& req, const journal_options& o);

} // namespace ordo::storage
