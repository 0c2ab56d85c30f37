#pragma once
// Feed retention: a thread that, every `every`, removes from the store the events older than
// `retention` that every saved feed offset (the saga's, named consumers') has passed. The
// log is both the feed and each entity's history, so before truncating a stretch it writes a
// snapshot of every entity met there (the entity's current state, at its last sequence):
// an order's state survives, its early events go (journal::truncate_feed keeps each
// entity's last event, and anything a snapshot does not cover). Off by default: the events
// are the acknowledged history, and dropping them is an operator's choice (docs/runtime.md,
// "Feed retention").
//
// Work per round is bounded (batches × scan_batch records); each batch is one read of the
// feed, one transaction of snapshots and one of truncation, each holding LMDB's writer lock
// for a few ms between group commits.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "actors/runtime/periodic.hpp"
#include "storage/journal.hpp"

namespace ordo {

struct feed_retention_options {
  std::chrono::milliseconds retention{0}; // 0: keep the whole log (no thread)
  std::chrono::milliseconds every{60'000};
  size_t scan_batch = 2'000;      // feed records per batch (and at most as many snapshots)
  size_t batches_per_round = 250; // then wait for the next round (500K records a round)
};

class feed_retention {
public:
  /// The current state of a stored entity as a snapshot at its last sequence; nullopt when
  /// none is needed (a snapshot covers it already, or the kind is not one we rebuild).
  using snapshot_fn = std::function<caf::expected<std::optional<storage::journal::snapshot_entry>>(
      const std::string& entity)>;

  feed_retention(storage::journal& j, feed_retention_options o, std::function<int64_t()> now_ms,
                 snapshot_fn snapshot);
  ~feed_retention();
  feed_retention(const feed_retention&) = delete;
  feed_retention& operator=(const feed_retention&) = delete;

  /// Ends the thread (a round in progress finishes its current batch first).
  void stop();
  /// One round now, on the calling thread; an error says what stopped it.
  caf::error round();

  uint64_t removed() const { return removed_.load(); }     // log records deleted
  uint64_t snapshots() const { return snapshots_.load(); } // snapshots written for it

private:
  // The newest feed position whose event is older than `cutoff_ms` (within (from, head]).
  caf::expected<uint64_t> position_before(int64_t cutoff_ms, uint64_t from, uint64_t head);

  storage::journal& journal_;
  feed_retention_options opt_;
  std::function<int64_t()> now_ms_;
  snapshot_fn snapshot_;
  std::atomic<uint64_t> removed_{0}, snapshots_{0};
  std::mutex round_mu_; // one round at a time (the thread, or a test calling round())
  periodic thread_;     // last: stopped first when destroyed
};

} // namespace ordo
