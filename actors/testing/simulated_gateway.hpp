#pragma once
// A payment gateway double for demos, tests and benchmarks: the default gateway of an
// embedded runtime that is given none (include/ordo/saga_config.hpp).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "actors/saga/recent_map.hpp"
#include "actors/testing/delay_line.hpp"
#include "ordo/payment_gateway.hpp"

namespace ordo::saga {

/// An in-memory gateway: idempotent per key (the most recent keys_remembered_max keys),
/// deterministic per (seed, order id), with latency (a delay_line) and outage. Voids of
/// an order with no authorization are no-ops.
class simulated_gateway final : public payment_gateway {
public:
  explicit simulated_gateway(simulated_gateway_options o = {});
  ~simulated_gateway() override;

  void authorize(const payment_request& r, payment_callback done) override;
  void capture(const payment_request& r, payment_callback done) override;
  void void_payment(const payment_request& r, payment_callback done) override;
  void refund(const payment_request& r, payment_callback done) override;

  void set_outage(bool on) { outage_ = on; }
  gateway_counts counts() const;
  /// How many times a key was called (retries and re-processing included).
  uint64_t calls(const std::string& key) const;
  /// How many distinct capture / authorization operations touched an order (must be ≤ 1).
  uint64_t captures_of(const std::string& order_id) const;
  uint64_t authorizations_of(const std::string& order_id) const;
  bool voided(const std::string& order_id) const;
  /// Keys and orders it remembers now (each ≤ keys_remembered_max).
  size_t keys_remembered() const;
  size_t orders_remembered() const;

private:
  enum class op : uint8_t { authorize, capture, void_payment, refund };
  void call(op kind, const payment_request& r, payment_callback done);
  payment_result execute(op kind, const payment_request& r); // under mu_
  void deliver(payment_callback done, payment_result res);

  simulated_gateway_options opt_;
  std::atomic<bool> outage_;
  mutable std::mutex mu_;
  struct key_memory {
    bool executed = false;
    payment_result result;
    uint64_t calls = 0;
  };
  struct order_memory {
    uint64_t captures = 0, authorizations = 0;
    bool voided = false;
  };
  recent_map<key_memory> by_key_;
  recent_map<order_memory> by_order_;
  gateway_counts counts_;
  delay_line latency_; // last: destroyed first, dropping answers not given yet
};

} // namespace ordo::saga
