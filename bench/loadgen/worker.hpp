// One event-loop thread with its own connections, driver (the mix or a flow: driver.hpp) and
// stats (no sharing on the hot path). Closed loop: a connection sends its next request when
// the answer arrives — or, when the driver has nothing for it (the saga flow at its cap of open
// orders), as soon as the driver has (after another answer, or at its wake_at()). Open loop
// (the mix only): this worker's share of --rate at fixed intended times, sent on whichever
// connection is idle; latency counts from the intended time, so waiting for a free
// connection is included (no coordinated omission).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ack_log.hpp"
#include "driver.hpp"
#include "endpoint.hpp"
#include "http_conn.hpp"
#include "options.hpp"
#include "stats.hpp"

namespace ordo::loadgen {

class worker {
public:
  worker(const options& opts, unsigned index, unsigned connections, const endpoint& node,
         const run_clock& timeline, ack_log* acks, const std::atomic<bool>& stop);
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;
  ~worker();

  // Runs until the driver says the run is over (the mix: the timeline's end) or `stop`. Call
  // once, on the worker's own thread.
  void run();
  // Final figures; read after run() returned.
  const run_stats& stats() const { return stats_; }
  run_stats& stats() { return stats_; }
  // The driver, for what it has to say after the run (orders_to_verify()).
  const driver& flow() const { return *driver_; }
  // Set when run() returned. Thread-safe.
  bool done() const { return done_.load(std::memory_order_acquire); }
  // Adds everything answered since the previous call (warmup included) to `into`. Thread-safe.
  void take_progress(op_stats& into);

private:
  struct slot {
    http_conn conn;
    bool in_flight = false;
    op_kind op = op_kind::place;
    clock_type::time_point intended; // latency is measured from here
    clock_type::time_point sent;     // service time (2xx) is measured from here
    clock_type::time_point deadline; // of the request in flight, or of the connect
    clock_type::time_point reconnect_at;
    bool reconnect_pending = false;
    bool listed_idle = false; // in idle_ (lazily cleaned, see pop_idle)
    unsigned failures = 0;    // consecutive; drives the backoff
    std::string idem_key;
  };
  enum class failure { conn_error, timeout, proto_error, idle_close };

  void start_connect(size_t i, clock_type::time_point now);
  void handle(size_t i, uint32_t events);
  void on_response(size_t i);
  void on_failure(size_t i, failure kind, clock_type::time_point now);
  void become_ready(size_t i, clock_type::time_point now);
  // False when the driver had nothing to send (the slot stays idle).
  bool send_on(size_t i, clock_type::time_point intended, clock_type::time_point now);
  void dispatch_idle(clock_type::time_point now); // closed loop: idle slots, if the driver has work
  void scan(clock_type::time_point now);          // deadlines and due reconnects
  void publish();
  bool measured(clock_type::time_point t) const { return t >= clock_.measure_start; }

  // Open loop: request k of this worker is intended at start + (index + k * threads) / rate.
  clock_type::time_point intended_at(uint64_t k) const;
  uint64_t first_at_or_after(clock_type::time_point t) const;
  void dispatch_due(clock_type::time_point now);
  size_t pop_idle(); // SIZE_MAX when no connection is idle

  void arm_timer(clock_type::time_point wake);
  void mark_idle(size_t i);

  const options& opts_;
  unsigned index_;
  endpoint node_;
  run_clock clock_;
  ack_log* acks_;
  const std::atomic<bool>& stop_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  clock_type::time_point armed_{};
  std::vector<slot> slots_;
  std::vector<size_t> idle_; // open loop, and closed-loop slots the driver had nothing for
  run_stats stats_;          // before driver_, which writes its flow figures into it
  std::unique_ptr<driver> driver_;
  std::atomic<bool> done_{false};
  std::string request_;
  uint64_t next_k_ = 0;  // open loop: next request not yet sent or given up
  uint64_t total_k_ = 0; // open loop: requests intended before the end

  op_stats progress_local_; // since the last publish(); this thread only
  std::mutex progress_mu_;
  op_stats progress_shared_;
};

} // namespace ordo::loadgen
