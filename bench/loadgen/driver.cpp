#include "driver.hpp"

#include "saga_flow.hpp"
#include "stats.hpp"
#include "steps_flow.hpp"
#include "workload.hpp"

namespace ordo::loadgen {

std::unique_ptr<driver> make_driver(const options& opts, unsigned thread_index,
                                    unsigned connections, const run_clock& timeline,
                                    run_stats& stats) {
  switch (opts.flow) {
  case flow_kind::steps:
    return std::make_unique<steps_flow>(opts, thread_index, connections, timeline, stats.flow);
  case flow_kind::saga:
    return std::make_unique<saga_flow>(opts, thread_index, connections, timeline, stats.flow);
  case flow_kind::mix:
    break;
  }
  return std::make_unique<workload>(opts, thread_index, timeline);
}

} // namespace ordo::loadgen
