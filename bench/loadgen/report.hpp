// How a run is reported: the per-second progress line (stderr), the human summary and the
// final JSON line (stdout). The JSON is the machine-readable contract: one object, last line.
#pragma once

#include <cstdint>

#include "options.hpp"
#include "stats.hpp"

namespace ordo::loadgen {

inline double ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

inline double per_s(uint64_t n, double s) {
  return s > 0 ? static_cast<double>(n) / s : 0;
}

// The ops a run's table shows, in order: the mix's four, or the flow's steps.
struct shown_ops {
  const op_kind* ops;
  size_t count;
};
shown_ops ops_of(flow_kind flow);

// One table row: answers, rate, latency percentiles (all answers), status classes, failures.
void print_row(const char* name, const op_stats& s, double measured_s, int name_width);

// `interval` holds what was answered during the last `interval_s` seconds.
void print_progress(double t_s, bool warming_up, const op_stats& interval, double interval_s);

// With --flow, the table shows the flow's ops and the flow's figures follow (flow_report.hpp).
void print_summary(const options& opts, const run_stats& stats, double measured_s);

// The mix's JSON; with --flow, print_flow_json's.
void print_json(const options& opts, const run_stats& stats, double measured_s);

} // namespace ordo::loadgen
