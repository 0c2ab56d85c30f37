#pragma once
// Feed retention: an actor on the runtime's actor system (periodic_steps.hpp) that, every
// `every`, removes from the store the events older than `retention` that every saved feed
// offset (the saga's, named consumers') has passed. The log is both the feed and each
// entity's history, so before truncating a stretch it writes a snapshot of every entity met
// there (the entity's current state, at its last sequence): an order's state survives, its
// early events go (journal::truncate_feed keeps each entity's last event, and anything a
// snapshot does not cover). Off by default: the events are the acknowledged history, and
// dropping them is an operator's choice (docs/runtime.md, "Feed retention").
//
// A round is at most batches_per_round steps. A step is one batch: one read of the feed,
// one transaction of snapshots and one of truncation (or one truncation call finishing a
// truncation left unfinished), each holding LMDB's writer lock for a few ms between group
// commits. The actor runs one step per message; round() runs a whole round on the calling
// thread (runtime::trim_feed). Steps and rounds are serialized by one mutex: a synchronous
// round holds it throughout, and an actor step that finds it held does nothing and leaves
// the rest to the next round, so the two never interleave and no scheduler worker waits for
// a synchronous round. The counters may be read from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "actors/runtime/periodic_steps.hpp"
#include "storage/journal.hpp"

namespace ordo {

struct feed_retention_options {
  std::chrono::milliseconds retention{0}; // 0: keep the whole log (no actor)
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

  /// Spawns its actor on `sys` unless retention is 0; stop() it before `sys` waits for its
  /// actors or goes away.
  feed_retention(caf::actor_system& sys, storage::journal& j, feed_retention_options o,
                 std::function<int64_t()> now_ms, snapshot_fn snapshot);
  ~feed_retention();
  feed_retention(const feed_retention&) = delete;
  feed_retention& operator=(const feed_retention&) = delete;

  /// Ends the actor's work: a step in progress finishes first, none runs after it returns.
  void stop();
  /// One round now, on the calling thread (after an actor step in progress); an error says
  /// what stopped it.
  caf::error round();

  uint64_t removed() const { return removed_.load(); }     // log records deleted
  uint64_t snapshots() const { return snapshots_.load(); } // snapshots written for it

private:
  // One batch of a round; true when the round has more left. The caller holds round_mu_.
  caf::expected<bool> step();
  // The actor's step: skipped (round over) while a synchronous round holds round_mu_.
  bool background_step();
  // The newest feed position whose event is older than `cutoff_ms` (within (from, head]).
  caf::expected<uint64_t> position_before(int64_t cutoff_ms, uint64_t from, uint64_t head);

  storage::journal& journal_;
  feed_retention_options opt_;
  std::function<int64_t()> now_ms_;
  snapshot_fn snapshot_;
  std::atomic<uint64_t> removed_{0}, snapshots_{0};
  std::mutex round_mu_;  // one step or synchronous round at a time
  periodic_steps actor_; // last: stopped first when destroyed
};

} // namespace ordo
