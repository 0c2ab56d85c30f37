// /v1/inventory/{sku}: read a SKU; adjust, restock, price it; assign its merchant.
// A SKU belongs to one merchant (the one whose command created it): a merchant key acts only
// on its own SKUs, and another merchant's SKU reads as absent (404), as orders do. The domain
// enforces it on commands (InventoryCommand.acting_merchant); reads are checked here.
#include <fmt/core.h>

#include "actors/runtime.hpp"
#include "app/node/api.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/api_request.hpp"
#include "app/node/json.hpp"

namespace ordo::node {

namespace {

bool may_see(const principal& who, const v1::InventoryState& st) {
  return who.who == role::operations || (who.who == role::merchant && st.merchant_id() == who.subject);
}

} // namespace

void api::with_sku(const std::string& sku,
                   std::function<void(caf::expected<v1::InventoryState>)> fn) {
  auto shard = rt_.shard_of_sku(sku);
  if (link_ && !rt_.owns(shard)) {
    link_->read_inventory(sku, shard, std::move(fn));
    return;
  }
  fn(rt_.inventory(sku));
}

void api::route_inventory(const http_request& req, const principal& who,
                          const std::vector<std::string_view>& parts, responder& respond,
                          route& which) {
  std::string sku{parts[2]};
  const std::string_view action = parts.size() == 4 ? parts[3] : std::string_view{};
  which = action.empty()          ? route::get_inventory
          : action == "adjust"    ? route::adjust_inventory
          : action == "restock"   ? route::restock_inventory
          : action == "price"     ? route::price_inventory
          : action == "owner"     ? route::owner_inventory
                                  : route::other;
  if (which == route::other)
    return respond(error(404, "not_found", fmt::format("no such path: {}", req.path)));
  const bool get = req.method == "GET";
  if (action.empty() != get) {
    auto allowed = action.empty() ? "GET" : "POST";
    auto r = error(405, "method_not_allowed",
                   fmt::format("{} {} is not supported; use {}", req.method, req.path, allowed));
    r.headers.emplace_back("Allow", allowed);
    return respond(std::move(r));
  }
  if (who.who == role::customer || who.who == role::payments)
    return respond(error(403, "forbidden", fmt::format("a {} key may not read or change "
                                                       "inventory",
                                                       to_string(who.who))));
  if (which == route::owner_inventory && who.who != role::operations)
    return respond(error(403, "forbidden", "only an operations key may assign a SKU's merchant"));
  if (auto bad = check_sku(sku)) return respond(std::move(*bad));

  if (get) {
    with_sku(sku, [respond, sku, who](caf::expected<v1::InventoryState> st) {
      if (!st) return respond(read_error(st.error()));
      if (st->last_sequence() == 0 || !may_see(who, *st))
        return respond(error(404, "NOT_FOUND", fmt::format("no inventory for SKU '{}'", sku)));
      respond(json_response(200, json::print(*st)));
    });
    return;
  }

  v1::InventoryCommand cmd;
  cmd.set_sku(sku);
  google::protobuf::Message* body = nullptr;
  if (which == route::adjust_inventory)
    body = cmd.mutable_adjust();
  else if (which == route::restock_inventory)
    body = cmd.mutable_restock();
  else if (which == route::price_inventory)
    body = cmd.mutable_set_price();
  else
    body = cmd.mutable_assign_owner();
  if (auto e = json::parse(req.body, *body); !e.empty())
    return respond(error(400, "malformed_json", fmt::format("{}: {}", body->GetTypeName(), e)));
  // Operations may create a SKU for a merchant: ?merchant_id=M acts as M.
  if (who.who == role::merchant)
    cmd.set_acting_merchant(who.subject);
  else
    cmd.set_acting_merchant(std::string{query_param(req.query, "merchant_id")});
  const bool events = query_param(req.query, "include") == "events";
  rt_.submit_inventory(cmd, command_key(req, who), [respond, events](outcome o) {
    respond(from_outcome(o, target::sku, false, events));
  });
}

} // namespace ordo::node
