// Latency histogram with log-linear buckets (HdrHistogram's layout): exact below 256 ns, then
// 128 buckets per power of two, so any recorded value is known within 1/128 (< 0.8 %) from
// 256 ns up to 2^36 ns (~68.7 s); larger values land in the top bucket (max stays exact).
// Fixed size (~31 KB), so recording never allocates and merging threads' histograms is a sum.
#pragma once

#include <cstdint>
#include <vector>

namespace ordo::loadgen {

class histogram {
public:
  histogram();

  void record(uint64_t value_ns);
  void merge(const histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t max_ns() const { return max_ns_; }
  // Value at percentile p (0..100): the midpoint of the bucket holding that rank, never above
  // max. 0 when empty.
  uint64_t percentile_ns(double p) const;
  // How many recorded values are at most `value_ns` (by bucket midpoint, so within 0.8 %).
  uint64_t count_at_most(uint64_t value_ns) const;

private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t max_ns_ = 0;
};

} // namespace ordo::loadgen
