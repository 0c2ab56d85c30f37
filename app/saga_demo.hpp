#pragma once
// The node's default demo: the real pipeline. It stocks a few SKUs, places orders, and lets the
// saga (inventory reservations, the simulated payment gateway, the simulated warehouse) drive
// every order to delivered on its own; it then waits, bounded, until every order has settled.

#include "app/demo_workload.hpp"

namespace ordo::app {

/// Places `opt.orders` orders (at most `opt.concurrent` placements in flight) and waits until
/// each is delivered, rejected or cancelled. Counts go into the same result as the scripted demo.
demo_result run_saga_demo(runtime& rt, const demo_options& opt);

} // namespace ordo::app
