#include "app/node/metrics.hpp"

#include <span>

#include <fmt/core.h>

#include "actors/cluster/cluster_link.hpp"
#include "ordo/runtime.hpp"
#include "storage/journal.hpp"

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

void metrics::record(route r, int status, std::chrono::steady_clock::duration took) {
  auto& m = routes_[static_cast<size_t>(r)];
  size_t cls = status == 429 ? 2 : status >= 500 ? 3 : status >= 400 ? 1 : 0;
  m.by_class[cls].fetch_add(1, std::memory_order_relaxed);
  double s = std::chrono::duration<double>(took).count();
  size_t b = 0;
  while (b < bounds_s.size() && s > bounds_s[b])
    ++b;
  m.latency[b].fetch_add(1, std::memory_order_relaxed);
  m.latency_us_sum.fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()),
      std::memory_order_relaxed);
}

namespace {
void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// One histogram's series: cumulative buckets (bounds in seconds, then +Inf), sum and count.
// `label` is "" or `key="value"` for histograms split by a label.
template <class Counts>
void histogram(std::string& out, std::string_view name, std::string_view label,
               std::span<const double> bounds_s, const Counts& counts, double sum_s) {
  const std::string sep = label.empty() ? "" : ",";
  uint64_t cum = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    cum += counts[b];
    auto le = b < bounds_s.size() ? fmt::format("{}", bounds_s[b]) : std::string{"+Inf"};
    out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, label, sep, le, cum);
  }
  auto braces = label.empty() ? std::string{} : fmt::format("{{{}}}", label);
  out += fmt::format("{}_sum{} {}\n", name, braces, sum_s);
  out += fmt::format("{}_count{} {}\n", name, braces, cum);
}

template <size_t N>
std::array<uint64_t, N> load_all(const std::array<std::atomic<uint64_t>, N>& a) {
  std::array<uint64_t, N> out{};
  for (size_t i = 0; i < N; ++i)
    out[i] = a[i].load(std::memory_order_relaxed);
  return out;
}
} // namespace

namespace {
// A metric with one unlabelled sample.
void single(std::string& out, const char* name, const char* type, const char* help,
            uint64_t value) {
  header(out, name, type, help);
  out += fmt::format("{} {}\n", name, value);
}

void render_cluster(std::string& out, const cluster::link_stats& s) {
  single(out, "ordo_cluster_forwarded_total", "counter", "commands forwarded to their owner node",
         s.forwarded);
  single(out, "ordo_cluster_forward_failed_total", "counter",
         "forwarded commands the owner did not answer (down, unreachable, timed out)",
         s.forward_failed);
  header(out, "ordo_cluster_forward_seconds", "histogram",
         "time from forwarding to the owner's answer");
  histogram(out, "ordo_cluster_forward_seconds", "", cluster::link_stats::forward_bounds_s,
            s.forward_buckets, static_cast<double>(s.forward_us_sum) / 1e6);
  single(out, "ordo_cluster_received_total", "counter", "commands received from other nodes",
         s.received);
  single(out, "ordo_cluster_refused_total", "counter",
         "forwarded commands refused (malformed or a different cluster map)", s.refused);
  header(out, "ordo_cluster_peer_up", "gauge", "1 while the peer's ingress is connected");
  for (const auto& [id, up] : s.peers)
    out += fmt::format("ordo_cluster_peer_up{{node=\"{}\"}} {}\n", id, up ? 1 : 0);
  header(out, "ordo_cluster_shards_owned", "gauge", "shards this node owns");
  out += fmt::format("ordo_cluster_shards_owned{{node=\"{}\"}} {}\n", s.self, s.shards_owned);
  single(out, "ordo_cluster_shards_moved_out_total", "counter",
         "shards this node handed to another node (membership changes)", s.shards_moved_out);
  single(out, "ordo_cluster_shards_moved_in_total", "counter",
         "shards this node took over by handoff", s.shards_moved_in);
  single(out, "ordo_cluster_handoff_entities_imported_total", "counter",
         "entities (orders, SKUs, placement records) written here by handoffs", s.records_imported);
}
} // namespace

