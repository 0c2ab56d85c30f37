#include "actors/cluster/shard_map.hpp"

#include <algorithm>
#include <numeric>

#include "domain/assert.hpp"

namespace ordo::cluster {

uint64_t rendezvous_weight(uint16_t shard, uint16_t node) {
  // splitmix64 of the pair: well spread, cheap, and fixed forever (changing it moves shards).
  uint64_t x = (uint64_t{shard} << 32) ^ (uint64_t{node} << 1) ^ 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

shard_map::shard_map(std::vector<uint16_t> nodes, uint16_t shard_count)
    : nodes_(std::move(nodes)), owner_(shard_count) {
  ORDO_ASSERT(!nodes_.empty(), "a cluster needs at least one node");
  ORDO_ASSERT(shard_count > 0, "a cluster needs at least one shard");
  std::sort(nodes_.begin(), nodes_.end());
  ORDO_ASSERT(std::adjacent_find(nodes_.begin(), nodes_.end()) == nodes_.end(),
              "duplicate node id in the cluster config");
  // Fair share: every node floor(S/N) shards, and S mod N of them one more (first come).
  const size_t floor_share = shard_count / nodes_.size();
  size_t extras = shard_count % nodes_.size();
  std::vector<size_t> load(nodes_.size(), 0);
  std::vector<size_t> rank(nodes_.size());
  for (uint16_t s = 0; s < shard_count; ++s) {
    std::iota(rank.begin(), rank.end(), 0);
    std::sort(rank.begin(), rank.end(), [&](size_t a, size_t b) {
      auto wa = rendezvous_weight(s, nodes_[a]), wb = rendezvous_weight(s, nodes_[b]);
      return wa != wb ? wa > wb : nodes_[a] < nodes_[b];
    });
    for (size_t r : rank) {
      bool room = load[r] < floor_share;
      if (!room && load[r] == floor_share && extras > 0) {
        --extras;
        room = true;
      }
      if (room) {
        ++load[r];
        owner_[s] = nodes_[r];
        break;
      }
    }
  }
}

std::vector<uint16_t> shard_map::shards_of(uint16_t node) const {
  std::vector<uint16_t> out;
  for (uint16_t s = 0; s < owner_.size(); ++s)
    if (owner_[s] == node) out.push_back(s);
  return out;
}

} // namespace ordo::cluster
