#pragma once
// Ordo's embedding API: everything a host application needs, in one header.
//
//   ordo::runtime_config cfg;            // every field has a working default
//   cfg.data_dir = "./data";
//   auto rt = ordo::runtime::start(cfg); // opens (or creates) the store; serves at once
//   if (!rt) { /* rt.error(): the store could not be opened, and why */ }
//   ordo::v1::OrderCommand place = ...;  // place_order with an empty order_id
//   ordo::outcome o = (*rt)->submit_order(place, "idem-key-1").get(); // future form
//   (*rt)->submit_order(cmd, key, [](ordo::outcome o) { ... });      // callback form
//   auto state = (*rt)->order(o.entity_id);   // committed state, read from the journal
//   (*rt)->stop();                            // stop accepting, drain, flush, close
//
// Promises:
// - `accepted` means the command's events and its idempotency record were committed in one
//   journal transaction with the configured sync before the answer was given.
// - A retry with the same idempotency key gets the first answer (marked `duplicate`) and
//   changes nothing — also after a crash and restart. Placements are deduplicated by key too:
//   a retried placement gets the order id of the first attempt.
// - Commands for one entity are handled one at a time in arrival order; different entities in
//   parallel across the worker threads.
// - Every queue is bounded: when full the answer is `overloaded` (retry later, same key);
//   memory stays bounded.
// - `failed` carries a code and a message naming the problem; `unknown_if_applied` says when
//   a retry with the same key is needed to learn whether it was applied. Every code, what it
//   means, whether to wait and retry, and its HTTP status: include/ordo/outcome_code.hpp.
// Threading: every member function may be called from any thread. Callbacks run on a runtime
// thread (an actor's or the journal writer's): keep them short and never call stop() in one.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "actors/outcome.hpp"
#include "actors/runtime_env.hpp"
#include "actors/saga/saga_config.hpp"
#include "actors/saga/saga_dispatcher.hpp"
#include "actors/shard_route.hpp"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"
#include "storage/journal.hpp"

namespace ordo {

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
  // Cluster (docs/cluster.md): which shards this node owns and how commands for the others
  // reach their owner. Unset: every shard is local (a single node).
  struct cluster_hooks {
    std::function<shard_route(uint16_t shard)> route;
    // Called (any thread) with a command for a shard owned elsewhere; must answer `done`
    // exactly once (the owner's outcome, or failed/node_unavailable).
    std::function<void(v1::Envelope command, uint16_t shard, completion done)> forward;
    // Reads an order's committed state from the owner of `shard` (blocking, bounded by the
    // link's timeout); for runtime::order_anywhere, i.e. the saga reaching an order whose
    // shard moved away after its events were published here.
    std::function<caf::expected<v1::OrderState>(const std::string& id, uint16_t shard)> read_order;
  } cluster;
  // Hooks for tests only; production leaves them unset (the saga's are in saga.testing).
  struct testing_hooks {
    // A fault hook called before every decide(); may throw to crash the actor.
    std::function<void(std::string_view entity, const std::string& command_bytes)>
        before_decide;
  } testing;
};

struct runtime_stats {
  uint64_t submitted = 0, answered = 0, overloaded = 0;
  int64_t in_flight = 0;
  uint64_t activations = 0, passivations = 0, crashes = 0, quarantined = 0;
  int64_t active = 0;
  uint64_t idempotency_expired = 0; // records deleted by idempotency retention
  uint64_t feed_truncated = 0;      // log records removed by feed retention
  uint64_t feed_snapshots = 0;      // snapshots feed retention wrote first
};

/// What commands touched in a shard while it was tracked (runtime::track_shard).
struct shard_changes {
  std::set<std::string> entities;       // stored entity keys ("o/<id>", "i/<sku>")
  std::set<std::string> placement_keys; // placements' idempotency keys
  bool overflow = false;                // too many to remember: copy the whole shard
};

/// One record of the node-wide event feed.
struct feed_item {
  uint64_t position = 0;
  v1::Envelope event;
};

/// A live subscription to the event feed; destroying it stops the delivery thread.
class subscription {
public:
  subscription(std::function<void()> stop) : stop_(std::move(stop)) {}
  subscription(const subscription&) = delete;
  subscription& operator=(const subscription&) = delete;
  ~subscription() { cancel(); }
  void cancel() {
    if (stop_) std::exchange(stop_, nullptr)();
  }

private:
  std::function<void()> stop_;
};

class runtime {
public:
  /// Opens the store in cfg.data_dir and starts the actor system. Serving starts at once:
  /// entities are rebuilt lazily, when their first command arrives.
  static caf::expected<std::unique_ptr<runtime>> start(runtime_config cfg);

  ~runtime(); // stop() if not yet stopped

  /// Submits an order command. For place_order leave order_id empty: the runtime assigns
  /// one (answered in outcome.entity_id). Other commands carry the order id.
  void submit_order(const v1::OrderCommand& cmd, std::string idempotency_key, completion done);
  std::future<outcome> submit_order(const v1::OrderCommand& cmd, std::string idempotency_key);

  /// Submits an inventory command (routed by SKU).
  void submit_inventory(const v1::InventoryCommand& cmd, std::string idempotency_key,
                        completion done);
  std::future<outcome> submit_inventory(const v1::InventoryCommand& cmd,
                                        std::string idempotency_key);

