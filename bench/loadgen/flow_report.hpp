// The figures of --flow steps and --flow saga: the lines after the table in the summary, and
// the flow's JSON object (one line, the last of stdout, as for the mix). README.md, "Flows",
// lists the JSON fields.
#pragma once

#include "options.hpp"
#include "stats.hpp"

namespace ordo::loadgen {

void print_flow_summary(const options& opts, const run_stats& stats, double measured_s);

void print_flow_json(const options& opts, const run_stats& stats, double measured_s);

} // namespace ordo::loadgen
