// Command-line options of ordo-loadgen: what to run, against which node, for how long.
// Parsing fails with a message naming the bad option; `--help` prints usage_text().
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "op.hpp"

namespace ordo::loadgen {

struct options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string api_key; // empty: no Authorization header
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
  uint64_t seed = 0;                   // 0 on the command line: derive from the clock
  bool help = false;

  bool open_loop() const { return rate > 0; }
};

// Parses argv; on error returns false and sets `error`.
bool parse_options(int argc, char** argv, options& out, std::string& error);

const char* usage_text();

} // namespace ordo::loadgen
