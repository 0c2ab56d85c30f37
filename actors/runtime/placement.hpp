#pragma once
// Placement routing: a new order needs an id before it has an actor, and a retried placement
// must reach the order its first attempt created. So a placement is routed by its idempotency
// key (hash → shard): every attempt with one key meets the same shard actor, which serializes
// them. The shard remembers key → order id for recent placements (bounded), and the order's
// first append also stores the key → order id record under the pseudo-entity "p" in the same
// transaction, so the mapping survives restarts exactly when the order does.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ordo {

/// FNV-1a 64: the same on every node, for routing SKUs and placement keys to shards.
inline uint64_t stable_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

inline constexpr std::string_view placement_entity = "p";

/// A bounded key → order id memory (FIFO eviction): covers retries that arrive while the
/// first attempt is still in flight; older ones are found in the journal.
class recent_placements {
public:
  explicit recent_placements(size_t max) : max_(max) {}
  std::optional<std::string> find(const std::string& key) const {
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  void remember(const std::string& key, const std::string& order_id) {
    if (!map_.emplace(key, order_id).second) return;
    order_.push_back(key);
    if (order_.size() > max_) {
      map_.erase(order_.front());
      order_.pop_front();
    }
  }

private:
  size_t max_;
  std::unordered_map<std::string, std::string> map_;
  std::deque<std::string> order_;
};

} // namespace ordo
