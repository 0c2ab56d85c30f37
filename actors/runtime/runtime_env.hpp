#pragma once
// What every actor of one runtime shares: the journal, the limits, the clock, the counters.
// Owned by the runtime and outlives every actor it spawns.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "actors/runtime/feed_signal.hpp"
#include "actors/runtime/timer_deadlines.hpp"
#include "ordo/runtime_config.hpp"

namespace ordo::storage {
class journal;
}
namespace ordo::domain {
class order_id_generator;
}

namespace ordo {

/// Durable timers the entity actors attach to their appends (0 = none). The saga sets them.
/// Stored with wall-clock deadlines; fired on the steady clock (timer_deadlines.hpp).
struct timer_policy {
  int64_t payment_timeout_ms = 0; // StockReserved schedules "payment" at now + this
};

struct runtime_counters {
  std::atomic<uint64_t> activations{0};
  std::atomic<uint64_t> passivations{0};
  std::atomic<uint64_t> crashes{0};
  std::atomic<uint64_t> quarantined{0};
  std::atomic<int64_t> active{0};
};

struct runtime_env {
  storage::journal* journal = nullptr;
  domain::order_id_generator* ids = nullptr; // one per node: ids unique across its shards
  uint16_t shard_count = 0;
  actor_limits limits;
  timer_policy timers;
  // Steady-clock deadlines of the durable timers, written as entity actors schedule and
  // cancel them, read by the saga, which fires them (timer_deadlines.hpp).
  timer_deadlines deadlines;
  std::function<int64_t()> now_ms; // wall clock: event times, ids, timer wall deadlines
  // Test-only fault hook (FoundationDB's BUGGIFY): called before decide() with the entity id
  // and the serialized command; it may throw to simulate a crashing actor. Empty in production.
  std::function<void(std::string_view entity, const std::string& command_bytes)> before_decide;
  // How a journal answer travels from the writer thread to its actor. Empty (production): sent
  // at once from the writer thread. Deterministic tests set it to queue the send and run it on
  // the test's own thread, because CAF's test scheduler is single-threaded.
  std::function<void(std::function<void()>)> deliver;
  // Bumped by every append that added events (from its completion): feed followers sleep on
  // it instead of polling the journal (feed_signal.hpp).
  feed_signal feed;
  runtime_counters counters;
};

} // namespace ordo
