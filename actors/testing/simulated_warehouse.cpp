#include "actors/testing/simulated_warehouse.hpp"

namespace ordo::saga {

void simulated_warehouse::ship(const std::string& order_id, const std::string&,
                               std::function<void(shipment)> shipped) {
  ++requests_;
  line_.after(latency_, [order_id, shipped = std::move(shipped)] {
    shipped(shipment{"SIM", "T-" + order_id});
  });
}

void simulated_warehouse::deliver(const std::string&, const std::string&,
                                  std::function<void()> delivered) {
  ++requests_;
  line_.after(latency_, std::move(delivered));
}

} // namespace ordo::saga
