// --flow steps: each connection drives one fresh order at a time through its life, one
// durable transition per request, on a node with the saga off (`--saga.enabled=false`), the
// client playing inventory, payment provider and warehouse:
//
//   place    POST /v1/orders                                              -> PLACED
//   reserve  POST /v1/admin/order-commands {"confirm_stock_reserved":{}}  -> STOCK_RESERVED
//   pay      POST /v1/webhooks/payment authorized, amount = the total     -> PAYMENT_AUTHORIZED
//   fulfil   POST /v1/admin/order-commands {"start_fulfilment":{}}        -> FULFILLING
//   ship     POST /v1/orders/{id}/shipment                                -> SHIPPED
//
// `reserve` is the order's own transition only: no inventory is reserved (that is the saga's
// Reserve per SKU). Admin commands need an operations key (or a node without keys); the
// webhook is signed with --webhook-secret when given. A step counts only when answered 2xx;
// anything else (or no answer) abandons the order and the connection places a new one.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "driver.hpp"
#include "flow_stats.hpp"
#include "id_ring.hpp"
#include "requests.hpp"

namespace ordo::loadgen {

class steps_flow final : public driver {
public:
  steps_flow(const options& opts, unsigned thread_index, unsigned connections,
             const run_clock& timeline, flow_stats& out);

  bool next(size_t conn, clock_type::time_point now, op_kind& op, std::string& out,
            std::string& idem_key) override;
  void on_answer(size_t conn, op_kind op, int status, std::string_view body,
                 clock_type::time_point now) override;
  void on_lost(size_t conn, op_kind op, clock_type::time_point now) override;
  bool active(clock_type::time_point now) const override { return now < clock_.end; }
  std::vector<std::string> orders_to_verify() const override;
  std::mt19937_64& rng() override { return rng_; }

private:
  struct conn_state {
    size_t step = 0; // index into the step sequence; 0 = place a new order
    uint64_t order_no = 0;
    std::string order_id;
    uint64_t total_minor = 0;
    bool started_measured = false; // its placement was sent in the measured window
    bool step_measured = false;    // the request in flight was sent in the measured window
  };

  void build_place(conn_state& c, std::string& out, std::string& idem_key);
  void abandon(conn_state& c, op_kind op, std::string_view why);

  const options& opts_;
  unsigned thread_index_;
  run_clock clock_;
  flow_stats& stats_;
  std::mt19937_64 rng_;
  std::vector<conn_state> conns_;
  id_ring completed_; // the newest completed orders, read back after the run (--verify)
  uint64_t orders_ = 0;
  std::string head_;
  std::string body_;
  std::string target_;
};

} // namespace ordo::loadgen
