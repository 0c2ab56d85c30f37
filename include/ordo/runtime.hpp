#pragma once
// Ordo's embedding API: everything a host application needs, from include/ordo/ alone.
//
//   ordo::runtime_config cfg;            // every field has a working default
//   cfg.data_dir = "./data";
//   auto rt = ordo::runtime::start(cfg); // opens (or creates) the store; serves at once
//   if (!rt) { /* ordo::error_code(rt.error()), ordo::describe(rt.error()) */ }
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
//   a retry with the same key is needed to learn whether it was applied.
//
// ERRORS. Commands never fail by exception or error value: every problem is an outcome, and
// its code is a row of include/ordo/outcome_code.hpp (meaning, wait-and-retry, HTTP status).
// Calls that return caf::expected / caf::error carry a code of that same table, read with
// ordo::error_code(err); ordo::describe(err) gives "code: what failed". The codes each call
// can return:
//   start()                 invalid_argument (shard_count 0), locked (another process holds
//                           data_dir), format_too_new, corrupted (the store or its log failed
//                           a checksum or consistency check), io_error, storage_full,
//                           lmdb_error (e.g. a data_dir that cannot be created or opened).
//   order(), inventory()    invalid_order_id / invalid_sku (not a valid id), not_owner (in a
//                           cluster: the entity's shard is another node's), schema_too_new
//                           (its stored events or snapshot are of a newer schema: an upgraded
//                           node reads it), corrupted (a stored record failed its checks),
//                           lmdb_error, closed (after stop()). An entity never written is not
//                           an error: its state is empty (status UNSPECIFIED, last_sequence 0).
//   read_feed(), feed_head(), feed_offsets()
//                           truncated (read_feed: the position is below the feed's low-water
//                           mark, removed by feed retention), schema_too_new (read_feed: an
//                           event of a newer schema; nothing after it is returned), corrupted,
//                           lmdb_error, closed.
//   save_feed_offset(), delete_feed_offset(), trim_feed()
//                           invalid_argument (a name of 0 or over 255 bytes), the journal's
//                           write errors: storage_full, io_error, failed, closed.
//   fail_stop_error()       empty, or the io_error / failed that fail-stopped the journal.
// A host is told what to do by the code's row: `wait` codes are retried later with the same
// key; the others are a failure of the node or of the request.
//
// FAIL-STOP. Once a journal write or sync fails, the journal fail-stops: the failing batch
// answers io_error, every later command answers failed (nothing more is written, nothing
// acknowledged is lost), reads keep working from what was committed, fail_stop_error() holds
// the cause. It is sticky: a host should stop routing commands here and restart the process
// (the node drops its readiness and exits: docs/node.md); on restart the store replays its log.
//
// Threading: every member function may be called from any thread. Callbacks run on a runtime
// thread (an actor's or the journal writer's): keep them short and never call stop() in one.

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "ordo/journal_stats.hpp"
#include "ordo/outcome.hpp"
#include "ordo/outcome_code.hpp"
#include "ordo/runtime_config.hpp"
#include "ordo/saga_config.hpp"
#include "ordo/v1/envelope.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo {

struct runtime_stats {
  uint64_t submitted = 0, answered = 0, overloaded = 0;
  int64_t in_flight = 0;
  uint64_t activations = 0, passivations = 0, crashes = 0, quarantined = 0;
  int64_t active = 0;
  uint64_t idempotency_expired = 0; // records deleted by idempotency retention
  uint64_t feed_truncated = 0;      // log records removed by feed retention
  uint64_t feed_snapshots = 0;      // snapshots feed retention wrote first
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

/// The outcome code an error of a runtime call carries (see ERRORS above); internal for an
/// error without one.
outcome_code error_code(const caf::error& err);
/// "code: what failed", e.g. "locked: /srv/ordo is held by pid 4242".
std::string describe(const caf::error& err);

class runtime {
public:
  /// Opens the store in cfg.data_dir, replays its log, starts the actors and (when
  /// cfg.saga.enabled) the saga. Serving starts at once: entities are rebuilt lazily, when
  /// their first command arrives. Errors: see ERRORS above.
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

  /// Committed state, rebuilt from the journal (snapshot + tail). An order that was never
  /// placed has status UNSPECIFIED and last_sequence 0. In a cluster, an entity of a shard
  /// owned by another node is an error (not_owner), never "empty".
  caf::expected<v1::OrderState> order(std::string_view order_id);
  caf::expected<v1::InventoryState> inventory(std::string_view sku);

  /// Reads up to `max` feed records after `after_position`, in order; each event as this
  /// build understands it (an older shape upcast, domain/upcast.hpp).
  caf::expected<std::vector<feed_item>> read_feed(uint64_t after_position, size_t max);

  /// Delivers every feed record after `after_position`, in order, to `on_item` on a
  /// delivery thread of its own, then keeps following the feed: once caught up it sleeps
  /// until a commit adds events (no polling; `idle_poll` only bounds a sleep). `on_item`
  /// returning false, cancel(), destroying the handle, or stop() ends it. At least once: a
  /// consumer stores the last position it processed (e.g. with save_feed_offset) and resumes
  /// after it. With feed_retention on, only a saved offset holds the log for a consumer: one
  /// that saves none may find its position truncated (the delivery thread then logs the
  /// error and ends).
  std::unique_ptr<subscription>
  subscribe(uint64_t after_position, std::function<bool(const feed_item&)> on_item,
            std::chrono::milliseconds idle_poll = std::chrono::seconds{1});

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

  runtime_stats stats() const;
  /// The journal's counters: group commits, commit latency histogram, appends queued.
  ordo::journal_stats journal_stats() const;
  /// The saga's counters (all zero when the saga is off).
  saga::saga_stats saga_stats() const;
  /// Empty while healthy; once a journal write or sync failed, the sticky error that
  /// fail-stopped it (see FAIL-STOP above).
  caf::error fail_stop_error() const;

  /// Stops the saga (saving its offset), stops accepting (new submits answer
  /// `failed/stopping`), waits up to `drain` for in-flight commands to be answered, stops the
  /// actors, flushes and closes the journal. Idempotent.
  void stop(std::chrono::milliseconds drain = std::chrono::seconds{30});

  struct impl; // actors/runtime/runtime_impl.hpp

private:
  friend struct runtime_internals; // the node, the saga and the cluster: actors/runtime/internals.hpp
  explicit runtime(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace ordo
