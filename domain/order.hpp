#pragma once
// The order aggregate's pure core: decide() turns (state, command, time) into events or a
// rejection; evolve() folds one event into the state. No I/O, no clock, no randomness: the
// runtime passes `now_ms`, persists the events, and applies them with evolve().
//
// Contract:
// - decide() never changes anything; a rejection carries no events.
// - Accepted decisions start with the table's primary event (order_machine.hpp), followed
//   by the compensations it needs (stock release, payment void, commit, restock requests).
// - Every event gets at_ms = max(now_ms, state.updated_at_ms): time inside one order never
//   runs backwards, even if the caller's clock does.
// - evolve() trusts events (they were decided and persisted) but asserts every invariant;
//   it never re-validates limits, so tightening a limit never breaks replay.
#include <cstdint>
#include <vector>

#include "domain/decision.hpp"
#include "ordo/v1/order.pb.h"

namespace ordo::domain {

using order_decision = decision<v1::OrderEvent>;

order_decision decide(const v1::OrderState& state, const v1::OrderCommand& command, int64_t now_ms);

v1::OrderState evolve(v1::OrderState state, const v1::OrderEvent& event);

/// Folds `events` into `from` (an empty state or a snapshot).
v1::OrderState replay(const std::vector<v1::OrderEvent>& events, v1::OrderState from = {});

/// Aborts if the state breaks an invariant (amount ordering, status/amount agreement).
void check_invariants(const v1::OrderState& state);

} // namespace ordo::domain
