#include "histogram.hpp"

#include <algorithm>
#include <cmath>

namespace ordo::loadgen {

namespace {

constexpr unsigned sub_bits = 7;                // 128 buckets per power of two
constexpr uint64_t linear_max = 2u << sub_bits; // values below 256 are exact
constexpr unsigned top_bit = 36;                // 2^36 ns ~ 68.7 s
constexpr uint64_t value_max = (uint64_t{1} << top_bit) - 1;
constexpr size_t bucket_count = linear_max + (top_bit - sub_bits - 1) * (1u << sub_bits);

size_t index_of(uint64_t v) {
  v = std::min(v, value_max);
  if (v < linear_max) return static_cast<size_t>(v);
  unsigned msb = 63 - static_cast<unsigned>(__builtin_clzll(v));
  unsigned shift = msb - sub_bits; // v >> shift is in [128, 256)
  return linear_max + (shift - 1) * (1u << sub_bits) + ((v >> shift) - (1u << sub_bits));
}

uint64_t midpoint_of(size_t index) {
  if (index < linear_max) return index;
  size_t k = (index - linear_max) >> sub_bits;
  size_t sub = (index - linear_max) & ((1u << sub_bits) - 1);
  unsigned shift = static_cast<unsigned>(k) + 1;
  uint64_t low = (uint64_t{1} << sub_bits | sub) << shift;
  return low + (uint64_t{1} << shift) / 2;
}

} // namespace

histogram::histogram() : buckets_(bucket_count, 0) {}

void histogram::record(uint64_t value_ns) {
  ++buckets_[index_of(value_ns)];
  ++count_;
  max_ns_ = std::max(max_ns_, value_ns);
}

void histogram::merge(const histogram& other) {
  for (size_t i = 0; i < bucket_count; ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

void histogram::reset() {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  max_ns_ = 0;
}

uint64_t histogram::percentile_ns(double p) const {
  if (count_ == 0) return 0;
  if (p >= 100) return max_ns_;
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < bucket_count; ++i) {
    seen += buckets_[i];
    if (seen >= rank) return std::min(midpoint_of(i), max_ns_);
  }
  return max_ns_;
}

uint64_t histogram::count_at_most(uint64_t value_ns) const {
  uint64_t n = 0;
  for (size_t i = 0; i < bucket_count && midpoint_of(i) <= value_ns; ++i)
    n += buckets_[i];
  return n;
}

} // namespace ordo::loadgen
