#pragma once
// Which node owns which virtual shard — computed, not stored: every node derives the same
// map from the same cluster config (the node ids and the shard count), so routing needs no
// coordination service. Pure and deterministic (no CAF, no clock): tested on its own.
//
// Rendezvous (highest-random-weight) hashing ranks the nodes for every shard; shards are then
// taken in order, each by its highest-ranked node that is still below its fair share
// (floor(shards / nodes), and shards mod nodes of them one more). The cap gives an even spread (no
// node more than one shard above another), which plain rendezvous does not at 64 shards; the
// ranking keeps most shards where they were when a node joins or leaves (tests/cluster measure how
// many move).

#include <cstdint>
#include <vector>

namespace ordo::cluster {

class shard_map {
public:
  /// `nodes`: the cluster's node ids (any order, no duplicates, not empty).
  shard_map(std::vector<uint16_t> nodes, uint16_t shard_count);

  uint16_t owner(uint16_t shard) const { return owner_[shard]; }
  uint16_t shard_count() const { return static_cast<uint16_t>(owner_.size()); }
  const std::vector<uint16_t>& nodes() const { return nodes_; }
  /// The shards `node` owns, ascending.
  std::vector<uint16_t> shards_of(uint16_t node) const;

private:
  std::vector<uint16_t> nodes_; // sorted
  std::vector<uint16_t> owner_; // shard -> node id
};

/// The rendezvous weight of (shard, node): a 64-bit mix, the same on every platform.
uint64_t rendezvous_weight(uint16_t shard, uint16_t node);

} // namespace ordo::cluster
