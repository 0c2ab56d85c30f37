#pragma once
// A workflow the runtime runs beside its actors — the order saga (actors/saga/) — seen from
// the runtime: it is started after the actors (actors/start.cpp attaches it), stopped before
// the runtime stops accepting commands, and reports its counters. The runtime library knows
// only this interface, so it does not depend on the saga.

#include "ordo/saga_config.hpp"

namespace ordo {

class workflow {
public:
  virtual ~workflow() = default;
  /// Stops starting new work and saves what it must (the saga: its feed offset).
  virtual void stop() = 0;
  virtual saga::saga_stats stats() const = 0;
};

} // namespace ordo
