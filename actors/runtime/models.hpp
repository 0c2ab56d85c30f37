#pragma once
// Adapters from the pure domain to the generic entity actor: which Protobuf types an entity
// kind uses, how its commands and events sit in the envelope, and its storage key prefix.
// The actors stay generic, so orders and SKUs get the same persistence, supervision,
// passivation and backpressure.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/runtime/placement.hpp"
#include "actors/runtime/runtime_env.hpp"
#include "domain/inventory.hpp"
#include "domain/order.hpp"
#include "domain/snapshot.hpp"
#include "ordo/v1/envelope.pb.h"
#include "storage/journal.hpp"

namespace ordo {

/// The timer changes a model attaches to the append that persists an event.
struct timer_changes {
  std::vector<storage::timer_schedule> schedules;
  std::vector<std::string> cancels;
};

inline constexpr const char* payment_timer = "payment";

struct order_model {
  using state = v1::OrderState;
  using command = v1::OrderCommand;
  using event = v1::OrderEvent;
  static constexpr const char* kind = "order";
  static constexpr std::string_view key_prefix = "o/";
  static constexpr v1::EntityType entity_type = v1::ENTITY_TYPE_ORDER;

  static state initial(std::string_view) { return {}; }
  static domain::snapshot_result<state> decode_snapshot(std::string_view bytes) {
    return domain::decode_order_snapshot(bytes);
  }
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
  /// The payment timeout rides with the events: StockReserved schedules it, every event that
  /// leaves stock_reserved cancels it — in the same transaction, so it survives restarts.
  static void timers(const event& ev, int64_t now_ms, const timer_policy& p, timer_changes& out) {
    if (p.payment_timeout_ms <= 0) return;
    switch (ev.kind_case()) {
    case event::kStockReserved:
      out.schedules.push_back(
          {payment_timer, static_cast<uint64_t>(now_ms + p.payment_timeout_ms), {}});
      break;
    case event::kPaymentAuthorized:
    case event::kPaymentDeclined:
    case event::kPaymentTimedOut:
    case event::kOrderCancelled:
      out.cancels.emplace_back(payment_timer);
      break;
    default:
      break;
    }
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
  static domain::snapshot_result<state> decode_snapshot(std::string_view bytes) {
    return domain::decode_inventory_snapshot(bytes);
  }
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
  static void timers(const event&, int64_t, const timer_policy&, timer_changes&) {}
};

/// The storage entity key of an entity: kind prefix + id (e.g. "o/01J..." or "i/SKU-1").
template <class Model>
std::string storage_key(std::string_view id) {
  std::string key{Model::key_prefix};
  key.append(id);
  return key;
}

} // namespace ordo
