#pragma once
// The warehouse as the saga sees it: once an order is paid and handed to fulfilment, the saga
// asks the warehouse to ship it, and once shipped, to deliver it; each report becomes the
// order's MarkShipped / MarkDelivered command. Each request carries the saga's idempotency
// key for the step: a warehouse must treat a repeated key as the same request (the saga asks
// again after a restart, before the order recorded the report).
//
// Callbacks may run on any thread (also inline, inside the call) and must be called at most
// once. A warehouse that never answers holds the order where it is (and the saga's offset
// before it); shipping has no timeout.
//
// A host plugs its warehouse in through runtime_config::saga.warehouse; without one the
// runtime uses the simulated warehouse (actors/testing/simulated_warehouse.hpp), which ships
// and delivers after saga.warehouse_latency each. A warehouse that reports through the
// node's HTTP API instead is `saga.external_fulfilment`: then the saga asks nobody.

#include <functional>
#include <string>

namespace ordo::saga {

struct shipment {
  std::string carrier;
  std::string tracking_number;
};

class warehouse {
public:
  virtual ~warehouse() = default;
  /// Ship the order; call `shipped` once when it left.
  virtual void ship(const std::string& order_id, const std::string& key,
                    std::function<void(shipment)> shipped) = 0;
  /// Deliver the shipped order; call `delivered` once when it arrived.
  virtual void deliver(const std::string& order_id, const std::string& key,
                       std::function<void()> delivered) = 0;
};

} // namespace ordo::saga
