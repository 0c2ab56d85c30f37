#pragma once
// Idempotency retention: a thread that, every `every`, deletes the idempotency records older
// than `retention` (journal::expire_idempotency, in bounded batches), so the store does not
// keep every key it ever saw. A key is remembered for at least `retention`; a retry after
// that is decided as a new command (docs/runtime.md, "Idempotency retention").

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "actors/runtime/periodic.hpp"
#include "storage/journal.hpp"

namespace ordo {

struct retention_options {
  std::chrono::milliseconds retention{0}; // 0: keep every record (no thread)
  std::chrono::milliseconds every{60'000};
  size_t batch = 5'000; // records per write transaction (each holds the writer lock)
  // Then wait for the next round: 5M records a minute, above what a node creates (two
  // records per command at ~40K commands/s is ~5M a minute).
  size_t batches_per_round = 1'000;
};

class idempotency_retention {
public:
  idempotency_retention(storage::journal& j, retention_options o, std::function<int64_t()> now_ms);
  ~idempotency_retention();
  idempotency_retention(const idempotency_retention&) = delete;
  idempotency_retention& operator=(const idempotency_retention&) = delete;

  /// Ends the thread (a round in progress finishes its current batch first).
  void stop();
  /// Records deleted so far.
  uint64_t expired() const { return expired_.load(); }

private:
  void round();

  storage::journal& journal_;
  retention_options opt_;
  std::function<int64_t()> now_ms_;
  std::atomic<uint64_t> expired_{0};
  periodic thread_; // last: stopped first when destroyed
};

} // namespace ordo
