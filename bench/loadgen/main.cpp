// ordo-loadgen: drives a running ordo-node over its HTTP/JSON API (docs/api.md) with a mix of
// placements, reads, shipments and payment webhooks, closed or open loop — or with a flow
// that takes each order through its life (--flow steps|saga) — and reports throughput,
// status classes, failures, latency percentiles and the flow's figures. See README.md; --help.
//
// main() only wires things up: options, address, the ack log, the saga flow's SKUs, one
// worker per thread, the progress line each second, the read-back after the steps flow, and
// the merged report at the end.

#include <netdb.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "ack_log.hpp"
#include "options.hpp"
#include "report.hpp"
#include "setup.hpp"
#include "worker.hpp"

using namespace ordo::loadgen;

namespace {

std::atomic<bool> stop_requested{false}; // lock-free, so safe to set from a signal handler

void on_signal(int) {
  stop_requested.store(true);
}

bool resolve(const options& opts, endpoint& out, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(opts.host.c_str(), opts.port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    error = fmt::format("cannot resolve {}:{}: {}", opts.host, opts.port, ::gai_strerror(rc));
    return false;
  }
  std::memcpy(&out.addr, found->ai_addr, found->ai_addrlen);
  out.len = found->ai_addrlen;
  ::freeaddrinfo(found);
  return true;
}

double seconds(clock_type::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Progress: once a second, what all workers answered since the previous line; until the end,
// or later while the saga flow follows its last orders. Returns when the run stopped (early on
// SIGINT/SIGTERM).
clock_type::time_point report_progress(const std::vector<std::unique_ptr<worker>>& workers,
                                       const run_clock& timeline, ack_log& acks) {
  op_stats interval;
  clock_type::time_point last = timeline.start;
  clock_type::time_point next = timeline.start + std::chrono::seconds(1);
  clock_type::time_point stopped_at = timeline.end;
  auto running = [&] {
    return std::any_of(workers.begin(), workers.end(), [](auto& w) { return !w->done(); });
  };
  while (clock_type::now() < timeline.end || running()) {
    if (stop_requested.load()) {
      stopped_at = std::min(clock_type::now(), timeline.end);
      break;
    }
    clock_type::time_point soon = clock_type::now() + std::chrono::milliseconds(100);
    std::this_thread::sleep_until(clock_type::now() < timeline.end
                                      ? std::min({next, timeline.end, soon})
                                      : std::min(next, soon));
    clock_type::time_point now = clock_type::now();
    if (now < next) continue;
    interval.reset();
    for (auto& w : workers)
      w->take_progress(interval);
    print_progress(seconds(now - timeline.start), now < timeline.measure_start, interval,
                   seconds(now - last));
    acks.flush();
    last = now;
    next += std::chrono::seconds(1);
  }
  return stopped_at;
}

// Every worker's figures merged, with the SKUs prepared; after the steps flow, the completed
// orders read back (they must really be SHIPPED).
run_stats merge_and_verify(const options& opts, const endpoint& node,
                           const std::vector<std::unique_ptr<worker>>& workers,
                           const prepare_result& prepared) {
  run_stats total;
  for (auto& w : workers)
    total.merge(w->stats());
  total.flow.skus_prepared = prepared.skus;
  total.flow.skus_priced = prepared.priced;
  total.flow.units_added = prepared.units;
  if (opts.flow == flow_kind::steps) { // the completed orders must really be SHIPPED
    std::vector<std::string> ids;
    for (auto& w : workers)
      for (std::string& id : w->flow().orders_to_verify())
        ids.push_back(std::move(id));
    verify_orders(opts, node, ids, "ORDER_STATUS_SHIPPED", total.flow);
  }
  return total;
}

} // namespace

int main(int argc, char** argv) {
  // Line-buffered so a pipe (tee, a test harness) gets every line even if we are killed.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  options opts;
  std::string error;
  if (!parse_options(argc, argv, opts, error)) {
    fmt::print(stderr, "ordo-loadgen: {}\n", error);
    return 2;
  }
  if (opts.help) {
    fmt::print("{}", usage_text());
    return 0;
  }
  if (opts.seed == 0)
    opts.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  endpoint node;
  ack_log acks;
  if (!resolve(opts, node, error) || (!opts.ack_log.empty() && !acks.open(opts.ack_log, error))) {
    fmt::print(stderr, "ordo-loadgen: {}\n", error);
    return 1;
  }

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  prepare_result prepared;
  if (opts.flow == flow_kind::saga) {
    fmt::print("preparing SKU-00000..SKU-{:05}: price of record, {} available units each\n",
               opts.skus - 1, opts.stock);
    if (!prepare_skus(opts, node, prepared, error)) {
      fmt::print(stderr, "ordo-loadgen: preparing the SKUs failed: {}\n", error);
      return 1;
    }
  }

  run_clock timeline;
  timeline.start = clock_type::now();
  timeline.measure_start = timeline.start + opts.warmup;
  timeline.end = timeline.measure_start + opts.duration;

  std::vector<std::unique_ptr<worker>> workers;
  for (unsigned t = 0; t < opts.threads; ++t) {
    // Connections split as evenly as possible; earlier threads take the remainder.
    unsigned n = opts.connections / opts.threads + (t < opts.connections % opts.threads ? 1 : 0);
    workers.push_back(std::make_unique<worker>(opts, t, n, node, timeline,
                                               acks.is_open() ? &acks : nullptr, stop_requested));
  }
  std::vector<std::thread> threads;
  for (auto& w : workers)
    threads.emplace_back([&w] { w->run(); });

  const clock_type::time_point stopped_at = report_progress(workers, timeline, acks);
  for (std::thread& t : threads)
    t.join();
  acks.close();

  const run_stats total = merge_and_verify(opts, node, workers, prepared);
  double measured_s =
      stopped_at > timeline.measure_start ? seconds(stopped_at - timeline.measure_start) : 0;
  print_summary(opts, total, measured_s);
  print_json(opts, total, measured_s);
  return 0;
}
