// What happens around a run, over blocking connections (sync_client.hpp), before the workers
// start and after they stopped.
//
// prepare_skus (--flow saga): every SKU the flow draws from (SKU-00000..--skus-1) gets the
// price the orders carry as its price of record (requests.hpp: price_minor; without one the
// saga rejects the order PRICE_NOT_SET) and at least --stock available units (on_hand -
// reserved_total), topped up from what it has, so repeated runs do not pile stock up towards
// the 10^9 limit. Needs an operations key (or a node without keys): these SKUs belong to no
// merchant. Restocks carry Idempotency-Keys, so a retry after a lost answer adds nothing.
//
// verify_orders: reads orders back (GET /v1/orders/{id}) and counts those in `status`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "endpoint.hpp"
#include "flow_stats.hpp"
#include "options.hpp"

namespace ordo::loadgen {

struct prepare_result {
  unsigned skus = 0;   // SKUs ready
  unsigned priced = 0; // SKUs whose price was set (new, or different)
  unsigned restocked = 0;
  uint64_t units = 0; // units added
};

// False with `error` (naming the SKU and the node's answer) when a SKU could not be prepared.
bool prepare_skus(const options& opts, const endpoint& node, prepare_result& out,
                  std::string& error);

void verify_orders(const options& opts, const endpoint& node, const std::vector<std::string>& ids,
                   std::string_view status, flow_stats& out);

} // namespace ordo::loadgen
