#include "flow_report.hpp"

#include <iterator>
#include <string>

#include <fmt/core.h>

#include "report.hpp"

namespace ordo::loadgen {

namespace {

// Upper bounds of the summary's histogram columns, in ms; the last column is everything above.
constexpr uint64_t bucket_ms[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000};

void print_histogram_header(const char* title) {
  fmt::print("{:<16}", title);
  for (uint64_t b : bucket_ms)
    fmt::print(" {:>7}", fmt::format("<={}", b));
  fmt::print(" {:>7}\n", fmt::format(">{}", bucket_ms[std::size(bucket_ms) - 1]));
}

void print_histogram_row(const char* name, const histogram& h) {
  fmt::print("{:<16}", name);
  uint64_t below = 0;
  for (uint64_t b : bucket_ms) {
    uint64_t upto = h.count_at_most(b * 1'000'000);
    fmt::print(" {:>7}", upto - below);
    below = upto;
  }
  fmt::print(" {:>7}\n", h.count() - below);
}

uint64_t failed(const counters& c) {
  return c.responses - c.status_2xx + c.conn_errors + c.timeouts + c.proto_errors;
}

// The steps' or the saga's own ops as JSON fields: "<op>_ok", "<op>_failed", "<op>_per_s"
// (2xx answers a second) and latency percentiles of all its answers.
std::string per_op_json(const options& opts, const run_stats& stats, double measured_s) {
  std::string out;
  shown_ops shown = ops_of(opts.flow);
  for (size_t i = 0; i < shown.count; ++i) {
    const op_stats& s = stats.ops[op_index(shown.ops[i])];
    const char* name = op_name(shown.ops[i]);
    out += fmt::format(R"("{0}_ok":{1},"{0}_failed":{2},"{0}_per_s":{3:.1f},"{0}_p50_ms":{4:.3f},)"
                       R"("{0}_p99_ms":{5:.3f},"{0}_max_ms":{6:.3f},)",
                       name, s.c.status_2xx, failed(s.c), per_s(s.c.status_2xx, measured_s),
                       ms(s.latency.percentile_ns(50)), ms(s.latency.percentile_ns(99)),
                       ms(s.latency.max_ns()));
  }
  return out;
}

double delivery_window_s(const flow_stats& f) {
  if (f.delivered == 0 || f.last_delivered_ms < f.first_placed_ms) return 0;
  return static_cast<double>(f.last_delivered_ms - f.first_placed_ms) / 1e3;
}

void print_steps(const options& opts, const run_stats& stats, double measured_s) {
  const flow_stats& f = stats.flow;
  op_stats t = stats.total();
  fmt::print("transitions (2xx answers of every step): {} = {:.0f}/s\n", t.c.status_2xx,
             per_s(t.c.status_2xx, measured_s));
  fmt::print("orders: started {}, completed (shipped) {} = {:.0f}/s, abandoned {}\n",
             f.orders_started, f.orders_completed, per_s(f.orders_completed, measured_s),
             f.orders_abandoned);
  print_histogram_header("latency ms, all");
  print_histogram_row("all", t.latency);
  shown_ops shown = ops_of(opts.flow);
  for (size_t i = 0; i < shown.count; ++i)
    print_histogram_row(op_name(shown.ops[i]), stats.ops[op_index(shown.ops[i])].latency);
  if (f.verify_checked > 0)
    fmt::print("read back: {} of {} of the newest completed orders are SHIPPED{}\n", f.verify_ok,
               f.verify_checked,
               f.verify_sample.empty() ? "" : fmt::format("; first other: {}", f.verify_sample));
  uint64_t refused = 0; // after the placement: the order was not where this flow left it
  for (op_kind op : {op_kind::reserve, op_kind::pay, op_kind::fulfil, op_kind::ship})
    refused += stats.ops[op_index(op)].c.status_409;
  if (refused > 0)
    fmt::print("hint: {} steps answered 409; a node with the saga on moves the orders itself and "
               "races this flow: start it with --saga.enabled=false\n",
               refused);
}

void print_saga(const options& opts, const run_stats& stats, double measured_s) {
  const flow_stats& f = stats.flow;
  fmt::print("SKUs prepared before the run: {} ({} priced, {} units added)\n", f.skus_prepared,
             f.skus_priced, f.units_added);
  fmt::print("orders placed (2xx, measured window): {} = {:.0f}/s\n", f.orders_placed,
             per_s(f.orders_placed, measured_s));
  fmt::print("followed to the end: delivered {}, rejected {}, cancelled {}, refunded {}, "
             "unfinished {}\n",
             f.delivered, f.rejected, f.cancelled, f.other_closed, f.unfinished);
  double window = delivery_window_s(f);
  fmt::print("delivered/s: {} over {:.3f}s from the first placement to the last delivery (node "
             "clock) = {:.0f}/s\n",
             f.delivered, window, per_s(f.delivered, window));
  const histogram& h = f.to_delivered;
  fmt::print("time to delivered ms (node clock): p50 {:.0f}, p90 {:.0f}, p99 {:.0f}, p99.9 {:.0f}, "
             "max {:.0f}\n",
             ms(h.percentile_ns(50)), ms(h.percentile_ns(90)), ms(h.percentile_ns(99)),
             ms(h.percentile_ns(99.9)), ms(h.max_ns()));
  print_histogram_header("to delivered ms");
  print_histogram_row("orders", h);
  uint64_t finished = f.delivered + f.rejected + f.cancelled + f.other_closed;
  fmt::print("polls: {} GETs, {:.2f} per finished order; most open orders at once: {} (cap {})\n",
             f.polls, finished > 0 ? per_s(f.polls, static_cast<double>(finished)) : 0.0,
             f.inflight_max, opts.inflight_orders);
  if (f.unfinished > 0)
    fmt::print("hint: {} orders were still open after --drain-timeout; a node with the saga off "
               "leaves every order PLACED\n",
               f.unfinished);
}

} // namespace

void print_flow_summary(const options& opts, const run_stats& stats, double measured_s) {
  if (opts.flow == flow_kind::steps)
    print_steps(opts, stats, measured_s);
  else
    print_saga(opts, stats, measured_s);
  if (!stats.flow.failure_sample.empty())
    fmt::print("first failure: {}\n", stats.flow.failure_sample);
}

void print_flow_json(const options& opts, const run_stats& stats, double measured_s) {
  op_stats t = stats.total();
  const counters& c = t.c;
  const flow_stats& f = stats.flow;
  std::string flow;
  if (opts.flow == flow_kind::steps) {
    flow = fmt::format(R"("transitions":{},"transitions_per_s":{:.1f},"orders_started":{},)"
                       R"("orders_completed":{},"orders_per_s":{:.1f},"orders_abandoned":{},)"
                       R"("verify_checked":{},"verify_shipped":{})",
                       c.status_2xx, per_s(c.status_2xx, measured_s), f.orders_started,
                       f.orders_completed, per_s(f.orders_completed, measured_s),
                       f.orders_abandoned, f.verify_checked, f.verify_ok);
  } else {
    const histogram& h = f.to_delivered;
    double window = delivery_window_s(f);
    flow = fmt::format(
        R"("orders_placed":{},"placements_per_s":{:.1f},"delivered":{},"rejected":{},)"
        R"("cancelled":{},"refunded":{},"unfinished":{},"delivered_per_s":{:.1f},)"
        R"("delivery_window_s":{:.3f},"to_delivered_p50_ms":{:.1f},"to_delivered_p90_ms":{:.1f},)"
        R"("to_delivered_p99_ms":{:.1f},"to_delivered_max_ms":{:.1f},"polls":{},)"
        R"("inflight_max":{},"inflight_orders":{},"lines":{},"skus":{},"skus_prepared":{},)"
        R"("units_added":{})",
        f.orders_placed, per_s(f.orders_placed, measured_s), f.delivered, f.rejected, f.cancelled,
        f.other_closed, f.unfinished, per_s(f.delivered, window), window, ms(h.percentile_ns(50)),
        ms(h.percentile_ns(90)), ms(h.percentile_ns(99)), ms(h.max_ns()), f.polls, f.inflight_max,
        opts.inflight_orders, opts.lines, opts.skus, f.skus_prepared, f.units_added);
  }
  fmt::print(R"({{"mode":"closed","flow":"{}","connections":{},"threads":{},"duration_s":{:.3f},)"
             R"("warmup_s":{:.3f},"seed":{},"requests":{},"rps":{:.1f},{})"
             R"("p50_ms":{:.3f},"p90_ms":{:.3f},"p99_ms":{:.3f},"p999_ms":{:.3f},"max_ms":{:.3f},)"
             R"("status_2xx":{},"status_409":{},"status_429":{},"status_4xx":{},"status_5xx":{},)"
             R"("status_other":{},"conn_errors":{},"timeouts":{},"proto_errors":{},{}}})"
             "\n",
             flow_name(opts.flow), opts.connections, opts.threads, measured_s,
             std::chrono::duration<double>(opts.warmup).count(), opts.seed, c.responses,
             per_s(c.responses, measured_s), per_op_json(opts, stats, measured_s),
             ms(t.latency.percentile_ns(50)), ms(t.latency.percentile_ns(90)),
             ms(t.latency.percentile_ns(99)), ms(t.latency.percentile_ns(99.9)),
             ms(t.latency.max_ns()), c.status_2xx, c.status_409, c.status_429, c.status_4xx,
             c.status_5xx, c.status_other, c.conn_errors, c.timeouts, c.proto_errors, flow);
}

} // namespace ordo::loadgen
