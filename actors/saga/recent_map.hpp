#pragma once
// A map that remembers only its most recent `max` keys: inserting a new key beyond that
// forgets the oldest one (insertion order). For memory that must not grow with every order,
// such as the simulated gateway's idempotency keys (a real provider also forgets keys after
// its retention).
#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

namespace ordo::saga {

template <class V>
class recent_map {
public:
  explicit recent_map(size_t max) : max_(max == 0 ? 1 : max) {}

  /// The value of `key`, inserted (default) if absent — possibly forgetting the oldest key.
  V& operator[](const std::string& key) {
    auto [it, inserted] = map_.try_emplace(key);
    if (inserted) {
      order_.push_back(key);
      if (order_.size() > max_) {
        // The iterator stays valid: the new key is the newest, never the one forgotten.
        map_.erase(order_.front());
        order_.pop_front();
      }
    }
    return it->second;
  }
  const V* find(const std::string& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  size_t size() const { return map_.size(); }

private:
  size_t max_;
  std::unordered_map<std::string, V> map_;
  std::deque<std::string> order_; // oldest first
};

} // namespace ordo::saga
