#pragma once
// Which node owns which shard, as this node knows it — and, for its own shards, decides it.
//
// A node starts from the config: the founding members' shard_map (epoch 1), or, with
// `join`, owning nothing and knowing no owner until a membership change reaches it. After
// that the state file (<data_dir>/cluster-state.pb, replaced atomically, fsynced) wins over
// the config: it holds the last committed membership, the owner of every shard as far as
// this node knows, the shards it is handing off, and a change in progress.
//
// Ownership is decided by the two nodes of a handoff and nobody else (docs/cluster.md):
// the old owner persists "moving out" before it stops serving a shard and never serves it
// again; the new owner persists "owned" before it serves it. So at most one node serves a
// shard at any time, whatever the other nodes believe. Other nodes' beliefs are routing
// hints: a stale one is answered not_owner with the owner the receiver knows of, and
// learn() takes it if its epoch is newer.
//
// Threading: place()/owner() are lock-free (called for every command); changes take a
// mutex and write the file before they return.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/runtime/shard_route.hpp"
#include "ordo/v1/cluster.pb.h"

namespace ordo::cluster {

struct member {
  uint16_t id = 0;
  std::string host;
  uint16_t port = 0; // the middleman port of the node's ingress
};

using shard_place = ordo::shard_route;

class ownership {
public:
  struct options {
    std::string state_path; // "": keep the state in memory only (tests)
    uint16_t self = 0;
    std::vector<member> config_members; // from the config; the founding members
    uint16_t shard_count = 64;
    bool join = false; // start owning nothing, wait for a membership change
  };
  static caf::expected<std::unique_ptr<ownership>> open(options o);

  shard_place place(uint16_t shard) const;
  uint16_t owner(uint16_t shard) const { return owner_[shard].load(); }
  uint64_t owner_epoch(uint16_t shard) const;
  uint16_t self() const { return opt_.self; }
  uint16_t shard_count() const { return opt_.shard_count; }
  uint64_t cluster_id() const { return cluster_id_.load(); }
  uint64_t epoch() const;
  /// Committed members plus those of a change in progress: the nodes to stay connected to.
  std::vector<member> known_members() const;
  std::vector<member> committed_members() const;
  std::optional<v1::MembershipChange> pending() const;
  std::vector<v1::MoveOut> moving_out() const;
  /// The shards this node owns (serves), ascending.
  std::vector<uint16_t> owned() const;
  /// Whether `node` is one of known_members() (without building the list).
  bool knows(uint16_t node) const;

  /// A routing hint from another node: taken if `epoch` is newer than what is known.
  /// Never changes a shard this node owns or is handing off (its own state decides those).
  void learn(uint16_t shard, uint16_t owner, uint64_t epoch);

  // Handoff steps; each is persisted before it returns (an error: nothing changed).
  caf::error begin_move_out(uint16_t shard, uint16_t to, uint64_t epoch);
  caf::error abort_move_out(uint16_t shard); // only before the new owner activated
  caf::error finish_move_out(uint16_t shard);
  /// The new owner's step: only for the change pending here at exactly `epoch`, when it gives
  /// `shard` to this node and `from` (the sender) owns it — as that change or this node knows
  /// it. So an activate without a matching pending change, or a replayed one of an earlier
  /// change, is refused (an error) and never makes a second owner.
  caf::error activate(uint16_t shard, uint64_t epoch, uint16_t from);
  /// A change announced by the coordinator; a joining node adopts the cluster id and owners.
  /// Re-announcing a change this node has already committed is a no-op.
  caf::error prepare(uint64_t cluster_id, const v1::MembershipChange& change);
  /// The pending change's end. An old commit (epoch <= the committed one) is a no-op; a newer
  /// one must be the pending change's epoch.
  caf::error commit(const v1::CommitMembership& c);

  /// The founding cluster's identity: a hash of the sorted node ids and the shard count.
  static uint64_t founding_id(std::vector<uint16_t> ids, uint16_t shard_count);

private:
  explicit ownership(options o);
  caf::error save_locked(); // writes state_ (mu_ held)
  /// Persists the changed state_ and publishes it; on failure restores `before` (mu_ held).
  caf::error commit_locked(v1::ClusterState before);
  void publish_locked(); // state_ -> the lock-free arrays

  options opt_;
  mutable std::mutex mu_;
  v1::ClusterState state_; // guarded by mu_
  std::unique_ptr<std::atomic<uint16_t>[]> owner_;
  std::unique_ptr<std::atomic<uint8_t>[]> place_;
  std::atomic<uint64_t> cluster_id_{0};
};

} // namespace ordo::cluster