  /// A command forwarded by another node (cluster): handled only if its shard is owned here,
  /// else answered failed/not_owner — never forwarded again, so two nodes with different
  /// views cannot bounce a command between them.
  void submit_forwarded(v1::Envelope command, completion done);

  /// The shard an order id, a SKU, or a placement's idempotency key maps to, and whether
  /// this node owns it (always true without cluster hooks).
  uint16_t shard_of_sku(std::string_view sku) const;
  uint16_t shard_of_placement(std::string_view idempotency_key) const;
  bool owns(uint16_t shard) const;

  /// Committed state, rebuilt from the journal (snapshot + tail). NOT_FOUND-like: an order
  /// that was never placed has status UNSPECIFIED and last_sequence 0. In a cluster, an
  /// entity of a shard owned by another node is an error (`not_owner: ...`), never "empty".
  caf::expected<v1::OrderState> order(std::string_view order_id);
  /// The same, but an order of another node's shard is read from its owner (blocking: for
  /// the saga's thread, not for hot paths). An error means "unknown now", not "absent".
  caf::expected<v1::OrderState> order_anywhere(std::string_view order_id);
  caf::expected<v1::InventoryState> inventory(std::string_view sku);

  /// Reads up to `max` feed records after `after_position`, in order.
  caf::expected<std::vector<feed_item>> read_feed(uint64_t after_position, size_t max);

  /// Fires on every commit that adds events to the feed (actors/feed_signal.hpp): a reader
  /// that has caught up sleeps on a listener instead of polling. Drop listeners before the
  /// runtime is destroyed.
  feed_signal& feed_commits();

  /// Delivers every feed record after `after_position`, in order, to `on_item` on a
  /// delivery thread of its own, then keeps following the feed: once caught up it sleeps
  /// until a commit adds events (no polling; `idle_poll` only bounds a sleep). `on_item`
  /// returning false, cancel(), destroying the handle, or stop() ends it. At least once: a consumer stores the last position it processed (e.g.
  /// with save_feed_offset) and resumes after it. With feed_retention on, only a saved offset
  /// holds the log for a consumer: one that saves none may find its position truncated.
  std::unique_ptr<subscription>
  subscribe(uint64_t after_position, std::function<bool(const feed_item&)> on_item,
            std::chrono::milliseconds idle_poll = std::chrono::seconds{1});

  // Shard handoff (cluster membership change, docs/cluster.md). The cluster stops routing
  // commands to the shard first (route() answers `moving`), then:

  /// Waits until no command of `shard` is in flight here; false if `timeout` passed first.
  bool drain_shard(uint16_t shard, std::chrono::milliseconds timeout);
  /// Ends the shard's activations (orders and SKUs): once another node owns the shard their
  /// state may go stale, and if the shard comes back they are rebuilt from the journal.
  void release_shard(uint16_t shard);
  /// The next batch of the shard's stored records (orders, SKUs, placement records) after
  /// `resume` ("" to start), about `max_bytes`.
  caf::expected<storage::export_batch> export_shard(uint16_t shard, std::string_view resume,
                                                    size_t max_bytes) const;
  /// Starts recording which entities (and placement keys) of `shard` commands touch, so a
  /// handoff can copy the shard while it still serves and then only what changed.
  void track_shard(uint16_t shard);
  /// Stops recording and returns what was touched since track_shard (`overflow`: too much to
  /// remember, or never tracked — copy the whole shard instead).
  shard_changes take_tracked(uint16_t shard);
  /// The named entities' records and the named placement records (one read transaction).
  caf::expected<std::vector<storage::entity_records>>
  export_changes(const std::vector<std::string>& entities,
                 const std::vector<std::string>& placement_keys) const;
  /// Stores records handed over by the shard's previous owner (one synced transaction).
  caf::error import_records(const std::vector<storage::entity_records>& batch);
  /// Deletes the durable timers of the shard's entities (the new owner fires them now).
  caf::expected<uint64_t> drop_shard_timers(uint16_t shard);

  runtime_stats stats() const;
  /// The journal's counters: group commits, commit latency histogram, appends queued.
  storage::journal::stats_t journal_stats() const;
  /// Empty while healthy; once a journal write or sync failed, the sticky error that
  /// fail-stopped it: every later command fails, reads still work. A host should stop
  /// routing commands here and restart the process (the node does: docs/node.md).
  caf::error fail_stop_error() const;
  /// The newest committed feed position (0: empty); a consumer's lag is this minus its offset.
  caf::expected<uint64_t> feed_head() const;
  /// Runs one round of feed retention now (tests, operators); no-op when it is off.
  caf::error trim_feed();
  /// Durable named offsets of feed readers outside the runtime (the node's named consumers of
  /// GET /v1/events; the saga keeps its own under "saga"). One synced write per save/delete.
  caf::error save_feed_offset(std::string_view name, uint64_t position);
  /// Every saved offset whose name starts with `prefix`, in name order.
  caf::expected<std::vector<std::pair<std::string, uint64_t>>>
  feed_offsets(std::string_view prefix) const;
  /// Removes a saved offset; false when there was none.
  caf::expected<bool> delete_feed_offset(std::string_view name);
  /// The saga dispatcher's counters (all zero when the saga is off).
  saga::saga_stats saga_stats() const;

  /// Stops the saga dispatcher (saving its offset), stops accepting (new submits answer
  /// `failed/stopping`), waits up to `drain` for in-flight commands to be answered, stops the
  /// actors, flushes and closes the journal.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds{30});

  struct impl;

private:
  explicit runtime(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace ordo
