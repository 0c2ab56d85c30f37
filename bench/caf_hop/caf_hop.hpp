// caf_hop's shared pieces: atoms, the completion handed to non-actor callers, logging, the peer
// table, and the actors and calls the probe and its benchmarks use (caf_hop.cpp).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include <unistd.h>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

using namespace std::chrono_literals;
using sclock = std::chrono::steady_clock;

// ---- atoms (0.17: atom_constant, <= 10 chars) --------------------------------
using req_atom = caf::atom_constant<caf::atom("req")>;
using fwd_atom = caf::atom_constant<caf::atom("fwd")>;
using peer_up_atom = caf::atom_constant<caf::atom("peer_up")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;

// ---- completion passed from a non-actor thread in a LOCAL message ----------
// std::function / shared_ptr are not inspectable -> make_message static_asserts
// unless whitelisted. Whitelisted types can never cross the network.
struct call_ctx {
  std::function<void(const caf::error&, uint64_t, std::string&&)> fn;
  std::atomic<bool> done{false};
  void complete(const caf::error& err, uint64_t e, std::string&& s) {
    if (!done.exchange(true))
      fn(err, e, std::move(s));
  }
};
using call_ptr = std::shared_ptr<call_ctx>;
#ifndef NO_UNSAFE_WHITELIST
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(call_ptr)
#endif

// ---- logging ----------------------------------------------------------------
inline int g_id = 0;
inline std::atomic<bool> g_stop{false}; // early stop (after --exit-after-bench)
inline double unix_now() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() / 1e6;
}
#define LOG(...)                                                               \
  do {                                                                         \
    char _b[1024];                                                             \
    snprintf(_b, sizeof _b, __VA_ARGS__);                                      \
    fprintf(stdout, "[%.3f n%d] %s\n", unix_now(), g_id, _b);                  \
    fflush(stdout);                                                            \
  } while (0)

inline double ms_since(sclock::time_point t0) {
  return std::chrono::duration<double, std::milli>(sclock::now() - t0).count();
}

// ---- shared peer table (read by non-actor threads) ---------------------------
struct peer_table {
  std::mutex mtx;
  std::vector<caf::actor> peers;
  caf::actor get(size_t i) {
    std::lock_guard<std::mutex> g{mtx};
    return i < peers.size() ? peers[i] : caf::actor{};
  }
  void set(size_t i, caf::actor h) {
    std::lock_guard<std::mutex> g{mtx};
    peers[i] = std::move(h);
  }
};

// ---- the actors and the calls to them (caf_hop_link.cpp) ---------------------------
struct ingress_state {
  uint64_t served = 0;
  std::vector<caf::typed_response_promise<uint64_t, std::string>> parked;
  static inline const char* name = "ingress";
};

caf::behavior ingress(caf::stateful_actor<ingress_state>* self);

struct fwd_state {
  std::vector<caf::actor> peers;
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::pair<uint32_t, call_ptr>> pending;
  static inline const char* name = "forwarder";
};

caf::behavior forwarder(caf::stateful_actor<fwd_state>* self, size_t npeers, bool failfast);

struct reply {
  caf::error err;
  uint64_t epoch = 0;
  std::string body;
};

// non-actor API 1: a future via the forwarder
std::future<reply> call_async(const caf::actor& fwd, uint32_t idx, uint64_t epoch,
                              std::string entity, std::string payload, uint32_t tmo_ms);

// non-actor API 1b: plain callback
void call_cb(const caf::actor& fwd, uint32_t idx, uint64_t epoch, std::string entity,
             std::string payload, uint32_t tmo_ms,
             std::function<void(const caf::error&, uint64_t, std::string&&)> fn);

// non-actor API 2: scoped_actor, blocking
reply call_scoped(caf::scoped_actor& self, const caf::actor& peer, uint64_t epoch,
                  const std::string& entity, const std::string& payload,
                  std::chrono::milliseconds tmo);

// One blocking actor per peer: connect, monitor, reconnect until the deadline.
void peer_link(caf::blocking_actor* self, caf::actor fwd, peer_table* table, uint32_t idx,
               std::string host, uint16_t port, sclock::time_point deadline);

// ---- benchmarks (caf_hop_bench.cpp) ----------------------------------------------
struct bench_result {
  double secs = 0;
  uint64_t ok = 0, errors = 0, bad = 0;
  std::vector<double> lat_us;
};

struct bench_options {
  std::string mode; // actor | fwd | scoped | scoped_per_call
  uint64_t n = 100000, window = 64, threads = 4;
  size_t psize = 200;
};

// Runs `o.mode` against peer 0 (`p`, through `fwd` for mode fwd) until done or the deadline.
void run_bench(caf::actor_system& sys, const caf::actor& fwd, const caf::actor& p,
               const bench_options& o, sclock::time_point deadline);
