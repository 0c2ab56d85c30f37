#pragma once
// The node's metrics in Prometheus text format (GET /metrics).
//
// HTTP request counts and latency histograms are recorded here per route, lock-free (fixed
// arrays of atomics: routes and buckets are known at compile time). Runtime, journal and saga
// figures are read from the runtime at scrape time, so they cost nothing between scrapes.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ordo {
class runtime;
}
namespace ordo::cluster {
struct link_stats;
}

namespace ordo::node {

enum class route : uint8_t {
  place_order,
  get_order,
  cancel_order,
  refund_order,
  shipment,
  delivery,
  payment_webhook,
  events,
  feed_consumers,
  get_inventory,
  adjust_inventory,
  restock_inventory,
  price_inventory,
  owner_inventory,
  admin_command,
  health,
  metrics,
  other, // unknown paths, early errors
  count_
};
const char* to_string(route r);

class metrics {
public:
  static constexpr size_t routes = static_cast<size_t>(route::count_);
  static constexpr size_t buckets = 14; // the last one is +Inf
  static constexpr std::array<double, buckets - 1> bounds_s = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

  void record(route r, int status, std::chrono::steady_clock::duration took);
  void connection_opened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_refused() { refused_connections_.fetch_add(1, std::memory_order_relaxed); }

  /// The whole exposition: HTTP figures plus the runtime's, read now, plus the cluster link's
  /// when the node is in a cluster.
  /// `consumers`: the named feed consumers and their offsets (their lag is shown).
  std::string render(const runtime& rt, const cluster::link_stats* link = nullptr,
                     const std::vector<std::pair<std::string, uint64_t>>& consumers = {}) const;

private:
  // Status classes counted per route: 2xx, 4xx except 429, 429, 5xx.
  static constexpr size_t classes = 4;
  struct per_route {
    std::array<std::atomic<uint64_t>, classes> by_class{};
    std::array<std::atomic<uint64_t>, buckets> latency{};
    std::atomic<uint64_t> latency_us_sum{0};
  };
  std::array<per_route, routes> routes_{};
  std::atomic<int64_t> open_connections_{0};
  std::atomic<uint64_t> refused_connections_{0};
};

} // namespace ordo::node
