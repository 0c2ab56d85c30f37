// journal_bench's load: the closed-loop driver (submitters walking orders' sagas) and the
// journal and orders it runs against.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "storage/journal.hpp"

namespace journal_bench {

using namespace ordo::storage;
using clock_type = std::chrono::steady_clock;

std::string order_id(uint64_t n);

// A random payload of 200-500 bytes.
std::string payload(std::mt19937_64& rng);

caf::expected<std::unique_ptr<journal>> open_journal(const std::string& dir, durability mode,
                                                     bool checkpoints = true);

// Creates `n` old orders with one event each (no_sync: setup only, not measured).
void preload(journal& j, uint64_t n, std::mt19937_64& rng);

struct phase_result {
  size_t submitters = 0;
  double seconds = 0;
  uint64_t events = 0, conflicts = 0, errors = 0;
  double avg_batch = 0;
  double p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  double per_s() const { return static_cast<double>(events) / seconds; }
};

// Closed loop: each submitter has one request in flight. Completions (writer thread) hand
// the submitter back to one client thread, which builds and submits its next request.
class driver {
public:
  driver(journal& j, std::mt19937_64& rng, uint64_t preload, uint64_t old_percent,
         uint64_t& next_order, std::vector<uint8_t>& old_seq)
      : j_(j), rng_(rng), preload_(preload), old_percent_(old_percent), next_order_(next_order),
        old_seq_(old_seq) {}

  phase_result run(size_t n, double seconds);

private:
  struct sub {
    std::string entity;
    uint64_t seq = 0; // expected seq of the next append
    int left = 0;     // appends left in this order's saga
    int64_t old = -1; // index of the old order this append goes to, or -1
  };
  struct done_item {
    size_t index;
    bool ok, conflict;
    uint32_t latency_us;
  };

  void start_new_order(sub& s);
  void advance(sub& s);
  void submit(size_t i);

  journal& j_;
  std::mt19937_64& rng_;
  uint64_t preload_;
  uint64_t old_percent_;
  uint64_t& next_order_;
  std::vector<uint8_t>& old_seq_;
  std::vector<sub> subs_;
  std::vector<uint32_t> latencies_us_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<done_item> done_;
};

} // namespace journal_bench
