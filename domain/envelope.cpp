// Envelope compatibility checks (pure: looks at fields only).
#include "domain/envelope.hpp"

#include <fmt/core.h>

#include "domain/decision.hpp"
#include "domain/order_machine.hpp"
#include "domain/upcast.hpp"

namespace ordo::domain {

namespace {

bool version_supported(uint32_t v) {
  return v >= schema_version_oldest && v <= schema_version_current;
}

} // namespace

field_error check_command_envelope(const v1::Envelope& env) {
  using P = v1::Envelope;
  if (!version_supported(env.schema_version()))
    return make_rejection(v1::REJECTION_CODE_UNSUPPORTED_SCHEMA_VERSION,
                          fmt::format("schema_version: {} is outside supported {}..{}",
                                      env.schema_version(), schema_version_oldest,
                                      schema_version_current));
  if (auto e = check_id("idempotency_key", env.idempotency_key())) return e;
  switch (env.payload_case()) {
  case P::kOrderCommand:
    if (env.entity_type() != v1::ENTITY_TYPE_ORDER ||
        env.entity_id() != env.order_command().order_id())
      return make_rejection(v1::REJECTION_CODE_WRONG_ENTITY,
                            "entity_type/entity_id do not match the order command");
    if (!command_kind_of(env.order_command()))
      return make_rejection(v1::REJECTION_CODE_UNKNOWN_COMMAND,
                            "order_command: kind is not set or unknown to this node");
    return std::nullopt;
  case P::kInventoryCommand:
    if (env.entity_type() != v1::ENTITY_TYPE_INVENTORY ||
        env.entity_id() != env.inventory_command().sku())
      return make_rejection(v1::REJECTION_CODE_WRONG_ENTITY,
                            "entity_type/entity_id do not match the inventory command");
    if (env.inventory_command().kind_case() == v1::InventoryCommand::KIND_NOT_SET)
      return make_rejection(v1::REJECTION_CODE_UNKNOWN_COMMAND,
                            "inventory_command: kind is not set or unknown to this node");
    return std::nullopt;
  default:
    return make_rejection(v1::REJECTION_CODE_UNKNOWN_COMMAND,
                          fmt::format("payload: case {} is not a command this node accepts",
                                      static_cast<int>(env.payload_case())));
  }
}

event_disposition classify_event(const v1::Envelope& env) {
  using P = v1::Envelope;
  if (!version_supported(env.schema_version())) return event_disposition::hold;
  switch (env.payload_case()) {
  case P::kOrderEvent:
    return event_kind_of(env.order_event()) ? event_disposition::apply : event_disposition::hold;
  case P::kInventoryEvent:
    return env.inventory_event().kind_case() != v1::InventoryEvent::KIND_NOT_SET
               ? event_disposition::apply
               : event_disposition::hold;
  default:
    return event_disposition::hold;
  }
}

std::variant<v1::Envelope, event_read_error> read_event(std::string_view bytes) {
  v1::Envelope env;
  if (!env.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return event_read_error{event_read_errc::malformed, "event: not an envelope"};
  if (auto bad = check_event(env)) return std::move(*bad);
  return env;
}

std::optional<event_read_error> check_event(v1::Envelope& env) {
  if (env.has_order_command() || env.has_inventory_command() ||
      env.payload_case() == v1::Envelope::PAYLOAD_NOT_SET)
    return event_read_error{event_read_errc::malformed,
                            fmt::format("event {} of {}: the envelope carries no event",
                                        env.sequence(), env.entity_id())};
  if (classify_event(env) == event_disposition::hold)
    return event_read_error{event_read_errc::schema_too_new,
                            fmt::format("event {} of {}: schema version {} (this build reads "
                                        "{}..{}) or an event kind unknown here",
                                        env.sequence(), env.entity_id(), env.schema_version(),
                                        schema_version_oldest, schema_version_current)};
  if (env.has_order_event()) upcast(*env.mutable_order_event());
  return std::nullopt;
}

} // namespace ordo::domain
