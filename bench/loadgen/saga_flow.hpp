// --flow saga: the connections place orders (--lines distinct SKUs each) on a node with the
// saga on, and follow each one with GET /v1/orders/{id} until it is DELIVERED or closed
// (REJECTED, CANCELLED). The SKUs were given their price of record and stock before the run
// (setup.hpp). Bounded: at most this thread's share of --inflight-orders are open (placement
// in flight, or placed and not yet seen finished); at the cap, connections only poll, and
// placements wait for room — backpressure instead of an unbounded list.
//
// Polling at a modest rate: an order's first GET comes after about the recent time to
// delivered (a moving average, at least --poll-every), later ones every --poll-every, so an
// order costs one or two GETs in a steady run. The time to delivered is read from the order
// itself on the node's clock (updated_at_ms of the DELIVERED state - placed_at_ms), so it
// does not depend on the poll cadence. After --duration no new orders are placed; the open
// ones are polled for at most --drain-timeout.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "driver.hpp"
#include "flow_stats.hpp"
#include "requests.hpp"

namespace ordo::loadgen {

class saga_flow final : public driver {
public:
  saga_flow(const options& opts, unsigned thread_index, unsigned connections,
            const run_clock& timeline, flow_stats& out);

  bool next(size_t conn, clock_type::time_point now, op_kind& op, std::string& out,
            std::string& idem_key) override;
  void on_answer(size_t conn, op_kind op, int status, std::string_view body,
                 clock_type::time_point now) override;
  void on_lost(size_t conn, op_kind op, clock_type::time_point now) override;
  bool active(clock_type::time_point now) const override;
  clock_type::time_point wake_at() const override;
  void finish(clock_type::time_point now) override;
  std::mt19937_64& rng() override { return rng_; }

private:
  struct open_order {
    clock_type::time_point poll_at;
    std::string id;
    bool measured = false; // placed in the measured window: counted in the figures
  };
  struct conn_state {
    enum class doing : uint8_t { nothing, placing, polling } what = doing::nothing;
    bool measured = false; // placing: sent in the measured window
    open_order order;      // polling: the order being read
  };

  void build_place(std::string& out, std::string& idem_key);
  void schedule(open_order order); // waits in the heap for its next poll
  void closed(const open_order& order, std::string_view status, std::string_view body);
  clock_type::duration first_poll_delay() const;

  const options& opts_;
  unsigned thread_index_;
  run_clock clock_;
  flow_stats& stats_;
  std::mt19937_64 rng_;
  std::vector<conn_state> conns_;
  std::vector<open_order> waiting_; // min-heap on poll_at; size <= cap_
  size_t cap_;
  size_t open_ = 0;                // placements in flight + placed orders not yet seen finished
  double to_delivered_avg_ms_ = 0; // moving average, warmup included
  uint64_t placed_ = 0;
  std::string head_;
  std::string body_;
  std::string target_;
};

} // namespace ordo::loadgen
