// Command-line options of ordo-loadgen: what to run, against which node, for how long.
// Parsing fails with a message naming the bad option; `--help` prints usage_text().
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "op.hpp"

namespace ordo::loadgen {

// What the connections do: the mix of independent requests (default), or a flow that drives
// each order through its life (README.md, "Flows").
enum class flow_kind : uint8_t { mix, steps, saga };

const char* flow_name(flow_kind f);

struct options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string api_key;        // empty: no Authorization header
  std::string webhook_secret; // non-empty: pay webhooks carry Ordo-Signature
  unsigned connections = 64;
  unsigned threads = 1;
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  std::chrono::nanoseconds warmup = std::chrono::seconds(1);
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);
  double rate = 0; // total requests/s; 0 = closed loop
  std::array<unsigned, op_count> mix{70, 20, 5, 5};
  unsigned skus = 1000;
  unsigned customers = 10000;
  unsigned merchants = 10;
  size_t remembered_ids_max = 100'000; // across all threads
  std::string ack_log;                 // empty: no ack log
  flow_kind flow = flow_kind::mix;
  bool mix_given = false;        // --mix on the command line (refused with --flow)
  unsigned lines = 2;            // flows: lines per order, each its own SKU
  size_t inflight_orders = 2000; // saga: placed orders not yet seen finished, all threads
  std::chrono::nanoseconds poll_every = std::chrono::milliseconds(250); // saga: GET cadence
  std::chrono::nanoseconds drain_timeout = std::chrono::seconds(60);    // saga: wait after the end
  uint64_t stock = 100'000; // saga: units available per SKU before the run (topped up)
  size_t verify = 100;      // steps: completed orders read back after the run
  uint64_t seed = 0;        // 0 on the command line: derive from the clock
  bool help = false;

  bool open_loop() const { return rate > 0; }
};

// Parses argv; on error returns false and sets `error`.
bool parse_options(int argc, char** argv, options& out, std::string& error);

const char* usage_text();

} // namespace ordo::loadgen
