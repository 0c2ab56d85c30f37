#pragma once
// Upcasters: every rule that turns a shape written by an older build into the current one,
// in one place. The read path applies them before evolve() and before a snapshot is used, so
// evolve() and the rest of the domain see only the current shape (messages/README.md,
// "Schema evolution"). Each rule names the shape it repairs; a shape that never changed has
// no rule. Pure functions; each returns true when it changed something.
#include <string_view>

#include "ordo/v1/envelope.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo::domain {

/// OrderRejected and RejectOutOfStock were first written without a code: every rejection was
/// out of stock. Absent (UNSPECIFIED) reads as INSUFFICIENT_STOCK; any other code stays.
v1::RejectionCode current_rejection_code(v1::RejectionCode written);

/// An order event: an OrderRejected without a code gets INSUFFICIENT_STOCK.
bool upcast(v1::OrderEvent& event);

/// An order snapshot: one of a rejected order written before OrderState.close_code existed
/// gets INSUFFICIENT_STOCK (what replaying its OrderRejected gives).
bool upcast(v1::OrderState& state);

/// A SKU snapshot written before InventoryState.committed_order existed remembers commits in
/// `committed` only. Their order was not recorded: they are listed by order id (ids sort by
/// creation time), and the oldest beyond limits::committed_remembered_max are forgotten, as
/// evolve() does for new commits.
bool upcast(v1::InventoryState& state);

/// An idempotency record is stored without its key (the storage key is the key); records
/// written before that carry it. Either way the record read back carries `storage_key`.
bool upcast(v1::IdempotencyRecord& record, std::string_view storage_key);

} // namespace ordo::domain
