#pragma once
// The journal's counters as the runtime reports them (runtime::journal_stats()): group commits,
// their latency histogram, the shard log and its checkpoints. Relaxed counters since the store
// was opened, for monitoring and benchmarks (the node's /metrics shows them).

#include <array>
#include <cstddef>
#include <cstdint>

namespace ordo {

/// Upper bounds (µs) of the commit-latency histogram buckets; the last bucket is +Inf.
inline constexpr size_t journal_commit_latency_buckets = 12;
inline constexpr std::array<uint64_t, journal_commit_latency_buckets - 1>
  journal_commit_latency_bounds_us = {
    250, 500, 1'000, 2'000, 4'000, 8'000, 16'000, 32'000, 64'000, 128'000, 1'000'000};

struct journal_stats {
  uint64_t batches = 0;       // group commits attempted
  uint64_t requests = 0;      // requests in them
  uint64_t commit_us_sum = 0; // total time of the commits (begin → durable)
  std::array<uint64_t, journal_commit_latency_buckets> commit_buckets{}; // non-cumulative counts
  uint64_t queued = 0; // appends waiting for the writer now
  // The shard log and its checkpoints.
  uint64_t log_position = 0;      // last frame written (its position)
  uint64_t applied_position = 0;  // last frame applied to LMDB
  uint64_t log_bytes = 0;         // frame bytes appended since open
  uint64_t log_syncs = 0;         // fdatasyncs of the log since open
  uint64_t log_segments = 0;      // segment files now (spare included)
  uint64_t checkpoints = 0;       // checkpoints committed since open
  uint64_t checkpoint_us_sum = 0; // their total duration
  uint64_t checkpoint_records = 0; // records they applied
  uint64_t tail_bytes = 0;        // un-checkpointed batches held in memory now
  uint64_t tail_records = 0;
  uint64_t tail_waits = 0;        // batches that waited for a checkpoint (tail full)
  // Log appends (frame write + fdatasync) that overlapped a checkpoint's LMDB commit, and
  // those that did not: count and total time.
  uint64_t log_appends_overlap = 0, log_append_us_overlap = 0;
  uint64_t log_appends_quiet = 0, log_append_us_quiet = 0;
};

} // namespace ordo
