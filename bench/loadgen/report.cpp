#include "report.hpp"

#include <iterator>

#include <fmt/core.h>

#include "flow_report.hpp"

namespace ordo::loadgen {

namespace {

constexpr op_kind mix_ops[] = {op_kind::place, op_kind::get, op_kind::ship, op_kind::pay};
constexpr op_kind steps_ops[] = {op_kind::place, op_kind::reserve, op_kind::pay, op_kind::fulfil,
                                 op_kind::ship};
constexpr op_kind saga_ops[] = {op_kind::place, op_kind::get};

} // namespace

shown_ops ops_of(flow_kind flow) {
  switch (flow) {
  case flow_kind::steps:
    return {steps_ops, std::size(steps_ops)};
  case flow_kind::saga:
    return {saga_ops, std::size(saga_ops)};
  case flow_kind::mix:
    break;
  }
  return {mix_ops, std::size(mix_ops)};
}

void print_row(const char* name, const op_stats& s, double measured_s, int name_width) {
  const counters& c = s.c;
  const histogram& h = s.latency;
  fmt::print(
      "{:<{}} {:>9} {:>9.0f} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f}  {:>8} {:>7} {:>7} "
      "{:>7} {:>7} {:>7} {:>7}\n",
      name, name_width, c.responses, per_s(c.responses, measured_s), ms(h.percentile_ns(50)),
      ms(h.percentile_ns(90)), ms(h.percentile_ns(99)), ms(h.percentile_ns(99.9)), ms(h.max_ns()),
      c.status_2xx, c.status_409, c.status_429, c.status_4xx, c.status_5xx + c.status_other,
      c.conn_errors + c.proto_errors, c.timeouts + c.unsent);
}

void print_progress(double t_s, bool warming_up, const op_stats& interval, double interval_s) {
  const counters& c = interval.c;
  fmt::print(stderr,
             "t={:.0f}s{} rps={:.0f} p99={:.1f}ms 2xx={} 409={} 429={} 4xx={} 5xx={} err={}\n", t_s,
             warming_up ? " (warmup)" : "", per_s(c.responses, interval_s),
             ms(interval.latency.percentile_ns(99)), c.status_2xx, c.status_409, c.status_429,
             c.status_4xx, c.status_5xx + c.status_other, c.errors());
}

void print_summary(const options& opts, const run_stats& stats, double measured_s) {
  fmt::print("ordo-loadgen: {}{} loop{}, {} connections on {} thread(s), {:.1f}s measured after "
             "{:.1f}s warmup, http://{}:{}, seed {}\n",
             opts.flow == flow_kind::mix ? "" : fmt::format("flow {}, ", flow_name(opts.flow)),
             opts.open_loop() ? "open" : "closed",
             opts.open_loop() ? fmt::format(" at {:.0f} req/s", opts.rate) : std::string(),
             opts.connections, opts.threads, measured_s,
             std::chrono::duration<double>(opts.warmup).count(), opts.host, opts.port, opts.seed);
  fmt::print("latency in ms from the {} send time; errors = connection + protocol errors; "
             "t/o = timeouts + unsent\n",
             opts.open_loop() ? "intended" : "actual");
  // 6 wide as the mix always had it; the steps flow's "reserve" needs 7.
  const int width = opts.flow == flow_kind::steps ? 7 : 6;
  fmt::print("{:<{}} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}  {:>8} {:>7} {:>7} {:>7} {:>7} "
             "{:>7} {:>7}\n",
             "op", width, "answers", "rps", "p50", "p90", "p99", "p99.9", "max", "2xx", "409",
             "429", "4xx", "5xx+", "errors", "t/o");
  shown_ops shown = ops_of(opts.flow);
  for (size_t i = 0; i < shown.count; ++i)
    print_row(op_name(shown.ops[i]), stats.ops[op_index(shown.ops[i])], measured_s, width);
  if (stats.unassigned.errors() > 0)
    print_row("(none)", op_stats{stats.unassigned, {}, {}, {}}, measured_s, width);
  print_row("all", stats.total(), measured_s, width);
  fmt::print("orders acknowledged (2xx placements, warmup included): {}{}\n", stats.acked_orders,
             opts.ack_log.empty() ? "" : fmt::format(", logged to {}", opts.ack_log));
  if (stats.backlog_at_end > 0)
    fmt::print("open loop fell behind: {} requests were due but not yet sent at the end\n",
               stats.backlog_at_end);
  if (opts.flow != flow_kind::mix) print_flow_summary(opts, stats, measured_s);
}

void print_json(const options& opts, const run_stats& stats, double measured_s) {
  if (opts.flow != flow_kind::mix) return print_flow_json(opts, stats, measured_s);
  op_stats t = stats.total();
  const counters& c = t.c;
  std::string per_op;
  for (size_t i = 0; i < mix_op_count; ++i) {
    const op_stats& s = stats.ops[i];
    const char* name = op_name(static_cast<op_kind>(i));
    per_op += fmt::format(R"("{}_rps":{:.1f},"{}_p99_ms":{:.3f},)", name,
                          per_s(s.c.responses, measured_s), name, ms(s.latency.percentile_ns(99)));
  }
  fmt::print(R"({{"mode":"{}","rate":{:.1f},"connections":{},"threads":{},"duration_s":{:.3f},)"
             R"("warmup_s":{:.3f},"seed":{},"requests":{},"rps":{:.1f},{})"
             R"("p50_ms":{:.3f},"p90_ms":{:.3f},"p99_ms":{:.3f},"p999_ms":{:.3f},"max_ms":{:.3f},)"
             R"("p99_2xx_ms":{:.3f},"p99_2xx_service_ms":{:.3f},)"
             R"("status_2xx":{},"status_409":{},"status_429":{},"status_4xx":{},"status_5xx":{},)"
             R"("status_other":{},"conn_errors":{},"timeouts":{},"unsent":{},"proto_errors":{},)"
             R"("acked_orders":{},"backlog_at_end":{}}})"
             "\n",
             opts.open_loop() ? "open" : "closed", opts.rate, opts.connections, opts.threads,
             measured_s, std::chrono::duration<double>(opts.warmup).count(), opts.seed, c.responses,
             per_s(c.responses, measured_s), per_op, ms(t.latency.percentile_ns(50)),
             ms(t.latency.percentile_ns(90)), ms(t.latency.percentile_ns(99)),
             ms(t.latency.percentile_ns(99.9)), ms(t.latency.max_ns()),
             ms(t.latency_2xx.percentile_ns(99)), ms(t.service_2xx.percentile_ns(99)), c.status_2xx,
             c.status_409, c.status_429, c.status_4xx, c.status_5xx, c.status_other, c.conn_errors,
             c.timeouts, c.unsent, c.proto_errors, stats.acked_orders, stats.backlog_at_end);
}

} // namespace ordo::loadgen
