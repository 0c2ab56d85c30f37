#pragma once
// The embedded runtime's settings (runtime::start). Every field has a working default: a
// host sets data_dir and what it wants different. The node maps its config file and flags
// onto these fields (app/node/config.hpp).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ordo/durability.hpp"
#include "ordo/saga_config.hpp"

namespace ordo {

/// Bounds of the entity actors: snapshots, passivation, per-entity queues, crashes.
struct actor_limits {
  uint32_t snapshot_every_events = 64;               // a snapshot rides along every N events
  std::chrono::milliseconds passivate_after{30'000}; // idle activations stop (shard sweeps)
  size_t pending_per_entity_max = 1'024; // commands queued at one entity before overload
  // Live entity actors per kind (orders, SKUs), split evenly over the shards: past a shard's
  // share its least recently used idle actors are passivated early; at twice the share new
  // activations are refused as overloaded (0: unbounded, only passivate_after).
  size_t active_max = 500'000;
  size_t entity_batch_max = 64;               // queued commands of one entity per append
  size_t entity_batch_max_bytes = 256 << 10;  // a batch stops growing past this many event bytes
  size_t recent_placements_per_shard = 1'024; // key -> order id memory for in-flight retries
  int crashes_per_command_max = 3;            // then the command is refused, the entity quarantined
};

struct runtime_config {
  std::string data_dir = "./data";
  size_t worker_threads = 2; // CAF scheduler threads (2 measured best on 2 cores)
  durability sync = durability::full_sync;
  uint16_t node_id = 1;              // unique per cluster; part of every order id it issues
  uint16_t shard_count = 64;         // virtual shards; fixed for the life of a cluster
  size_t in_flight_max = 100'000;    // commands accepted but not answered, node-wide
  size_t journal_queue_max = 65'536; // appends waiting for the writer
  size_t batch_max_requests = 4'096; // appends per group commit
  // How long the writer waits to fill a batch when fewer appends are queued. Unset: 200 µs
  // with a sync (more appends share one fdatasync), 0 with no_sync — a commit then costs
  // little, and the wait only delayed every answer (docs/benchmarks.md, "The request path").
  std::optional<std::chrono::microseconds> batch_max_wait;
  uint64_t map_size_bytes = uint64_t{64} << 30;  // LMDB map; the file grows with use
  // Idempotency records older than this are deleted (checked every retention_every): a key
  // is remembered at least this long. 0: remembered forever (the store keeps growing).
  std::chrono::milliseconds idempotency_retention{std::chrono::hours{24 * 7}};
  // Feed retention (docs/runtime.md): events older than this that every saved feed offset
  // has passed are removed, after a snapshot of their entity. 0: the log is kept whole.
  std::chrono::milliseconds feed_retention{0};
  std::chrono::milliseconds retention_every{60'000}; // both retentions run this often
  actor_limits limits;            // snapshots, passivation, per-entity queue, crashes
  std::function<int64_t()> clock; // ms since epoch; default: the system clock
  // The order saga (docs/saga.md): on by default, so a placed order drives itself to
  // delivered / rejected / cancelled. Off: commands only (tests that play the services).
  saga::saga_config saga;
  // Hooks for tests only; production leaves them unset (the saga's are in saga.testing).
  struct testing_hooks {
    // A fault hook called before every decide(); may throw to crash the actor.
    std::function<void(std::string_view entity, const std::string& command_bytes)>
        before_decide;
    // Deterministic simulation (tests/sim/): the runtime's actors (and the saga's) run on
    // CAF's test_coordinator, driven by the test's own thread, one job at a time. Each journal
    // append completes before the actor that submitted it goes on, and its answer is handed to
    // `deliver` instead of being sent from the journal's writer thread; the test runs it when
    // it chooses. `drive` runs queued work (jobs and answers) while stop() waits for it.
    bool simulated = false;
    std::function<void(std::function<void()>)> deliver;
    std::function<void()> drive;
  } testing;
};

} // namespace ordo
