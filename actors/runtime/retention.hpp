#pragma once
// Idempotency retention: an actor on the runtime's actor system (periodic_steps.hpp) that,
// every `every`, deletes the idempotency records older than `retention`
// (journal::expire_idempotency), one batch of `batch` records per step (one write
// transaction, one message), so the store does not keep every key it ever saw. A key is
// remembered for at least `retention`; a retry after that is decided as a new command
// (docs/runtime.md, "Idempotency retention"). expired() may be read from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "actors/runtime/periodic_steps.hpp"
#include "storage/journal.hpp"

namespace ordo {

struct retention_options {
  std::chrono::milliseconds retention{0}; // 0: keep every record (no actor)
  std::chrono::milliseconds every{60'000};
  size_t batch = 5'000; // records per write transaction (each holds the writer lock)
  // Then wait for the next round: 5M records a minute, above what a node creates (two
  // records per command at ~40K commands/s is ~5M a minute).
  size_t batches_per_round = 1'000;
};

class idempotency_retention {
public:
  /// Spawns its actor on `sys` unless retention is 0; stop() it before `sys` waits for its
  /// actors or goes away.
  idempotency_retention(caf::actor_system& sys, storage::journal& j, retention_options o,
                        std::function<int64_t()> now_ms);
  ~idempotency_retention();
  idempotency_retention(const idempotency_retention&) = delete;
  idempotency_retention& operator=(const idempotency_retention&) = delete;

  /// Ends the actor's work: a step in progress finishes first, none runs after it returns.
  void stop();
  /// Records deleted so far.
  uint64_t expired() const { return expired_.load(); }

private:
  // One batch: true when it was full (more may be left).
  bool step();

  storage::journal& journal_;
  retention_options opt_;
  std::function<int64_t()> now_ms_;
  std::atomic<uint64_t> expired_{0};
  periodic_steps actor_; // last: stopped first when destroyed
};

} // namespace ordo
