#pragma once
// The node's metrics in Prometheus text format (GET /metrics), kept and written by
// prometheus-cpp's core library (docs/dependencies.md): its registry holds the HTTP series and
// its TextSerializer writes the exposition (HELP and TYPE lines, label escaping, cumulative
// histogram buckets ending in +Inf). The node serves the text on its own listener (api.cpp);
// prometheus-cpp's HTTP server is not used.
//
// A request costs a counter's atomic add and a histogram observation on series found once, at
// construction — never a lookup by name and labels. Runtime, journal, saga and cluster figures
// are read from the runtime at scrape time (metrics_runtime.hpp), so they cost nothing between
// scrapes.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
} // namespace prometheus
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
  /// Upper bounds of the request-latency buckets; a last bucket, +Inf, follows.
  static constexpr std::array<double, 13> bounds_s = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

  metrics();
  ~metrics();
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  void record(route r, int status, std::chrono::steady_clock::duration took);
  void connection_opened();
  void connection_closed();
  void connection_refused();

  /// The whole exposition: HTTP figures plus the runtime's, read now, plus the cluster link's
  /// when the node is in a cluster. HTTP series of a route and status class never answered
  /// are left out.
  /// `consumers`: the named feed consumers and their offsets (their lag is shown).
  std::string render(const runtime& rt, const cluster::link_stats* link = nullptr,
                     const std::vector<std::pair<std::string, uint64_t>>& consumers = {}) const;

private:
  // Status classes counted per route: 2xx, 4xx except 429, 429, 5xx.
  static constexpr size_t classes = 4;
  std::unique_ptr<prometheus::Registry> registry_;
  // Owned by registry_'s families; found once so that record() looks nothing up.
  std::array<std::array<prometheus::Counter*, classes>, routes> requests_{};
  std::array<prometheus::Histogram*, routes> latency_{};
  prometheus::Gauge* open_connections_ = nullptr;
  prometheus::Counter* refused_connections_ = nullptr;
};

} // namespace ordo::node
