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
// runtime uses the simulated gateway (actors/testing/simulated_gateway.hpp), deterministic
// for a given seed and configured by simulated_gateway_options below.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

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

} // namespace ordo::saga
