#pragma once
// What the order saga does with each published order event, as data: the saga's decisions,
// pure and exhaustive like the order machine. The dispatcher (actors/saga/) carries a step
// out — runtime commands, gateway calls, the simulated warehouse — with idempotency keys made
// from the event, so a step repeated after a restart repeats no effect (docs/saga.md).
// tests/domain/saga_reaction_test.cpp walks every event kind against an independent table
// and checks docs/saga.md shows the table the code uses.

#include <cstdint>
#include <string_view>

#include "domain/order_machine.hpp"
#include "ordo/v1/order.pb.h"

namespace ordo::domain {

enum class saga_step : uint8_t {
  none,              // nothing follows (a final answer, or a step done in the same append)
  reserve_stock,     // Reserve per SKU; all taken: ConfirmStockReserved, else release + reject
  authorize_payment, // the gateway authorizes the order total; its answer becomes a command
  start_fulfilment,  // StartFulfilment: an authorization that did not start it (a webhook)
  ship,              // the warehouse ships: MarkShipped (unless fulfilment is external)
  deliver,           // the carrier delivers: MarkDelivered (unless fulfilment is external)
  capture_payment,   // the gateway captures what was authorized
  commit_stock,      // Commit per SKU: the shipped units leave the reservation
  release_stock,     // Release per SKU that holds a reservation for the order
  restock,           // Restock per SKU of the refunded lines
  void_payment,      // the gateway voids the authorization
  refund_payment,    // the gateway refunds the amount
};

/// The step that follows an event of kind `k`; `fulfilment_started` is PaymentAuthorized's
/// flag (fulfilment started in the same append: nothing more to send).
saga_step saga_step_for(order_event_kind k, bool fulfilment_started = false);

/// The step that follows `event` (none for an event without a kind this build knows).
saga_step react(const v1::OrderEvent& event);

std::string_view name(saga_step s);

} // namespace ordo::domain
