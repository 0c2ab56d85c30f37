#pragma once
// Starting a runtime with everything of a node: the runtime (actors/runtime/), the saga
// (actors/saga/) with its default gateway double (actors/testing/), and cluster hooks
// (actors/cluster/ builds them). runtime::start(cfg) is start_runtime(cfg, {}).

#include <memory>

#include <caf/expected.hpp>

#include "actors/runtime/internals.hpp"
#include "ordo/runtime.hpp"

namespace ordo {

caf::expected<std::unique_ptr<runtime>> start_runtime(runtime_config cfg, cluster_hooks cluster);

} // namespace ordo
