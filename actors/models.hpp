#pragma once
// Adapters from the pure domain to the generic entity actor: which Protobuf types an entity
// kind uses, how its commands and events sit in the envelope, and its storage key prefix.
// The actors stay generic, so orders and SKUs get the same persistence, supervision,
// passivation and backpressure.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "actors/placement.hpp"
#include "domain/inventory.hpp"
#include "domain/order.hpp"
#include "ordo/v1/envelope.pb.h"
#include "storage/journal.hpp"

namespace ordo {

struct order_model {
  using state = v1::OrderState;
  using command = v1::OrderCommand;
  using event = v1::OrderEvent;
  static constexpr const char* kind = "order";
  static constexpr std::string_view key_prefix = "o/";
  static constexpr v1::EntityType entity_type = v1::ENTITY_TYPE_ORDER;

  static state initial(std::string_view) { return {}; }
  static bool has_command(const v1::Envelope& e) { return e.has_order_command(); }
  static const command& command_of(const v1::Envelope& e) { return e.order_command(); }
  static bool unwrap(const v1::Envelope& e, event& out) {
    if (!e.has_order_event()) return false;
    out = e.order_event();
    return true;
  }
  static void wrap(v1::Envelope& e, const event& ev) { *e.mutable_order_event() = ev; }
  static domain::order_decision decide(const state& s, const command& c, int64_t now_ms) {
    return domain::decide(s, c, now_ms);
  }
  static state evolve(state s, const event& ev) { return domain::evolve(std::move(s), ev); }
  /// A first placement also records placement key -> order id (see placement.hpp).
  static std::optional<storage::idempotency_record> extra_idempotency(const v1::Envelope& cmd) {
    if (cmd.idempotency_key().empty() || !cmd.order_command().has_place_order())
      return std::nullopt;
    return storage::idempotency_record{std::string(placement_entity), cmd.idempotency_key(),
                                       cmd.entity_id()};
  }
};

struct inventory_model {
  using state = v1::InventoryState;
  using command = v1::InventoryCommand;
  using event = v1::InventoryEvent;
  static constexpr const char* kind = "inventory";
  static constexpr std::string_view key_prefix = "i/";
  static constexpr v1::EntityType entity_type = v1::ENTITY_TYPE_INVENTORY;

  static state initial(std::string_view) { return {}; }
  static bool has_command(const v1::Envelope& e) { return e.has_inventory_command(); }
  static const command& command_of(const v1::Envelope& e) { return e.inventory_command(); }
  static bool unwrap(const v1::Envelope& e, event& out) {
    if (!e.has_inventory_event()) return false;
    out = e.inventory_event();
    return true;
  }
  static void wrap(v1::Envelope& e, const event& ev) { *e.mutable_inventory_event() = ev; }
  static domain::inventory_decision decide(const state& s, const command& c, int64_t now_ms) {
    return domain::decide(s, c, now_ms);
  }
  static state evolve(state s, const event& ev) { return domain::evolve(std::move(s), ev); }
  static std::optional<storage::idempotency_record> extra_idempotency(const v1::Envelope&) {
    return std::nullopt;
  }
};

/// The storage entity key of an entity: kind prefix + id (e.g. "o/01J..." or "i/SKU-1").
template <class Model>
std::string storage_key(std::string_view id) {
  std::string key{Model::key_prefix};
  key.append(id);
  return key;
}

} // namespace ordo
