// How a run is reported: the per-second progress line (stderr), the human summary and the
// final JSON line (stdout). The JSON is the machine-readable contract: one object, last line.
#pragma once

#include <cstdint>

#include "options.hpp"
#include "stats.hpp"

namespace ordo::loadgen {

// `interval` holds what was answered during the last `interval_s` seconds.
void print_progress(double t_s, bool warming_up, const op_stats& interval, double interval_s);

void print_summary(const options& opts, const run_stats& stats, double measured_s);

void print_json(const options& opts, const run_stats& stats, double measured_s);

} // namespace ordo::loadgen
