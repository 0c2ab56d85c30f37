// What a worker's connections send and what the answers mean: the mix (workload.hpp), or a
// flow that drives each order through its life (steps_flow.hpp, saga_flow.hpp). The worker
// owns the sockets, timeouts, reconnects and per-op stats; the driver only chooses requests.
// One driver per worker thread, called only from that thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "op.hpp"
#include "options.hpp"

namespace ordo::loadgen {

using clock_type = std::chrono::steady_clock;

// The run's timeline, shared by all workers.
struct run_clock {
  clock_type::time_point start;
  clock_type::time_point measure_start; // start + warmup: requests intended earlier not counted
  clock_type::time_point end;           // measure_start + duration: in-flight work abandoned
};

struct run_stats;

class driver {
public:
  virtual ~driver() = default;

  // Connection `conn`'s next request: its op, the whole HTTP request in `out`, and for a
  // placement its Idempotency-Key in `idem_key` (for the ack log; cleared otherwise). False:
  // nothing to send now — the worker asks again after the next answer or at wake_at().
  virtual bool next(size_t conn, clock_type::time_point now, op_kind& op, std::string& out,
                    std::string& idem_key) = 0;
  // The answer to the request next() gave `conn`.
  virtual void on_answer(size_t conn, op_kind op, int status, std::string_view body,
                         clock_type::time_point now) = 0;
  // That request got no answer: connection error, timeout, protocol error, unsent.
  virtual void on_lost(size_t conn, op_kind op, clock_type::time_point now) = 0;
  // Whether the run goes on. The mix and the steps flow stop at the timeline's end; the saga
  // flow keeps polling its open orders after it, for at most --drain-timeout.
  virtual bool active(clock_type::time_point now) const = 0;
  // When an idle connection may have something to send without an answer arriving first.
  virtual clock_type::time_point wake_at() const { return clock_type::time_point::max(); }
  // Called once after the run, before the stats are read: final counts.
  virtual void finish(clock_type::time_point /*now*/) {}
  // Order ids to read back after the run, and the status each must have (steps: the newest
  // completed orders, SHIPPED).
  virtual std::vector<std::string> orders_to_verify() const { return {}; }
  // Random source for the worker's reconnect jitter (shared with the draws, as before flows).
  virtual std::mt19937_64& rng() = 0;
};

// The driver for opts.flow; it writes its flow figures into `stats.flow`.
std::unique_ptr<driver> make_driver(const options& opts, unsigned thread_index,
                                    unsigned connections, const run_clock& timeline,
                                    run_stats& stats);

} // namespace ordo::loadgen
