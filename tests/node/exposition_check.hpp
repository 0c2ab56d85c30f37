#pragma once
// A strict reader of the Prometheus text exposition format (version 0.0.4), for checking a
// whole /metrics body rather than picking single lines out of it. Every problem is reported
// with its line number; an empty list means the body is valid.
//
// What it holds the text to:
// - lines are `# HELP name text`, `# TYPE name type`, other `#` comments, samples or empty;
// - metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*;
// - each family has at most one HELP and one TYPE, the TYPE before any of its samples, and its
//   samples in one group;
// - every sample belongs to a family with a TYPE line (histograms: name_bucket, name_sum,
//   name_count), and a counter's or histogram's figures are not negative;
// - label values are quoted, with `\\`, `\"` and `\n` the only escapes; no series twice;
// - values (and `le` bounds) are floats as Prometheus reads them, or +Inf, -Inf, NaN;
// - each histogram series has buckets in increasing `le` order, the last `+Inf`, cumulative
//   counts that never decrease, a _sum, and a _count equal to its +Inf bucket.

#include <string>
#include <string_view>
#include <vector>

namespace ordo::test {

std::vector<std::string> exposition_problems(std::string_view text);

} // namespace ordo::test
