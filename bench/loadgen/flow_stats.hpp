// The figures of a flow (--flow) beyond the per-op counters: what happened to whole orders.
// Each worker's driver fills its own; they are merged at the end.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "histogram.hpp"

namespace ordo::loadgen {

struct flow_stats {
  // steps: orders whose placement was sent in the measured window
  uint64_t orders_started = 0;
  uint64_t orders_completed = 0; // every step 2xx, the last (ship) sent in the window
  uint64_t orders_abandoned = 0; // a step answered non-2xx or got no answer (in the window)

  // saga: orders placed (2xx) in the measured window, followed to the end
  uint64_t orders_placed = 0;
  uint64_t delivered = 0;
  uint64_t rejected = 0;     // ORDER_STATUS_REJECTED (stock, price)
  uint64_t cancelled = 0;    // ORDER_STATUS_CANCELLED (declined, payment timeout)
  uint64_t other_closed = 0; // ORDER_STATUS_REFUNDED: nobody refunds here, so a surprise
  uint64_t unfinished = 0;   // still open when the drain timed out (or the run was stopped)
  uint64_t polls = 0;        // GETs answered for these orders (all statuses)
  // Time to delivered on the node's clock: OrderState.updated_at_ms - placed_at_ms.
  histogram to_delivered;
  int64_t first_placed_ms = std::numeric_limits<int64_t>::max(); // node clock, unix ms
  int64_t last_delivered_ms = 0;
  uint64_t inflight_max = 0; // most orders open at once (per thread, summed over threads)

  std::string failure_sample; // the first abandoned step or closed order, for the summary

  // after the run: completed orders read back (steps)
  uint64_t verify_checked = 0;
  uint64_t verify_ok = 0;
  std::string verify_sample; // the first mismatch

  // before the run (saga; set on the merged total, not merged): setup.hpp's prepare_skus
  uint64_t skus_prepared = 0;
  uint64_t skus_priced = 0;
  uint64_t units_added = 0;

  void merge(const flow_stats& o) {
    orders_started += o.orders_started;
    orders_completed += o.orders_completed;
    orders_abandoned += o.orders_abandoned;
    orders_placed += o.orders_placed;
    delivered += o.delivered;
    rejected += o.rejected;
    cancelled += o.cancelled;
    other_closed += o.other_closed;
    unfinished += o.unfinished;
    polls += o.polls;
    to_delivered.merge(o.to_delivered);
    first_placed_ms = std::min(first_placed_ms, o.first_placed_ms);
    last_delivered_ms = std::max(last_delivered_ms, o.last_delivered_ms);
    inflight_max += o.inflight_max;
    if (failure_sample.empty()) failure_sample = o.failure_sample;
    verify_checked += o.verify_checked;
    verify_ok += o.verify_ok;
    if (verify_sample.empty()) verify_sample = o.verify_sample;
  }
};

} // namespace ordo::loadgen
