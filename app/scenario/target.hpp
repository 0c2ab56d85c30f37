#pragma once
// What a scenario runs against: the embedded runtime (embedded.cpp: restarts allowed)
// or a running node over HTTP (remote.cpp, `ordoctl scenario`). The steps are the same; only
// how a command reaches an order differs.

#include <optional>
#include <string>

#include "ordo/outcome.hpp"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo::scenario {

class target {
public:
  virtual ~target() = default;
  /// The command's outcome; nullopt when no answer came in time.
  virtual std::optional<outcome> submit_order(const v1::OrderCommand& cmd,
                                              const std::string& key) = 0;
  virtual std::optional<outcome> submit_inventory(const v1::InventoryCommand& cmd,
                                                  const std::string& key) = 0;
  /// Committed state; an order never placed has status UNSPECIFIED (a SKU: last_sequence 0).
  /// Errors are described in the string.
  virtual std::optional<v1::OrderState> order(const std::string& id, std::string& error) = 0;
  virtual std::optional<v1::InventoryState> inventory(const std::string& sku,
                                                      std::string& error) = 0;
  /// Stops and starts again, the saga on or off (nullopt: unchanged). Returns an error
  /// message, or nullopt when done.
  virtual std::optional<std::string> restart(std::optional<bool> saga) = 0;
  /// Prepended to every idempotency key: a shared node sees many runs of the same files.
  virtual std::string key_prefix() const { return {}; }
};

} // namespace ordo::scenario
