// /v1/inventory/{sku}: read a SKU; adjust, restock, price it; assign its merchant.
// A SKU belongs to one merchant (the one whose command created it): a merchant key acts only
// on its own SKUs, and another merchant's SKU reads as absent (404), as orders do. The domain
// enforces it on commands (InventoryCommand.acting_merchant); reads are checked here.
#include <fmt/core.h>

#include "actors/runtime/internals.hpp"
#include "ordo/runtime.hpp"
#include "app/node/api.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/api_request.hpp"
#include "messages/json/json.hpp"

namespace ordo::node {

namespace {

bool may_see(const principal& who, const v1::InventoryState& st) {
  return who.who == role::operations || (who.who == role::merchant && st.merchant_id() == who.subject);
}

} // namespace

void api::with_sku(const std::string& sku,
                   std::function<void(caf::expected<v1::InventoryState>)> fn) {
  auto shard = ordo::runtime_internals::shard_of_sku(rt_, sku);
  if (link_ && !ordo::runtime_internals::owns(rt_, shard)) {
    link_->read_inventory(sku, shard, std::move(fn));
    return;
  }
  fn(rt_.inventory(sku));
}

void api::get_inventory(const call& c) {
  with_sku(std::string{c.at["sku"]},
           [respond = c.respond, sku = std::string{c.at["sku"]},
            who = c.who](caf::expected<v1::InventoryState> st) {
             if (!st) return respond(read_error(st.error()));
             if (st->last_sequence() == 0 || !may_see(who, *st))
               return respond(
                   error(404, "NOT_FOUND", fmt::format("no inventory for SKU '{}'", sku)));
             respond(json_response(200, json::print(*st)));
           });
}

void api::adjust_inventory(const call& c) {
  inventory_command(c, [](v1::InventoryCommand& cmd) -> google::protobuf::Message* {
    return cmd.mutable_adjust();
  });
}

void api::restock_inventory(const call& c) {
  inventory_command(c, [](v1::InventoryCommand& cmd) -> google::protobuf::Message* {
    return cmd.mutable_restock();
  });
}

void api::price_inventory(const call& c) {
  inventory_command(c, [](v1::InventoryCommand& cmd) -> google::protobuf::Message* {
    return cmd.mutable_set_price();
  });
}

void api::assign_sku_owner(const call& c) {
  inventory_command(c, [](v1::InventoryCommand& cmd) -> google::protobuf::Message* {
    return cmd.mutable_assign_owner();
  });
}

void api::inventory_command(const call& c,
                            google::protobuf::Message* (*body)(v1::InventoryCommand&)) {
  v1::InventoryCommand cmd;
  cmd.set_sku(std::string{c.at["sku"]});
  auto* fields = body(cmd);
  if (auto e = json::parse(c.req.body, *fields); !e.empty())
    return c.respond(error(400, "malformed_json", fmt::format("{}: {}", fields->GetTypeName(), e)));
  // Operations may create a SKU for a merchant: ?merchant_id=M acts as M.
  if (c.who.who == role::merchant)
    cmd.set_acting_merchant(c.who.subject);
  else
    cmd.set_acting_merchant(std::string{query_param(c.req.query, "merchant_id")});
  rt_.submit_inventory(cmd, command_key(c.req, c.who),
                       [respond = c.respond, events = c.with_events](outcome o) {
                         respond(from_outcome(o, target::sku, false, events));
                       });
}

} // namespace ordo::node
