// The saga's reaction table (domain/saga_reaction.hpp).
#include "domain/saga_reaction.hpp"

#include <iterator>

#include "domain/assert.hpp"

namespace ordo::domain {

namespace {

using S = saga_step;

// Indexed by order_event_kind.
constexpr saga_step table[] = {
    S::reserve_stock,     // order_placed
    S::authorize_payment, // stock_reserved
    S::none,              // order_rejected
    S::start_fulfilment,  // payment_authorized (none when it started fulfilment itself)
    S::none,              // payment_declined: its release rides in the same append
    S::none,              // payment_timed_out: release and void ride in the same append
    S::ship,              // fulfilment_started
    S::deliver,           // order_shipped
    S::capture_payment,   // payment_captured
    S::commit_stock,      // stock_commit_requested
    S::none,              // order_delivered
    S::none,              // order_cancelled: release and void ride in the same append
    S::release_stock,     // stock_release_requested
    S::void_payment,      // payment_void_requested
    S::refund_payment,    // refund_issued
    S::restock,           // restock_requested
};
static_assert(std::size(table) == order_event_kind_count, "every order event kind needs a step");

} // namespace

saga_step saga_step_for(order_event_kind k, bool fulfilment_started) {
  const auto i = static_cast<size_t>(k);
  ORDO_ASSERT(i < std::size(table), "order event kind {} has no saga step", i);
  if (k == order_event_kind::payment_authorized && fulfilment_started) return S::none;
  return table[i];
}

saga_step react(const v1::OrderEvent& event) {
  const auto k = event_kind_of(event);
  if (!k) return S::none;
  return saga_step_for(*k, event.has_payment_authorized() &&
                               event.payment_authorized().fulfilment_started());
}

std::string_view name(saga_step s) {
  switch (s) {
  case S::none:
    return "none";
  case S::reserve_stock:
    return "reserve_stock";
  case S::authorize_payment:
    return "authorize_payment";
  case S::start_fulfilment:
    return "start_fulfilment";
  case S::ship:
    return "ship";
  case S::deliver:
    return "deliver";
  case S::capture_payment:
    return "capture_payment";
  case S::commit_stock:
    return "commit_stock";
  case S::release_stock:
    return "release_stock";
  case S::restock:
    return "restock";
  case S::void_payment:
    return "void_payment";
  case S::refund_payment:
    return "refund_payment";
  }
  return "invalid";
}

} // namespace ordo::domain
