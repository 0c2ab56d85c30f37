// What a run measured, per op: answers by status class, failures by kind, latency. Each worker
// thread fills its own; they are merged at the end (and per second for the progress line).
#pragma once

#include <array>
#include <cstdint>

#include "flow_stats.hpp"
#include "histogram.hpp"
#include "op.hpp"

namespace ordo::loadgen {

struct counters {
  uint64_t responses = 0; // answers with a status line, any status
  uint64_t status_2xx = 0;
  uint64_t status_409 = 0;
  uint64_t status_429 = 0;
  uint64_t status_4xx = 0; // other 4xx
  uint64_t status_5xx = 0;
  uint64_t status_other = 0; // 1xx/3xx: not expected from the node
  uint64_t conn_errors = 0;  // refused, reset, closed mid-request, failed connects
  uint64_t timeouts = 0;     // no complete answer within --timeout of sending
  uint64_t unsent = 0;       // open loop: could not be sent within --timeout of its intended time
  uint64_t proto_errors = 0; // unparseable answers

  void count_status(int status);
  void add(const counters& o);
  uint64_t errors() const { return conn_errors + timeouts + unsent + proto_errors; }
};

struct op_stats {
  counters c;
  histogram latency;     // of answers, measured from the intended send time
  histogram latency_2xx; // of accepted answers only (overload refusals are fast)
  histogram service_2xx; // accepted answers, from the moment the request was sent: the node's
                         // time plus the wire, without waiting for a free connection
  void merge(const op_stats& o) {
    c.add(o.c);
    latency.merge(o.latency);
    latency_2xx.merge(o.latency_2xx);
    service_2xx.merge(o.service_2xx);
  }
  void reset() {
    c = counters{};
    latency.reset();
    latency_2xx.reset();
    service_2xx.reset();
  }
};

struct run_stats {
  std::array<op_stats, op_count> ops;
  // Failures that belong to no op: connects that fail with nothing sent yet, and open-loop
  // requests given up as unsent before an op was drawn for them.
  counters unassigned;
  uint64_t acked_orders = 0; // 2xx placements, warmup included (= ack-log lines)
  // Open loop: requests already due but not sent when the run ended (the server fell behind).
  uint64_t backlog_at_end = 0;
  flow_stats flow; // --flow only

  void merge(const run_stats& o);
  op_stats total() const;
};

} // namespace ordo::loadgen
