// The newest `capacity` order ids, for get/ship/pay to pick from: bounded however long the
// run, oldest forgotten first.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ordo::loadgen {

class id_ring {
public:
  explicit id_ring(size_t capacity) : ids_(capacity == 0 ? 1 : capacity) {}

  void push(std::string_view id) {
    ids_[next_].assign(id.data(), id.size());
    next_ = (next_ + 1) % ids_.size();
    if (size_ < ids_.size()) ++size_;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // i in [0, size()): any remembered id; the caller draws i at random.
  const std::string& at(size_t i) const { return ids_[i]; }

private:
  std::vector<std::string> ids_;
  size_t next_ = 0;
  size_t size_ = 0;
};

} // namespace ordo::loadgen
