// /v1/orders: place an order, read one, and the commands on an existing order (cancel, refund,
// shipment, delivery). A customer key acts on its own orders only; another's reads as absent.
#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "app/node/api.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/api_request.hpp"
#include "messages/json/json.hpp"

namespace ordo::node {

void api::place_order(const call& c) {
  if (c.req.header("idempotency-key").empty())
    return c.respond(error(400, "missing_idempotency_key",
                           "POST /v1/orders needs an Idempotency-Key header (retries reuse it)"));
  v1::OrderCommand cmd;
  if (auto e = json::parse(c.req.body, *cmd.mutable_place_order()); !e.empty())
    return c.respond(error(400, "malformed_json", "PlaceOrder: " + e));
  // Backpressure from the pipeline: placements are cheap, the saga's work for each is not.
  // Refusing new ones while it trails keeps its backlog bounded under overload.
  if (saga_behind())
    return c.respond(error(429, "overloaded",
                           fmt::format("the order pipeline trails the event feed by more than "
                                       "limits.saga_lag_max = {} positions; retry later with "
                                       "the same Idempotency-Key",
                                       cfg_.saga_lag_max)));
  if (c.who.who == role::customer && cmd.place_order().customer_id() != c.who.subject)
    return c.respond(error(403, "forbidden",
                           fmt::format("customer_id '{}' is not the caller's customer id",
                                       cmd.place_order().customer_id())));
  rt_.submit_order(cmd, command_key(c.req, c.who),
                   [respond = c.respond, events = c.with_events](outcome o) {
                     respond(from_outcome(o, target::order, true, events));
                   });
}

void api::get_order(const call& c) {
  with_visible_order(std::string{c.at["order_id"]}, c.who, c.respond,
                     [respond = c.respond](const v1::OrderState& st) {
                       respond(json_response(200, json::print(st)));
                     });
}

void api::cancel_order(const call& c) {
  order_action(c, [](v1::OrderCommand& cmd) -> google::protobuf::Message* {
    return cmd.mutable_cancel_order();
  }, may_cancel, "cancel");
}

void api::refund_order(const call& c) {
  order_action(c, [](v1::OrderCommand& cmd) -> google::protobuf::Message* {
    return cmd.mutable_refund_order();
  }, may_fulfil, "refund");
}

void api::ship_order(const call& c) {
  order_action(c, [](v1::OrderCommand& cmd) -> google::protobuf::Message* {
    return cmd.mutable_mark_shipped();
  }, may_fulfil, "shipment");
}

void api::deliver_order(const call& c) {
  order_action(c, [](v1::OrderCommand& cmd) -> google::protobuf::Message* {
    return cmd.mutable_mark_delivered();
  }, may_fulfil, "delivery");
}

void api::order_action(const call& c, google::protobuf::Message* (*body)(v1::OrderCommand&),
                       bool (*allowed)(const principal&, const v1::OrderState&),
                       const char* what) {
  const std::string id{c.at["order_id"]};
  v1::OrderCommand cmd;
  cmd.set_order_id(id);
  auto* fields = body(cmd);
  if (auto e = json::parse(c.req.body.empty() ? "{}" : c.req.body, *fields); !e.empty())
    return c.respond(error(400, "malformed_json", fmt::format("{}: {}", fields->GetTypeName(), e)));
  auto submit = [this, cmd, key = command_key(c.req, c.who), respond = c.respond,
                 events = c.with_events]() {
    rt_.submit_order(cmd, key, [respond, events](outcome o) {
      respond(from_outcome(o, target::order, false, events));
    });
  };
  if (c.who.who == role::operations) return submit();
  // Tenant check on the committed state: not yours reads as not found.
  with_visible_order(id, c.who, c.respond,
                     [respond = c.respond, who = c.who, allowed, submit,
                      what](const v1::OrderState& st) {
                       if (!allowed(who, st))
                         return respond(error(403, "forbidden",
                                              fmt::format("a {} key may not {} an order",
                                                          to_string(who.who), what)));
                       submit();
                     });
}

} // namespace ordo::node