std::string metrics::render(const runtime& rt, const cluster::link_stats* link,
                            const std::vector<std::pair<std::string, uint64_t>>& consumers) const {
  std::string out;
  out.reserve(16 * 1024);
  static const char* class_names[classes] = {"2xx", "4xx", "429", "5xx"};
  header(out, "ordo_http_requests_total", "counter",
         "HTTP requests answered, by route and status class");
  for (size_t r = 0; r < routes; ++r)
    for (size_t c = 0; c < classes; ++c)
      if (auto n = routes_[r].by_class[c].load(std::memory_order_relaxed))
        out += fmt::format("ordo_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                           to_string(static_cast<route>(r)), class_names[c], n);
  header(out, "ordo_http_request_duration_seconds", "histogram",
         "time from a request's arrival to its answer, by route");
  for (size_t r = 0; r < routes; ++r) {
    auto counts = load_all(routes_[r].latency);
    uint64_t total = 0;
    for (auto n : counts)
      total += n;
    if (total == 0) continue;
    histogram(out, "ordo_http_request_duration_seconds",
              fmt::format("route=\"{}\"", to_string(static_cast<route>(r))), bounds_s, counts,
              static_cast<double>(routes_[r].latency_us_sum.load()) / 1e6);
  }
  header(out, "ordo_http_connections_open", "gauge", "open HTTP connections");
  out += fmt::format("ordo_http_connections_open {}\n", open_connections_.load());
  header(out, "ordo_http_connections_refused_total", "counter",
         "connections refused at http.connections_max");
  out += fmt::format("ordo_http_connections_refused_total {}\n", refused_connections_.load());

  auto st = rt.stats();
  header(out, "ordo_commands_total", "counter", "commands by what happened to them");
  out += fmt::format("ordo_commands_total{{result=\"submitted\"}} {}\n", st.submitted);
  out += fmt::format("ordo_commands_total{{result=\"answered\"}} {}\n", st.answered);
  out += fmt::format("ordo_commands_total{{result=\"overloaded\"}} {}\n", st.overloaded);
  header(out, "ordo_commands_in_flight", "gauge", "commands accepted and not yet answered");
  out += fmt::format("ordo_commands_in_flight {}\n", st.in_flight);
  header(out, "ordo_actors_active", "gauge", "live entity actors (orders and SKUs)");
  out += fmt::format("ordo_actors_active {}\n", st.active);
  header(out, "ordo_actor_lifecycle_total", "counter", "activations, passivations, crashes");
  out += fmt::format("ordo_actor_lifecycle_total{{event=\"activated\"}} {}\n", st.activations);
  out += fmt::format("ordo_actor_lifecycle_total{{event=\"passivated\"}} {}\n", st.passivations);
  out += fmt::format("ordo_actor_lifecycle_total{{event=\"crashed\"}} {}\n", st.crashes);
  out += fmt::format("ordo_actor_lifecycle_total{{event=\"quarantined\"}} {}\n", st.quarantined);
  single(out, "ordo_idempotency_expired_total", "counter",
         "idempotency records deleted after journal.idempotency_retention", st.idempotency_expired);
  single(out, "ordo_feed_truncated_total", "counter",
         "log records removed by journal.feed_retention", st.feed_truncated);
  single(out, "ordo_feed_retention_snapshots_total", "counter",
         "snapshots written by feed retention before truncating", st.feed_snapshots);

  single(out, "ordo_journal_fail_stopped", "gauge",
         "1 once a journal write or sync failed: commands fail until a restart",
         rt.fail_stop_error() ? 1 : 0);
  auto js = rt.journal_stats();
  header(out, "ordo_journal_batches_total", "counter", "group commits");
  out += fmt::format("ordo_journal_batches_total {}\n", js.batches);
  header(out, "ordo_journal_batched_appends_total", "counter",
         "appends in group commits (divide by batches: mean batch size)");
  out += fmt::format("ordo_journal_batched_appends_total {}\n", js.requests);
  header(out, "ordo_journal_queue_depth", "gauge", "appends waiting for the writer");
  out += fmt::format("ordo_journal_queue_depth {}\n", js.queued);
  header(out, "ordo_journal_commit_seconds", "histogram",
         "write transaction begin to durable commit");
  static constexpr auto commit_bounds_s = [] {
    std::array<double, storage::journal::commit_latency_bounds_us.size()> b{};
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<double>(storage::journal::commit_latency_bounds_us[i]) / 1e6;
    return b;
  }();
  histogram(out, "ordo_journal_commit_seconds", "", commit_bounds_s, js.commit_buckets,
            static_cast<double>(js.commit_us_sum) / 1e6);

  auto head = rt.feed_head();
  header(out, "ordo_feed_head", "gauge", "newest event feed position");
  out += fmt::format("ordo_feed_head {}\n", head ? *head : 0);
  auto ss = rt.saga_stats();
  header(out, "ordo_feed_consumer_lag", "gauge",
         "feed positions not yet fully handled, per consumer");
  auto lag = [&](std::string_view name, uint64_t offset) {
    out += fmt::format("ordo_feed_consumer_lag{{consumer=\"{}\"}} {}\n", name,
                       head && *head > offset ? *head - offset : 0);
  };
  lag("saga", ss.low_water);
  for (auto& [name, offset] : consumers) // names are [A-Za-z0-9._-]: safe as label values
    lag(name, offset);
  header(out, "ordo_saga_total", "counter", "saga work");
  out += fmt::format("ordo_saga_total{{what=\"events\"}} {}\n", ss.events);
  out += fmt::format("ordo_saga_total{{what=\"commands\"}} {}\n", ss.commands);
  out += fmt::format("ordo_saga_total{{what=\"gateway_calls\"}} {}\n", ss.gateway_calls);
  out += fmt::format("ordo_saga_total{{what=\"retries\"}} {}\n", ss.retries);
  out += fmt::format("ordo_saga_total{{what=\"recovered\"}} {}\n", ss.recovered);
  out += fmt::format("ordo_saga_total{{what=\"payment_timeouts\"}} {}\n", ss.timeouts);
  single(out, "ordo_saga_parked_effects", "gauge",
         "saga effects out of retries, tried again at saga.parked_retry_every", ss.stuck);
  if (link) render_cluster(out, *link);
  return out;
}

} // namespace ordo::node
