// runtime::start (include/ordo/runtime.hpp) lives here, above the runtime library: the one
// place that knows both the runtime and the saga, so the runtime never depends on the saga.
#include "actors/start.hpp"

#include <cstdlib>
#include <memory>
#include <string_view>

#include <fmt/core.h>

#include "actors/runtime/runtime_env.hpp"
#include "actors/saga/saga_dispatcher.hpp"
#include "actors/testing/simulated_gateway.hpp"
#include "actors/testing/simulated_warehouse.hpp"

namespace ordo {

namespace {
// Test-only negative control for the clock-step test (tests/node/clock_test.cpp): the node
// under test fires timers by the wall clock, as before steady-clock firing.
void apply_test_environment(saga::saga_config& saga) {
  if (const char* v = std::getenv("ORDO_TEST_WALL_CLOCK_TIMERS"); v && std::string_view(v) == "1") {
    saga.testing.wall_clock_timers = true;
    fmt::print(stderr, "[warn] ORDO_TEST_WALL_CLOCK_TIMERS=1: durable timers fire by the wall "
                       "clock (a test's negative control; never use it in production)\n");
  }
}
} // namespace

caf::expected<std::unique_ptr<runtime>> start_runtime(runtime_config cfg, cluster_hooks cluster) {
  auto saga_cfg = cfg.saga;
  auto rt = runtime_internals::open(std::move(cfg), std::move(cluster));
  if (!rt || !saga_cfg.enabled) return rt;
  auto& r = **rt;
  auto gateway = saga_cfg.gateway;
  if (!gateway) gateway = std::make_shared<saga::simulated_gateway>(saga_cfg.simulated);
  if (!saga_cfg.warehouse && !saga_cfg.external_fulfilment)
    saga_cfg.warehouse = std::make_shared<saga::simulated_warehouse>(saga_cfg.warehouse_latency);
  apply_test_environment(saga_cfg);
  auto& env = runtime_internals::env(r);
  runtime_internals::attach_workflow(
      r, std::make_unique<saga::dispatcher>(r, runtime_internals::journal(r), std::move(saga_cfg),
                                            std::move(gateway), env.now_ms, env.deadlines,
                                            env.feed, runtime_internals::system(r), env.deliver));
  return rt;
}

caf::expected<std::unique_ptr<runtime>> runtime::start(runtime_config cfg) {
  return start_runtime(std::move(cfg), {});
}

} // namespace ordo
