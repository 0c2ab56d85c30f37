#include "app/node/metrics_runtime.hpp"

#include <array>
#include <initializer_list>
#include <limits>

#include "actors/cluster/cluster_link.hpp"
#include "ordo/runtime.hpp"
#include "storage/journal.hpp"

namespace ordo::node {

namespace {
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using labels = std::vector<ClientMetric::Label>;
constexpr auto counter = MetricType::Counter;
constexpr auto gauge = MetricType::Gauge;

// A family of `type` with `help`, to which samples are then added.
MetricFamily family(const char* name, MetricType type, const char* help) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

// One sample of a counter or gauge family.
void add(MetricFamily& f, double value, labels l = {}) {
  ClientMetric m;
  m.label = std::move(l);
  if (f.type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

// A family with one unlabelled sample.
MetricFamily single(const char* name, MetricType type, const char* help, double value) {
  auto f = family(name, type, help);
  add(f, value);
  return f;
}

// A family split by one label: a sample per (label value, figure).
MetricFamily by_label(const char* name, MetricType type, const char* help, const char* label,
                      std::initializer_list<std::pair<const char*, double>> values) {
  auto f = family(name, type, help);
  for (const auto& [value, figure] : values)
    add(f, figure, {{label, value}});
  return f;
}

// A histogram family with one unlabelled series, from non-cumulative bucket counts: one per
// bound (seconds), then the +Inf bucket.
template <size_t Bounds, size_t Buckets>
MetricFamily histogram(const char* name, const char* help,
                       const std::array<double, Bounds>& bounds_s,
                       const std::array<uint64_t, Buckets>& counts, double sum_s) {
  static_assert(Buckets == Bounds + 1, "one count per bound, then +Inf");
  ClientMetric m;
  uint64_t cumulative = 0;
  for (size_t b = 0; b < Buckets; ++b) {
    cumulative += counts[b];
    const double bound = b < Bounds ? bounds_s[b] : std::numeric_limits<double>::infinity();
    m.histogram.bucket.push_back({cumulative, bound});
  }
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = sum_s;
  auto f = family(name, MetricType::Histogram, help);
  f.metric.push_back(std::move(m));
  return f;
}

void append_commands(std::vector<MetricFamily>& out, const runtime_stats& st) {
  out.push_back(by_label("ordo_commands_total", counter, "commands by what happened to them",
                         "result",
                         {{"submitted", st.submitted},
                          {"answered", st.answered},
                          {"overloaded", st.overloaded}}));
  out.push_back(single("ordo_commands_in_flight", gauge, "commands accepted and not yet answered",
                       static_cast<double>(st.in_flight)));
  out.push_back(single("ordo_actors_active", gauge, "live entity actors (orders and SKUs)",
                       static_cast<double>(st.active)));
  out.push_back(by_label("ordo_actor_lifecycle_total", counter,
                         "activations, passivations, crashes", "event",
                         {{"activated", st.activations},
                          {"passivated", st.passivations},
                          {"crashed", st.crashes},
                          {"quarantined", st.quarantined}}));
  out.push_back(single("ordo_idempotency_expired_total", counter,
                       "idempotency records deleted after journal.idempotency_retention",
                       st.idempotency_expired));
  out.push_back(single("ordo_feed_truncated_total", counter,
                       "log records removed by journal.feed_retention", st.feed_truncated));
  out.push_back(single("ordo_feed_retention_snapshots_total", counter,
                       "snapshots written by feed retention before truncating", st.feed_snapshots));
}

void append_journal(std::vector<MetricFamily>& out, const runtime& rt) {
  out.push_back(single("ordo_journal_fail_stopped", gauge,
                       "1 once a journal write or sync failed: commands fail until a restart",
                       rt.fail_stop_error() ? 1 : 0));
  auto js = rt.journal_stats();
  out.push_back(single("ordo_journal_batches_total", counter, "group commits", js.batches));
  out.push_back(single("ordo_journal_batched_appends_total", counter,
                       "appends in group commits (divide by batches: mean batch size)",
                       js.requests));
  out.push_back(
      single("ordo_journal_queue_depth", gauge, "appends waiting for the writer", js.queued));
  static constexpr auto commit_bounds_s = [] {
    std::array<double, storage::journal::commit_latency_bounds_us.size()> b{};
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<double>(storage::journal::commit_latency_bounds_us[i]) / 1e6;
    return b;
  }();
  out.push_back(histogram("ordo_journal_commit_seconds",
                          "write transaction begin to durable commit", commit_bounds_s,
                          js.commit_buckets, static_cast<double>(js.commit_us_sum) / 1e6));
}

void append_feed_and_saga(std::vector<MetricFamily>& out, const runtime& rt,
                          const std::vector<std::pair<std::string, uint64_t>>& consumers) {
  auto head = rt.feed_head();
  out.push_back(
      single("ordo_feed_head", gauge, "newest event feed position", head ? *head : 0));
  auto ss = rt.saga_stats();
  auto lag = family("ordo_feed_consumer_lag", gauge,
                    "feed positions not yet fully handled, per consumer");
  auto add_lag = [&](const std::string& name, uint64_t offset) {
    add(lag, head && *head > offset ? *head - offset : 0, {{"consumer", name}});
  };
  add_lag("saga", ss.low_water);
  for (const auto& [name, offset] : consumers)
    add_lag(name, offset);
  out.push_back(std::move(lag));
  out.push_back(by_label("ordo_saga_total", counter, "saga work", "what",
                         {{"events", ss.events},
                          {"commands", ss.commands},
                          {"gateway_calls", ss.gateway_calls},
                          {"retries", ss.retries},
                          {"recovered", ss.recovered},
                          {"payment_timeouts", ss.timeouts}}));
  out.push_back(single("ordo_saga_parked_effects", gauge,
                       "saga effects out of retries, tried again at saga.parked_retry_every",
                       ss.stuck));
}
} // namespace

void append_runtime_families(std::vector<MetricFamily>& out, const runtime& rt,
                             const std::vector<std::pair<std::string, uint64_t>>& consumers) {
  append_commands(out, rt.stats());
  append_journal(out, rt);
  append_feed_and_saga(out, rt, consumers);
}

void append_cluster_families(std::vector<MetricFamily>& out, const cluster::link_stats& s) {
  out.push_back(single("ordo_cluster_forwarded_total", counter,
                       "commands forwarded to their owner node", s.forwarded));
  out.push_back(
      single("ordo_cluster_forward_failed_total", counter,
             "forwarded commands the owner did not answer (down, unreachable, timed out)",
             s.forward_failed));
  out.push_back(histogram("ordo_cluster_forward_seconds",
                          "time from forwarding to the owner's answer",
                          cluster::link_stats::forward_bounds_s, s.forward_buckets,
                          static_cast<double>(s.forward_us_sum) / 1e6));
  out.push_back(single("ordo_cluster_received_total", counter,
                       "commands received from other nodes", s.received));
  out.push_back(single("ordo_cluster_refused_total", counter,
                       "forwarded commands refused (malformed or a different cluster map)",
                       s.refused));
  auto up = family("ordo_cluster_peer_up", gauge, "1 while the peer's ingress is connected");
  for (const auto& [id, connected] : s.peers)
    add(up, connected ? 1 : 0, {{"node", std::to_string(id)}});
  out.push_back(std::move(up));
  auto owned = family("ordo_cluster_shards_owned", gauge, "shards this node owns");
  add(owned, static_cast<double>(s.shards_owned), {{"node", std::to_string(s.self)}});
  out.push_back(std::move(owned));
  out.push_back(single("ordo_cluster_shards_moved_out_total", counter,
                       "shards this node handed to another node (membership changes)",
                       s.shards_moved_out));
  out.push_back(single("ordo_cluster_shards_moved_in_total", counter,
                       "shards this node took over by handoff", s.shards_moved_in));
  out.push_back(
      single("ordo_cluster_handoff_entities_imported_total", counter,
             "entities (orders, SKUs, placement records) written here by handoffs",
             s.records_imported));
}

} // namespace ordo::node
