// Payment webhooks, injected commands (test scripts, operations) and the cluster's status and
// membership (operations).
#include <map>

#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "app/node/api.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/api_request.hpp"
#include "app/node/errors.hpp"
#include "messages/json/json.hpp"
#include "app/node/webhook_signature.hpp"
#include "domain/order_id.hpp"
#include "domain/validation.hpp"

namespace ordo::node {

// POST /v1/webhooks/payment: a signed provider callback becomes PaymentAuthorized or
// PaymentDeclined under a key derived from it, so a re-sent webhook is a duplicate.
void api::payment_webhook(const call& c) {
  if (auto bad = check_webhook_signature(c.req, cfg_.payments, std::chrono::system_clock::now()))
    return c.respond(std::move(*bad));
  v1::PaymentWebhook w;
  if (auto e = json::parse(c.req.body, w); !e.empty())
    return c.respond(error(400, "malformed_json", "PaymentWebhook: " + e));
  std::string why;
  if (!domain::parse_order_id(w.order_id(), &why))
    return c.respond(error(400, "invalid_order_id",
                           fmt::format("order_id '{}' is not an order id: {}", w.order_id(), why)));
  // The payment id becomes part of the webhook's idempotency key: checked before it is.
  if (w.result() == "authorized")
    if (auto e = domain::check_id("payment_id", w.payment_id()))
      return c.respond(error(400, "INVALID_ARGUMENT", e->message()));
  v1::OrderCommand cmd;
  cmd.set_order_id(w.order_id());
  std::string key;
  auto submit = [this, respond = c.respond, events = c.with_events](const v1::OrderCommand& cmd,
                                                                     const std::string& key) {
    rt_.submit_order(cmd, key, [respond, events](outcome o) {
      respond(from_outcome(o, target::order, false, events));
    });
  };
  if (w.result() == "authorized") {
    auto* a = cmd.mutable_payment_authorized();
    a->set_payment_id(w.payment_id());
    key = "webhook:auth:" + w.order_id() + ":" + w.payment_id();
    if (!w.has_amount()) {
      // No amount: the provider authorized the order's total.
      with_order(w.order_id(), [cmd, key, submit, respond = c.respond](
                                   caf::expected<v1::OrderState> st) mutable {
        if (!st) return respond(read_error(st.error()));
        auto* amount = cmd.mutable_payment_authorized()->mutable_amount();
        amount->set_amount_minor(st->total_minor());
        amount->set_currency(st->currency());
        submit(cmd, key);
      });
      return;
    }
    *a->mutable_amount() = w.amount();
  } else if (w.result() == "declined") {
    cmd.mutable_payment_declined()->set_reason(w.reason().empty() ? "declined" : w.reason());
    key = "webhook:decline:" + w.order_id();
  } else {
    return c.respond(error(400, "INVALID_ARGUMENT",
                           fmt::format("result: '{}' is not authorized or declined", w.result())));
  }
  // The provider re-sends webhooks: the key makes a re-sent one a duplicate, not an error.
  submit(cmd, key);
}

void api::admin_order_command(const call& c) {
  v1::OrderCommand cmd;
  if (auto e = json::parse(c.req.body, cmd); !e.empty())
    return c.respond(error(400, "malformed_json", "OrderCommand: " + e));
  rt_.submit_order(cmd, command_key(c.req, c.who),
                   [respond = c.respond, placement = cmd.has_place_order(),
                    events = c.with_events](outcome o) {
                     respond(from_outcome(o, target::order, placement, events));
                   });
}

void api::admin_inventory_command(const call& c) {
  v1::InventoryCommand cmd;
  if (auto e = json::parse(c.req.body, cmd); !e.empty())
    return c.respond(error(400, "malformed_json", "InventoryCommand: " + e));
  if (auto bad = check_sku(cmd.sku())) return c.respond(std::move(*bad));
  rt_.submit_inventory(cmd, command_key(c.req, c.who),
                       [respond = c.respond, events = c.with_events](outcome o) {
                         respond(from_outcome(o, target::sku, false, events));
                       });
}

void api::get_cluster(const call& c) {
  c.respond(json_response(200, cluster_status()));
}

// POST /v1/cluster/members: change the membership; 202, progress in GET /v1/cluster
// ("change", "handoffs").
void api::change_members(const call& c) {
  if (!link_) return c.respond(error(409, "single_node", "this node is not in a cluster"));
  v1::ClusterMembers body;
  if (auto e = json::parse(c.req.body, body); !e.empty())
    return c.respond(error(400, "malformed_body", e));
  std::vector<cluster::member> members;
  for (const auto& m : body.nodes()) {
    if (m.id() > 65535 || m.port() > 65535)
      return c.respond(error(400, "invalid_member", "node id and port must be 1..65535"));
    members.push_back({static_cast<uint16_t>(m.id()), m.host(), static_cast<uint16_t>(m.port())});
  }
  auto epoch = link_->change_members(std::move(members));
  if (!epoch) {
    auto text = describe(epoch.error());
    return c.respond(
        error(text.find("invalid") != std::string::npos ? 400 : 409, "change_refused", text));
  }
  c.respond(json_response(202, fmt::format(R"({{"epoch":{},"status":"started"}})", *epoch)));
}

// {"self":1,"cluster_id":"..","epoch":1,"nodes":[{"id":1,"up":true,"shards":[..]},..],
//  "moving_out":[..],"change":{...},"handoffs":[..]} — this node's view (docs/cluster.md).
std::string api::cluster_status() const {
  if (!link_)
    return fmt::format(R"({{"self":{},"single_node":true,"shards":{},"handoffs":[]}})",
                       cfg_.runtime.node_id, cfg_.runtime.shard_count);
  auto st = link_->stats();
  const auto& own = link_->owners();
  auto list = [](const std::vector<uint16_t>& v) {
    std::string out;
    for (auto s : v)
      out += fmt::format("{}{}", out.empty() ? "" : ",", s);
    return out;
  };
  std::map<uint16_t, std::vector<uint16_t>> by_owner;
  for (const auto& m : own.known_members())
    by_owner[m.id];
  for (uint16_t s = 0; s < own.shard_count(); ++s)
    by_owner[own.owner(s)].push_back(s);
  std::string nodes;
  for (const auto& [id, shards] : by_owner) {
    if (id == 0) continue; // unknown owners (a joining node)
    bool up = id == cfg_.runtime.node_id;
    for (const auto& [peer, connected] : st.peers)
      if (peer == id) up = connected;
    nodes += fmt::format(R"({}{{"id":{},"up":{},"shards":[{}]}})", nodes.empty() ? "" : ",", id,
                         up ? "true" : "false", list(shards));
  }
  std::string moving;
  for (const auto& m : own.moving_out())
    moving += fmt::format(R"({}{{"shard":{},"to":{},"epoch":{}}})", moving.empty() ? "" : ",",
                          m.shard(), m.to_node(), m.epoch());
  // Handoffs of the change this node coordinates (empty elsewhere; see moving_out there).
  auto ch = link_->change();
  std::string handoffs;
  for (const auto& h : ch.handoffs) {
    if (h.state == "done") continue;
    handoffs += fmt::format(R"({}{{"shard":{},"from":{},"to":{},"state":{},"error":{}}})",
                            handoffs.empty() ? "" : ",", h.shard, h.from, h.to,
                            json::quote(h.state), json::quote(h.error));
  }
  auto pending = own.pending();
  return fmt::format(
      R"({{"self":{},"cluster_id":"{:016x}","epoch":{},"pending_epoch":{},"shard_count":{},"shards_owned":{},"forwarded":{},"forward_failed":{},"shards_moved_in":{},"shards_moved_out":{},"nodes":[{}],"moving_out":[{}],"change":{{"epoch":{},"running":{},"result":{},"moves":{}}},"handoffs":[{}]}})",
      cfg_.runtime.node_id, link_->cluster_id(), own.epoch(), pending ? pending->epoch() : 0,
      cfg_.runtime.shard_count, st.shards_owned, st.forwarded, st.forward_failed,
      st.shards_moved_in, st.shards_moved_out, nodes, moving, ch.epoch,
      ch.running ? "true" : "false", json::quote(ch.result), ch.handoffs.size(), handoffs);
}

} // namespace ordo::node
