#include "actors/testing/simulated_gateway.hpp"

#include "actors/runtime/placement.hpp"

namespace ordo::saga {

simulated_gateway::simulated_gateway(simulated_gateway_options o)
    : opt_(o), outage_(o.outage), by_key_(o.keys_remembered_max),
      by_order_(o.keys_remembered_max) {}

simulated_gateway::~simulated_gateway() = default;

void simulated_gateway::authorize(const payment_request& r, payment_callback done) {
  call(op::authorize, r, std::move(done));
}
void simulated_gateway::capture(const payment_request& r, payment_callback done) {
  call(op::capture, r, std::move(done));
}
void simulated_gateway::void_payment(const payment_request& r, payment_callback done) {
  call(op::void_payment, r, std::move(done));
}
void simulated_gateway::refund(const payment_request& r, payment_callback done) {
  call(op::refund, r, std::move(done));
}

void simulated_gateway::call(op kind, const payment_request& r, payment_callback done) {
  payment_result res;
  {
    std::lock_guard<std::mutex> g{mu_};
    ++counts_.calls;
    auto& k = by_key_[r.idempotency_key];
    ++k.calls;
    if (outage_.load()) return; // the request is lost: no answer, nothing executed
    if (!k.executed) {
      k.result = execute(kind, r);
      k.executed = true;
    }
    res = k.result;
  }
  deliver(std::move(done), std::move(res));
}

payment_result simulated_gateway::execute(op kind, const payment_request& r) {
  ++counts_.executed;
  payment_result res;
  res.status = payment_status::approved;
  switch (kind) {
  case op::authorize: {
    // Deterministic per (seed, order): the same order gets the same verdict on every run.
    auto h = stable_hash(r.order_id + "/" + std::to_string(opt_.seed));
    double roll = static_cast<double>(h % 1'000'000) / 1'000'000.0;
    if (roll < opt_.decline_rate) {
      res.status = payment_status::declined;
      res.reason = "card-declined";
      ++counts_.declined;
    } else {
      res.payment_id = "pay-" + r.order_id;
      ++by_order_[r.order_id].authorizations;
      ++counts_.authorized;
    }
    break;
  }
  case op::capture:
    ++by_order_[r.order_id].captures;
    ++counts_.captured;
    counts_.captured_minor += r.amount.amount_minor();
    res.payment_id = r.payment_id;
    break;
  case op::void_payment:
    by_order_[r.order_id].voided = true; // with or without an authorization to void
    ++counts_.voided;
    break;
  case op::refund:
    ++counts_.refunded;
    counts_.refunded_minor += r.amount.amount_minor();
    res.payment_id = r.payment_id;
    break;
  }
  return res;
}

void simulated_gateway::deliver(payment_callback done, payment_result res) {
  latency_.after(opt_.latency,
                 [done = std::move(done), res = std::move(res)]() mutable { done(std::move(res)); });
}

gateway_counts simulated_gateway::counts() const {
  std::lock_guard<std::mutex> g{mu_};
  return counts_;
}

uint64_t simulated_gateway::calls(const std::string& key) const {
  std::lock_guard<std::mutex> g{mu_};
  auto* k = by_key_.find(key);
  return k ? k->calls : 0;
}

uint64_t simulated_gateway::captures_of(const std::string& order_id) const {
  std::lock_guard<std::mutex> g{mu_};
  auto* o = by_order_.find(order_id);
  return o ? o->captures : 0;
}

uint64_t simulated_gateway::authorizations_of(const std::string& order_id) const {
  std::lock_guard<std::mutex> g{mu_};
  auto* o = by_order_.find(order_id);
  return o ? o->authorizations : 0;
}

bool simulated_gateway::voided(const std::string& order_id) const {
  std::lock_guard<std::mutex> g{mu_};
  auto* o = by_order_.find(order_id);
  return o && o->voided;
}

size_t simulated_gateway::keys_remembered() const {
  std::lock_guard<std::mutex> g{mu_};
  return by_key_.size();
}

size_t simulated_gateway::orders_remembered() const {
  std::lock_guard<std::mutex> g{mu_};
  return by_order_.size();
}

} // namespace ordo::saga
