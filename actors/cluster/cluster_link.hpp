#pragma once
// The node's link to the rest of the cluster, on CAF's io middleman (docs/cluster.md).
//
// Who owns which shard is ownership.hpp (from the config's shard_map, then from the node's
// persisted cluster state). A command for a shard owned elsewhere is forwarded to the
// owner's published "ingress" actor as a ForwardedCommand (Protobuf bytes: the receiver needs
// nothing but the bytes) and answered with the owner's outcome. The owner refuses a sender
// of another cluster (map_mismatch) and a shard it does not own (not_owner, with the owner it
// knows of: the sender learns it and retries there once) — a stale sender is redirected,
// never obeyed; CAF gives no delivery or ordering guarantee between nodes, so nothing relies
// on one: a lost message is a timeout, answered failed/unknown_if_applied, and the caller's
// retry with the same idempotency key is deduplicated by the owner's journal.
//
// Membership change (membership_change.cpp, handoff.cpp): change_members() makes this node the coordinator of a
// change to a new member list; shards move one at a time from their owner to their new owner
// (stop, drain, stream the records, activate) while every other shard keeps serving.
//
// Node failure: each peer's ingress proxy is monitored; a down_msg (TCP close, or the
// middleman's heartbeat timeout for a hung peer) marks the peer down at once, and commands
// for its shards fail fast with node_unavailable (HTTP 503 + Retry-After) until a connector
// thread reaches it again. Consistency over availability: no other node takes its shards.
//
// Security (docs/cluster.md, "TLS between nodes"): every connection between nodes is TLS with
// certificates of one cluster CA verified both ways (tls.hpp); control messages are signed by
// their sender's node certificate (control_auth.hpp) and checked against this node's epoch and
// pending change before they run (control_checks.hpp).
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

#include "actors/cluster/ownership.hpp"
#include "actors/cluster/shard_map.hpp"
#include "actors/cluster/tls.hpp"
#include "ordo/outcome.hpp"
#include "ordo/v1/envelope.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo {
class runtime;
}

namespace ordo::cluster {

struct link_options {
  uint16_t self = 0;
  std::vector<member> members; // every node, self included (the founding members, or with
                               // `join` the nodes to reach)
  uint16_t shard_count = 64;
  std::string state_path; // the persisted cluster state ("": memory only)
  bool join = false;      // start owning nothing; a membership change brings shards
  size_t handoff_batch_bytes = 512 * 1024; // records per message during a handoff
  std::chrono::milliseconds handoff_call_timeout{60'000};
  std::chrono::milliseconds drain_timeout{30'000}; // a moving shard's in-flight commands
  std::chrono::milliseconds handoff_pause{0};      // testing only: hold a stopped shard this long
  std::chrono::milliseconds request_timeout{5'000};
  std::chrono::milliseconds reconnect_every{250};
  std::chrono::milliseconds connect_probe_timeout{500}; // a peer's port must answer within
  std::chrono::milliseconds connect_timeout{3'000};     // ... and its handshakes complete within
  tls_options tls; // TLS between nodes (tls.hpp): required unless every member is on loopback

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
  uint64_t shards_moved_out = 0, shards_moved_in = 0, records_imported = 0;
};

/// One shard's move in the membership change this node coordinates.
struct handoff_status {
  uint16_t shard = 0, from = 0, to = 0;
  std::string state; // waiting | moving | done | failed
  std::string error;
};

struct change_status {
  uint64_t epoch = 0; // 0: this node never coordinated a change
  bool running = false;
  std::string result; // "" while running; "done" or the error that stopped it
  std::vector<handoff_status> handoffs;
};

class cluster_link {
public:
  /// Starts the link's actor system (no listening yet). Errors: invalid membership.
  static caf::expected<std::unique_ptr<cluster_link>> create(link_options o);
  ~cluster_link();

  const ownership& owners() const { return *own_; }
  shard_route route(uint16_t shard) const { return own_->place(shard); }
  uint64_t cluster_id() const { return own_->cluster_id(); }

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

  /// Starts a membership change to `members` (every node of the new membership, this one
  /// included), coordinated by this node on a thread of its own; progress in change().
  /// Errors at once: a change already running, an invalid member list.
  caf::expected<uint64_t> change_members(std::vector<member> members);
  change_status change() const;

  /// Stops connecting, unpublishes, answers what is pending, stops the actor system.
  void stop();

  struct impl;

private:
  cluster_link(link_options o, std::unique_ptr<ownership> own);
  link_options opt_;
  std::unique_ptr<ownership> own_;
  std::unique_ptr<impl> impl_;
};

} // namespace ordo::cluster
