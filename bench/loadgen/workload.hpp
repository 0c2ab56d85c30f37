// The mix (the default, without --flow): draws the next op from the weights and writes its
// complete HTTP/1.1 request (docs/api.md) — PlaceOrder bodies with 1-3 random lines, gets,
// shipments and payment webhooks on remembered order ids, each independent of the others.
// One per worker thread; not thread-safe.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "driver.hpp"
#include "id_ring.hpp"
#include "json_scan.hpp"
#include "op.hpp"
#include "options.hpp"

namespace ordo::loadgen {

class workload final : public driver {
public:
  workload(const options& opts, unsigned thread_index, const run_clock& timeline);

  // Draws from the mix; every op is a place until an order id has been remembered.
  op_kind next_op();
  // Replaces `out` with the request for `op` (next_op()'s answer). For a place, `idem_key`
  // receives its Idempotency-Key (for the ack log); otherwise it is cleared.
  void build_request(op_kind op, std::string& out, std::string& idem_key);
  // Remembers a placed order's id (find_order_id() of its 2xx answer) for get/ship/pay.
  void remember(std::string_view order_id) {
    if (!order_id.empty()) ids_.push(order_id);
  }

  // driver: always something to send until the end; 2xx placements are remembered.
  bool next(size_t conn, clock_type::time_point now, op_kind& op, std::string& out,
            std::string& idem_key) override;
  void on_answer(size_t conn, op_kind op, int status, std::string_view body,
                 clock_type::time_point now) override;
  void on_lost(size_t, op_kind, clock_type::time_point) override {}
  bool active(clock_type::time_point now) const override { return now < clock_.end; }
  std::mt19937_64& rng() override { return rng_; }

private:
  void build_place(std::string& out, std::string& idem_key);
  const std::string& random_id();

  const options& opts_;
  unsigned thread_index_;
  run_clock clock_;
  std::mt19937_64 rng_;
  std::discrete_distribution<unsigned> mix_;
  id_ring ids_;
  uint64_t placed_ = 0; // per-thread counter behind Idempotency-Keys
  uint64_t shipped_ = 0;
  std::string head_common_; // Host and Authorization lines, built once
  std::string body_;        // scratch
};

} // namespace ordo::loadgen
