// The API's route table (docs/api.md) and the dispatch in front of every handler: which
// method and path, which roles, which path segments must be valid ids. The handlers live in
// api_orders.cpp, api_admin.cpp, api_feed.cpp and api_inventory.cpp.
#include <fmt/core.h>

#include "app/node/api.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/api_request.hpp"
#include "domain/order_id.hpp"

namespace ordo::node {

namespace {

constexpr uint8_t may_call(std::initializer_list<role> roles) {
  uint8_t bits = 0;
  for (auto r : roles)
    bits = static_cast<uint8_t>(bits | 1u << static_cast<unsigned>(r));
  return bits;
}

constexpr uint8_t anyone = may_call({role::customer, role::merchant, role::operations,
                                     role::payments});
constexpr uint8_t operations = may_call({role::operations});
constexpr uint8_t merchants = may_call({role::merchant, role::operations});

// A rejected path segment as its 400; nullopt when every capture is valid.
std::optional<http_response> check_captures(const path_captures& at) {
  if (auto id = at["order_id"]; !id.empty()) {
    std::string why;
    if (!domain::parse_order_id(std::string{id}, &why))
      return error(400, "invalid_order_id", fmt::format("'{}' is not an order id: {}", id, why));
  }
  if (auto sku = at["sku"]; !sku.empty()) return check_sku(sku);
  return std::nullopt;
}

} // namespace

const std::vector<api::route_row>& api::routes() {
  // Payments keys are refused before routing everywhere but the webhook (api::handle), and
  // tenant rules on one order or SKU (whose order, whose SKU) are the handlers' own.
  static const std::vector<route_row> table{
      {"POST", "/v1/orders", route::place_order,
       may_call({role::customer, role::operations}), "place orders", &api::place_order},
      {"GET", "/v1/orders/{order_id}", route::get_order, anyone, "", &api::get_order},
      {"POST", "/v1/orders/{order_id}/cancel", route::cancel_order, anyone, "",
       &api::cancel_order},
      {"POST", "/v1/orders/{order_id}/refund", route::refund_order, anyone, "",
       &api::refund_order},
      {"POST", "/v1/orders/{order_id}/shipment", route::shipment, anyone, "", &api::ship_order},
      {"POST", "/v1/orders/{order_id}/delivery", route::delivery, anyone, "",
       &api::deliver_order},
      {"POST", "/v1/webhooks/payment", route::payment_webhook,
       may_call({role::operations, role::payments}), "post payment webhooks",
       &api::payment_webhook},
      {"POST", "/v1/admin/order-commands", route::admin_command, operations, "inject commands",
       &api::admin_order_command},
      {"POST", "/v1/admin/inventory-commands", route::admin_command, operations,
       "inject commands", &api::admin_inventory_command},
      {"GET", "/v1/cluster", route::other, operations, "read the cluster status",
       &api::get_cluster},
      {"POST", "/v1/cluster/members", route::other, operations, "change the cluster membership",
       &api::change_members},
      {"GET", "/v1/events", route::events, operations, "read the event feed", &api::get_events},
      {"GET", "/v1/events/consumers", route::feed_consumers, operations,
       "see or remove feed consumers", &api::list_consumers},
      {"DELETE", "/v1/events/consumers/{consumer}", route::feed_consumers, operations,
       "see or remove feed consumers", &api::remove_consumer},
      {"GET", "/v1/inventory/{sku}", route::get_inventory, merchants,
       "read or change inventory", &api::get_inventory},
      {"POST", "/v1/inventory/{sku}/adjust", route::adjust_inventory, merchants,
       "read or change inventory", &api::adjust_inventory},
      {"POST", "/v1/inventory/{sku}/restock", route::restock_inventory, merchants,
       "read or change inventory", &api::restock_inventory},
      {"POST", "/v1/inventory/{sku}/price", route::price_inventory, merchants,
       "read or change inventory", &api::price_inventory},
      {"POST", "/v1/inventory/{sku}/owner", route::owner_inventory, operations,
       "assign a SKU's merchant", &api::assign_sku_owner},
  };
  return table;
}

void api::route_request(const http_request& req, const principal& who, responder& respond,
                        route& which) {
  const auto& table = routes();
  auto m = match_route(std::span{table}, req.method, split_path(req.path));
  if (m.r == route_match::result::no_such_path)
    return respond(error(404, "not_found", fmt::format("no such path: {}", req.path)));
  if (m.r == route_match::result::wrong_method) {
    auto r = error(405, "method_not_allowed",
                   fmt::format("{} {} is not supported; use {}", req.method, req.path, m.allow));
    r.headers.emplace_back("Allow", m.allow);
    return respond(std::move(r));
  }
  const auto& row = table[m.row];
  which = row.label;
  if (!row.allows(who.who))
    return respond(error(403, "forbidden",
                         fmt::format("a {} key may not {}", to_string(who.who), row.forbidden)));
  if (auto bad = check_captures(m.captures)) return respond(std::move(*bad));
  (this->*row.fn)(call{req, who, respond, m.captures,
                       query_param(req.query, "include") == "events"});
}

} // namespace ordo::node
