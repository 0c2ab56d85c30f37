#pragma once
// The demo workload the node runs at this stage: stocks a few SKUs, then drives orders
// through their lifecycle (placed → reserved → authorized → fulfilling → shipped →
// delivered, with some cancellations and refunds), each step a real command through the
// runtime, persisted before it is answered. The saga issue replaces the scripted service
// answers (stock confirmed, payment authorized) with inventory, payment and fulfilment actors.

#include <cstdint>
#include <string>
#include <vector>

#include "ordo/runtime.hpp"

namespace ordo::app {

struct demo_options {
  uint64_t orders = 20'000;
  size_t concurrent = 512; // orders in progress at once
  uint64_t seed = 1;
};

struct demo_result {
  uint64_t orders_done = 0, delivered = 0, cancelled = 0, refunded = 0;
  uint64_t commands = 0, rejected = 0, overloaded = 0, failed = 0;
  double seconds = 0;
  std::vector<std::string> order_ids; // every order placed, for the replay check
  std::vector<std::string> errors;    // the first few unexpected answers
};

demo_result run_demo(runtime& rt, const demo_options& opt);

/// The shipping address every demo order uses.
void set_demo_address(v1::Address& a);

} // namespace ordo::app
