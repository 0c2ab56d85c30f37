#pragma once
// Scenarios on the embedded runtime (CAF + LMDB): the runtime is started, restarted by the
// `restart` and `saga on|off` steps, and stopped on the same store (ordo-scenario, the actors
// tests). A running node is the other target (remote.hpp).

#include <string>
#include <vector>

#include "ordo/runtime.hpp"
#include "app/scenario/scenario.hpp"

namespace ordo::scenario {

/// Runs the steps against a runtime started (and restarted) with `cfg`; scenario files
/// play the services by hand, so callers normally pass cfg.saga.enabled = false and a
/// scenario turns the saga on with the `saga on` step. Stops at the first
/// failing step unless `keep_going`.
run_report run(const std::vector<step>& steps, const runtime_config& cfg, bool keep_going = false);

/// Reads, parses and runs a scenario file; parse errors are reported as failures.
run_report run_file(const std::string& path, const runtime_config& cfg, bool keep_going = false);

} // namespace ordo::scenario
