#pragma once
// The node's link to the rest of the cluster, on CAF's io middleman (docs/cluster.md).
//
// Every node derives the same shard map from the config (shard_map.hpp). A command for a
// shard owned elsewhere is forwarded to the owner's published "ingress" actor as a
// ForwardedCommand (Protobuf bytes: the receiver needs nothing but the bytes) and answered
// with the owner's outcome. The owner refuses a sender whose map differs (map_mismatch) and
// a shard it does not own (not_owner) — a stale sender is fenced, never obeyed; CAF gives no
// delivery or ordering guarantee between nodes, so nothing relies on one: a lost message is
// a timeout, answered failed/unknown_if_applied, and the caller's retry with the same
// idempotency key is deduplicated by the owner's journal.
//
// Node failure: each peer's ingress proxy is monitored; a down_msg (TCP close, or the
// middleman's heartbeat timeout for a hung peer) marks the peer down at once, and commands
// for its shards fail fast with node_unavailable (HTTP 503 + Retry-After) until a connector
// thread reaches it again. Consistency over availability: no other node takes its shards.
//
// Threading: forward() and read() may be called from any thread; answers come on a CAF
// thread of the link's own actor system (separate from the runtime's).

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/cluster/shard_map.hpp"
#include "actors/outcome.hpp"
#include "ordo/v1/envelope.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo {
class runtime;
}

namespace ordo::cluster {

struct member {
  uint16_t id = 0;
  std::string host;
  uint16_t port = 0; // the middleman port of the node's ingress
};

struct link_options {
  uint16_t self = 0;
  std::vector<member> members; // every node, self included
  uint16_t shard_count = 64;
  std::chrono::milliseconds request_timeout{5'000};
  std::chrono::milliseconds reconnect_every{250};
  std::chrono::milliseconds connect_probe_timeout{500}; // a peer's port must answer within

  std::chrono::milliseconds heartbeat{200};            // middleman heartbeat
  std::chrono::milliseconds connection_timeout{1'000}; // a silent peer is down after this
};

struct link_stats {
  /// Upper bounds (s) of the forwarding-latency buckets (forward → the owner's answer); the
  /// last bucket is +Inf.
  static constexpr std::array<double, 9> forward_bounds_s = {0.0005, 0.001, 0.002, 0.005, 0.01,
                                                             0.025,  0.05,  0.1,   1.0};
  uint64_t forwarded = 0, forward_failed = 0, received = 0, refused = 0;
  uint64_t forward_us_sum = 0;
  std::array<uint64_t, forward_bounds_s.size() + 1> forward_buckets{}; // non-cumulative
  std::vector<std::pair<uint16_t, bool>> peers;                        // node id, connected
  uint16_t self = 0;
  size_t shards_owned = 0;
};

class cluster_link {
public:
  /// Starts the link's actor system (no listening yet). Errors: invalid membership.
  static caf::expected<std::unique_ptr<cluster_link>> create(link_options o);
  ~cluster_link();

  const shard_map& map() const { return map_; }
  bool is_local(uint16_t shard) const { return map_.owner(shard) == opt_.self; }
  uint64_t map_version() const { return version_; }

  /// Publishes the ingress (commands and reads from peers go to `rt`) and starts connecting
  /// to the peers. `rt` must outlive stop().
  caf::expected<void> serve(runtime& rt);

  /// Forwards a command to the owner of `shard`; `done` gets its outcome.
  void forward(v1::Envelope command, uint16_t shard, completion done);

  /// Reads committed state from the owner of `shard`.
  void read_order(const std::string& id, uint16_t shard,
                  std::function<void(caf::expected<v1::OrderState>)> done);
  void read_inventory(const std::string& sku, uint16_t shard,
                      std::function<void(caf::expected<v1::InventoryState>)> done);

  link_stats stats() const;

  /// Stops connecting, unpublishes, answers what is pending, stops the actor system.
  void stop();

  struct impl;

private:
  cluster_link(link_options o, shard_map m, uint64_t version);
  link_options opt_;
  shard_map map_;
  uint64_t version_;
  std::unique_ptr<impl> impl_;
};

/// The map's identity: a hash of the sorted node ids and the shard count.
uint64_t map_version_of(const shard_map& m);

} // namespace ordo::cluster
