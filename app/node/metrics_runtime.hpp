#pragma once
// The /metrics figures read at scrape time: the runtime's commands and actors, the journal,
// the feed and its consumers, the saga, and the cluster link. Built as prometheus-cpp metric
// families straight from the stats the runtime already keeps, so nothing is stored or updated
// for them between scrapes; metrics::render serializes them with the HTTP series.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>

namespace ordo {
class runtime;
}
namespace ordo::cluster {
struct link_stats;
}

namespace ordo::node {

/// Appends the runtime's families: commands, actors, retention, journal, feed, saga.
/// `consumers`: the named feed consumers and their offsets (shown as lag behind the head).
void append_runtime_families(std::vector<prometheus::MetricFamily>& out, const runtime& rt,
                             const std::vector<std::pair<std::string, uint64_t>>& consumers);

/// Appends the cluster link's families: forwarding, peers, shard ownership and handoffs.
void append_cluster_families(std::vector<prometheus::MetricFamily>& out,
                             const cluster::link_stats& s);

} // namespace ordo::node
