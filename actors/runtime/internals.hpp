#pragma once
// The runtime as Ordo's own layers see it: the node, the saga and the cluster reach past the
// public API (include/ordo/runtime.hpp) through here — starting with cluster hooks, commands
// forwarded by other nodes, shard ownership, the feed's commit signal. A host never needs it.
// Handoff of a shard's records is a separate interface: actors/runtime/shard_admin.hpp.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/runtime/shard_route.hpp"
#include "ordo/runtime.hpp"

namespace ordo {

class feed_signal;
class workflow;
struct runtime_env;
namespace storage {
class journal;
}

/// Which shards this node owns and how commands for the others reach their owner
/// (docs/cluster.md). Empty: every shard is local (a single node).
struct cluster_hooks {
  std::function<shard_route(uint16_t shard)> route;
  // Called (any thread) with a command for a shard owned elsewhere; must answer `done`
  // exactly once (the owner's outcome, or failed/node_unavailable).
  std::function<void(v1::Envelope command, uint16_t shard, completion done)> forward;
  // Reads an order's committed state from the owner of `shard` (blocking, bounded by the
  // link's timeout); for order_anywhere, i.e. the saga reaching an order whose shard moved
  // away after its events were published here.
  std::function<caf::expected<v1::OrderState>(const std::string& id, uint16_t shard)> read_order;
};

struct runtime_internals {
  /// Opens the store and starts the actors, without the saga (actors/start.cpp adds it: the
  /// runtime library does not depend on the saga).
  static caf::expected<std::unique_ptr<runtime>> open(runtime_config cfg, cluster_hooks cluster);
  /// Runs `w` beside the actors until stop(), which stops it first.
  static void attach_workflow(runtime& rt, std::unique_ptr<workflow> w);

  static runtime::impl& impl_of(runtime& rt) { return *rt.impl_; }
  static storage::journal& journal(runtime& rt);
  static runtime_env& env(runtime& rt);
  /// The actor system the runtime's actors run on (the saga's actor joins it; a deterministic
  /// simulation drives its test scheduler).
  static caf::actor_system& system(runtime& rt);
  static const runtime_config& config(const runtime& rt);

  /// A command forwarded by another node: handled only if its shard is owned here, else
  /// answered failed/not_owner — never forwarded again, so two nodes with different views
  /// cannot bounce a command between them.
  static void submit_forwarded(runtime& rt, v1::Envelope command, completion done);

  /// The shard a SKU or a placement's idempotency key maps to, and whether this node owns a
  /// shard (always true without cluster hooks).
  static uint16_t shard_of_sku(const runtime& rt, std::string_view sku);
  static uint16_t shard_of_placement(const runtime& rt, std::string_view idempotency_key);
  static bool owns(const runtime& rt, uint16_t shard);

  /// runtime::order, but an order of another node's shard is read from its owner (blocking:
  /// for the saga's thread, not for hot paths). An error means "unknown now", not "absent".
  static caf::expected<v1::OrderState> order_anywhere(runtime& rt, std::string_view order_id);

  /// Fires on every commit that adds events to the feed (feed_signal.hpp): a reader that has
  /// caught up sleeps on a listener instead of polling. Drop listeners before the runtime is
  /// destroyed.
  static feed_signal& feed_commits(runtime& rt);
};

} // namespace ordo
