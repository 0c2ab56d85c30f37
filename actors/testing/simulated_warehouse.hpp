#pragma once
// A warehouse double for demos, tests and benchmarks: the default warehouse of an embedded
// runtime that is given none and does not take fulfilment reports from outside
// (include/ordo/warehouse.hpp). Ships (carrier "SIM", tracking "T-<order>") and delivers
// after `latency` each; zero latency answers inline.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "actors/testing/delay_line.hpp"
#include "ordo/warehouse.hpp"

namespace ordo::saga {

class simulated_warehouse final : public warehouse {
public:
  explicit simulated_warehouse(std::chrono::milliseconds latency) : latency_(latency) {}

  void ship(const std::string& order_id, const std::string& key,
            std::function<void(shipment)> shipped) override;
  void deliver(const std::string& order_id, const std::string& key,
               std::function<void()> delivered) override;

  uint64_t requests() const { return requests_.load(); } // ship and deliver, repeats included

private:
  std::chrono::milliseconds latency_;
  std::atomic<uint64_t> requests_{0};
  delay_line line_; // last: destroyed first, dropping reports not given yet
};

} // namespace ordo::saga
