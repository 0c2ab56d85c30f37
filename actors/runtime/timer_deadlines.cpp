#include "actors/runtime/timer_deadlines.hpp"

#include <algorithm>

namespace ordo {

// Entity keys are at most 255 bytes (storage's limit): one length byte keeps (entity, timer)
// pairs unambiguous whatever bytes they hold.
std::string timer_deadlines::key_of(std::string_view entity, std::string_view timer_id) {
  std::string k;
  k.reserve(1 + entity.size() + timer_id.size());
  k.push_back(static_cast<char>(std::min<size_t>(entity.size(), 255)));
  k.append(entity.substr(0, 255));
  k.append(timer_id);
  return k;
}

timer_deadlines::timer_ref timer_deadlines::ref_of(std::string_view key) {
  size_t n = static_cast<unsigned char>(key[0]);
  return {std::string(key.substr(1, n)), std::string(key.substr(1 + n))};
}

void timer_deadlines::put(std::string key, uint64_t wall_due_ms, clock::time_point due) {
  auto it = by_key_.find(key);
  if (it != by_key_.end()) {
    by_due_.erase({it->second.due, key});
    it->second = entry{wall_due_ms, due};
  } else {
    by_key_.emplace(key, entry{wall_due_ms, due});
  }
  by_due_.emplace(due, std::move(key));
}

void timer_deadlines::erase(std::unordered_map<std::string, entry>::iterator it) {
  by_due_.erase({it->second.due, it->first});
  by_key_.erase(it);
}

void timer_deadlines::scheduled(std::string_view entity, std::string_view timer_id,
                                uint64_t wall_due_ms, clock::time_point due) {
  std::lock_guard<std::mutex> g{mu_};
  put(key_of(entity, timer_id), wall_due_ms, due);
}

void timer_deadlines::unscheduled(std::string_view entity, std::string_view timer_id,
                                  uint64_t wall_due_ms) {
  std::lock_guard<std::mutex> g{mu_};
  auto it = by_key_.find(key_of(entity, timer_id));
  if (it != by_key_.end() && it->second.wall_due_ms == wall_due_ms) erase(it);
}

void timer_deadlines::cancelled(std::string_view entity, std::string_view timer_id) {
  std::lock_guard<std::mutex> g{mu_};
  auto it = by_key_.find(key_of(entity, timer_id));
  if (it != by_key_.end()) erase(it);
}

bool timer_deadlines::adopt(std::string_view entity, std::string_view timer_id,
                            uint64_t wall_due_ms, int64_t wall_now_ms, clock::time_point now,
                            std::optional<std::chrono::milliseconds> cap) {
  auto key = key_of(entity, timer_id);
  std::lock_guard<std::mutex> g{mu_};
  if (by_key_.count(key) != 0) return false;
  int64_t left = static_cast<int64_t>(wall_due_ms) - wall_now_ms;
  if (left < 0) left = 0;
  if (cap && left > cap->count()) left = std::max<int64_t>(cap->count(), 0);
  put(std::move(key), wall_due_ms, now + std::chrono::milliseconds{left});
  return true;
}

bool timer_deadlines::known(std::string_view entity, std::string_view timer_id) const {
  std::lock_guard<std::mutex> g{mu_};
  return by_key_.count(key_of(entity, timer_id)) != 0;
}

std::vector<timer_deadlines::timer_ref> timer_deadlines::take_due(clock::time_point now,
                                                                  size_t max) {
  std::vector<timer_ref> out;
  std::lock_guard<std::mutex> g{mu_};
  while (!by_due_.empty() && out.size() < max && by_due_.begin()->first <= now) {
    auto node = by_due_.extract(by_due_.begin());
    by_key_.erase(node.value().second);
    out.push_back(ref_of(node.value().second));
  }
  return out;
}

void timer_deadlines::forget_if(const std::function<bool(std::string_view entity)>& select) {
  std::lock_guard<std::mutex> g{mu_};
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    auto next = std::next(it);
    if (select(ref_of(it->first).entity)) erase(it);
    it = next;
  }
}

size_t timer_deadlines::size() const {
  std::lock_guard<std::mutex> g{mu_};
  return by_key_.size();
}

} // namespace ordo
