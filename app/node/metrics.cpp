#include "app/node/metrics.hpp"

#include <algorithm>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "app/node/metrics_runtime.hpp"

namespace ordo::node {

const char* to_string(route r) {
  switch (r) {
  case route::place_order:
    return "place_order";
  case route::get_order:
    return "get_order";
  case route::cancel_order:
    return "cancel_order";
  case route::refund_order:
    return "refund_order";
  case route::shipment:
    return "shipment";
  case route::delivery:
    return "delivery";
  case route::payment_webhook:
    return "payment_webhook";
  case route::events:
    return "events";
  case route::feed_consumers:
    return "feed_consumers";
  case route::get_inventory:
    return "get_inventory";
  case route::adjust_inventory:
    return "adjust_inventory";
  case route::restock_inventory:
    return "restock_inventory";
  case route::price_inventory:
    return "price_inventory";
  case route::owner_inventory:
    return "owner_inventory";
  case route::admin_command:
    return "admin_command";
  case route::health:
    return "health";
  case route::metrics:
    return "metrics";
  case route::other:
  case route::count_:
    break;
  }
  return "other";
}

namespace {
constexpr const char* requests_name = "ordo_http_requests_total";
constexpr const char* latency_name = "ordo_http_request_duration_seconds";
constexpr std::array<const char*, 4> class_names = {"2xx", "4xx", "429", "5xx"};

// A route never answered with a status class keeps its series at zero; like the scrapes
// before prometheus-cpp, /metrics shows only the pairs that happened.
void drop_unanswered(std::vector<prometheus::MetricFamily>& families) {
  for (auto& f : families) {
    auto& ms = f.metric;
    if (f.name == requests_name)
      ms.erase(std::remove_if(ms.begin(), ms.end(), [](auto& m) { return m.counter.value == 0; }),
               ms.end());
    else if (f.name == latency_name)
      ms.erase(std::remove_if(ms.begin(), ms.end(),
                              [](auto& m) { return m.histogram.sample_count == 0; }),
               ms.end());
  }
}
} // namespace

metrics::metrics() : registry_(std::make_unique<prometheus::Registry>()) {
  auto& requests = prometheus::BuildCounter()
                       .Name(requests_name)
                       .Help("HTTP requests answered, by route and status class")
                       .Register(*registry_);
  auto& latency = prometheus::BuildHistogram()
                      .Name(latency_name)
                      .Help("time from a request's arrival to its answer, by route")
                      .Register(*registry_);
  const prometheus::Histogram::BucketBoundaries bounds(bounds_s.begin(), bounds_s.end());
  for (size_t r = 0; r < routes; ++r) {
    const std::string name = to_string(static_cast<route>(r));
    for (size_t c = 0; c < classes; ++c)
      requests_[r][c] = &requests.Add({{"route", name}, {"status", class_names[c]}});
    latency_[r] = &latency.Add({{"route", name}}, bounds);
  }
  open_connections_ = &prometheus::BuildGauge()
                           .Name("ordo_http_connections_open")
                           .Help("open HTTP connections")
                           .Register(*registry_)
                           .Add({});
  refused_connections_ = &prometheus::BuildCounter()
                              .Name("ordo_http_connections_refused_total")
                              .Help("connections refused at http.connections_max")
                              .Register(*registry_)
                              .Add({});
}

metrics::~metrics() = default;

void metrics::record(route r, int status, std::chrono::steady_clock::duration took) {
  const auto i = static_cast<size_t>(r);
  const size_t cls = status == 429 ? 2 : status >= 500 ? 3 : status >= 400 ? 1 : 0;
  requests_[i][cls]->Increment();
  latency_[i]->Observe(std::chrono::duration<double>(took).count());
}

void metrics::connection_opened() {
  open_connections_->Increment();
}

void metrics::connection_closed() {
  open_connections_->Decrement();
}

void metrics::connection_refused() {
  refused_connections_->Increment();
}

std::string metrics::render(const runtime& rt, const cluster::link_stats* link,
                            const std::vector<std::pair<std::string, uint64_t>>& consumers) const {
  auto families = registry_->Collect();
  drop_unanswered(families);
  append_runtime_families(families, rt, consumers);
  if (link) append_cluster_families(families, *link);
  return prometheus::TextSerializer{}.Serialize(families);
}

} // namespace ordo::node
