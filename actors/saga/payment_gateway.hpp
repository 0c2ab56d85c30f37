#pragma once
// The payment gateway as the saga sees it: four asynchronous operations, each carrying an
// idempotency key. A gateway must treat a repeated key as the same operation (return the
// first answer, move no money twice): the saga re-sends after timeouts, crashes and restarts.
//
// Callbacks may run on any thread (also inline, inside the call) and must be called at most
// once. A gateway that does not answer (an outage) is allowed: the saga times the call out
// and retries with the same key; the order's durable payment timer cancels the order.
//
// A host plugs its real gateway in through runtime_config::saga.gateway; without one the
// runtime uses simulated_gateway, deterministic for a given seed.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "actors/saga/recent_map.hpp"
#include "ordo/v1/common.pb.h"

namespace ordo::saga {

struct payment_request {
  std::string idempotency_key; // deterministic: (order, event sequence, step)
  std::string order_id;
  std::string payment_id; // capture/void/refund; empty on authorize, and on void = "any"
  v1::Money amount;       // authorize, capture, refund
};

enum class payment_status : uint8_t {
  approved, // done (authorize: payment_id names the authorization)
  declined, // authorize only: a definitive no
  failed,   // transient gateway error: retry with the same key
  pending,  // authorize only: accepted by the gateway, whose answer arrives later from
            // outside (a webhook submits it to the order); the order's durable payment
            // timer cancels it if no answer comes
};

struct payment_result {
  payment_status status = payment_status::failed;
  std::string payment_id;
  std::string reason;
};

using payment_callback = std::function<void(payment_result)>;

class payment_gateway {
public:
  virtual ~payment_gateway() = default;
  virtual void authorize(const payment_request& r, payment_callback done) = 0;
  virtual void capture(const payment_request& r, payment_callback done) = 0;
  virtual void void_payment(const payment_request& r, payment_callback done) = 0;
  virtual void refund(const payment_request& r, payment_callback done) = 0;
};

struct simulated_gateway_options {
  uint64_t seed = 1;
  double decline_rate = 0.0;            // share of orders whose authorization is declined
  std::chrono::milliseconds latency{0}; // per call; 0 answers inline
  bool outage = false;                  // never answer (settable at run time too)
  // Idempotency keys (and per-order counts) remembered: the most recent this many. A retry of
  // an older key is executed again, as with a real provider past its key retention. Bounds
  // the gateway's memory however many orders a node takes (~200 bytes per key).
  size_t keys_remembered_max = 100'000;
};

/// What the simulated gateway did, for tests and benchmarks.
struct gateway_counts {
  uint64_t calls = 0;    // every call, retries included
  uint64_t executed = 0; // operations performed for the first time (per key)
  uint64_t authorized = 0, declined = 0, captured = 0, voided = 0, refunded = 0;
  int64_t captured_minor = 0, refunded_minor = 0;
};

/// An in-memory gateway: idempotent per key (the most recent keys_remembered_max keys),
/// deterministic per (seed, order id), with latency (one timer thread) and outage. Voids of
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
  // Latency: answers wait in a queue served by one thread.
  struct delayed {
    std::chrono::steady_clock::time_point due;
    uint64_t n;
    std::function<void()> fn;
    bool operator>(const delayed& o) const { return due != o.due ? due > o.due : n > o.n; }
  };
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::priority_queue<delayed, std::vector<delayed>, std::greater<>> queue_;
  uint64_t q_n_ = 0;
  bool q_stop_ = false;
  std::thread timer_;
};

} // namespace ordo::saga
