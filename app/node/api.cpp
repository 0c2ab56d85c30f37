#include "app/node/api.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "actors/runtime.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/api_request.hpp"
#include "app/node/errors.hpp"
#include "app/node/json.hpp"
#include "app/node/log.hpp"
#include "app/node/webhook_signature.hpp"
#include "domain/order_id.hpp"
#include "domain/validation.hpp"
#include "ordo/v1/api.pb.h"

namespace ordo::node {

namespace {

const char* json_type = "application/json";

} // namespace

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

void api::with_visible_order(const std::string& id, const principal& who, const responder& respond,
                             std::function<void(const v1::OrderState&)> fn) {
  with_order(id, [id, who, respond, fn = std::move(fn)](caf::expected<v1::OrderState> st) {
    if (!st) {
      respond(read_error(st.error()));
      return;
    }
    if (st->status() == v1::ORDER_STATUS_UNSPECIFIED || !may_read(who, *st)) {
      respond(error(404, "NOT_FOUND", fmt::format("no order {}", id)));
      return;
    }
    fn(*st);
  });
}

void api::with_order(const std::string& id, std::function<void(caf::expected<v1::OrderState>)> fn) {
  auto shard = domain::shard_of(id);
  if (link_ && shard && !rt_.owns(*shard)) {
    link_->read_order(id, *shard, std::move(fn));
    return;
  }
  fn(rt_.order(id));
}

bool api::saga_behind() {
  if (cfg_.saga_lag_max == 0 || !cfg_.runtime.saga.enabled) return false;
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  int64_t last = saga_checked_ns_.load(std::memory_order_relaxed);
  if (now - last < 1'000'000 ||
      !saga_checked_ns_.compare_exchange_strong(last, now, std::memory_order_relaxed))
    return saga_behind_.load(std::memory_order_relaxed); // another request refreshes it
  auto head = rt_.feed_head();
  const uint64_t low = rt_.saga_stats().low_water;
  const bool behind = head && *head > low && *head - low > cfg_.saga_lag_max;
  saga_behind_.store(behind, std::memory_order_relaxed);
  return behind;
}

bool api::host_allowed(std::string_view host) const {
  if (host.empty()) return true; // HTTP/1.0 without Host: not a browser
  // Strip the port: "name:port", "[v6]:port".
  auto colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos)
    host = host.substr(0, colon);
  const auto listen_host =
      std::string_view{cfg_.http.listen}.substr(0, cfg_.http.listen.rfind(':'));
  if (host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == listen_host)
    return true;
  for (const auto& h : cfg_.http.allowed_hosts)
    if (host == h) return true;
  return false;
}

api::api(runtime& rt, const node_config& cfg, metrics& m, cluster::cluster_link* link)
    : rt_(rt), cfg_(cfg), metrics_(m), auth_(cfg.keys), link_(link),
      consumers_(rt, cfg.http.feed_consumers_max, cfg.http.feed_offset_save_every) {
  // Unreadable saved offsets are reported, not fatal: those consumers start again from the
  // offset they pass (or 0) — at least once, like every feed read.
  if (auto err = consumers_.load(); !err.empty())
    log::error("feed_consumers_unreadable", {{"error", err}});
  feed_listener_ = rt_.feed_commits().listen([this] {
    { std::lock_guard<std::mutex> g{polls_mu_}; }
    polls_cv_.notify_all();
  });
  waiter_ = std::thread([this] { waiter_loop(); });
}

api::~api() {
  stop();
}

void api::stop() {
  ready_ = false;
  {
    std::lock_guard<std::mutex> g{polls_mu_};
    if (stopping_) return;
    stopping_ = true;
  }
  polls_cv_.notify_all();
  if (waiter_.joinable()) waiter_.join();
  feed_listener_.reset();
  consumers_.flush(true);
}

void api::handle(http_request req, responder respond) {
  auto t0 = std::chrono::steady_clock::now();
  auto which = std::make_shared<route>(route::other);
  responder counted = [this, t0, which, respond = std::move(respond)](http_response r) {
    metrics_.record(*which, r.status, std::chrono::steady_clock::now() - t0);
    respond(std::move(r));
  };
  // Health and metrics need no key: probes and scrapers (keep the port off the internet).
  if (req.method == "GET" && (req.path == "/healthz" || req.path == "/readyz")) {
    *which = route::health;
    // Fail-stopped: alive (reads work) but never ready again — it can commit nothing.
    if (auto failed = rt_.fail_stop_error(); failed && req.path == "/readyz")
      counted(error(503, "fail_stopped",
                    "the journal fail-stopped and commits nothing until a restart: " +
                        describe(failed)));
    else if (req.path == "/healthz" || ready_)
      counted(json_response(200, "{\"status\":\"ok\"}"));
    else
      counted(error(503, "not_ready", "the node is starting or stopping"));
    return;
  }
  // No keys (a loopback node): a browser lured to a page whose DNS name now points at
  // 127.0.0.1 (DNS rebinding) would get everything, so only loopback Host names are served.
  if (auth_.open() && !host_allowed(req.header("host"))) {
    counted(error(403, "host_not_allowed",
                  fmt::format("Host '{}' is not this node's; a node without API keys answers "
                              "only localhost, 127.0.0.1, [::1], its listen host and "
                              "http.allowed_hosts",
                              req.header("host"))));
    return;
  }
  if (req.method == "GET" && req.path == "/metrics") {
    *which = route::metrics;
    std::optional<cluster::link_stats> ls;
    if (link_) ls = link_->stats();
    auto text = metrics_.render(rt_, ls ? &*ls : nullptr, consumers_.list());
    counted(http_response{200, std::move(text), "text/plain; version=0.0.4", {}});
    return;
  }
  auto who = auth_.identify(req);
  if (!who) {
    counted(error(401, "unauthenticated",
                  "missing or unknown API key (Authorization: Bearer <key> or X-Api-Key)"));
    return;
  }
  // A payment provider's key posts webhooks and nothing else.
  if (who->who == role::payments && !(req.path == "/v1/webhooks/payment")) {
    counted(error(403, "forbidden", "a payments key may only POST /v1/webhooks/payment"));
    return;
  }
  if (auto bad = check_idempotency_key(req)) {
    counted(std::move(*bad));
    return;
  }
  if (req.body.size() > cfg_.http.body_max_bytes) {
    counted(error(413, "body_too_large",
                  fmt::format("body of {} bytes exceeds http.body_max_bytes = {}", req.body.size(),
                              cfg_.http.body_max_bytes)));
    return;
  }
  if (req.method == "POST") {
    auto ct = req.header("content-type");
    if (ct.substr(0, std::string_view{json_type}.size()) != json_type) {
      counted(error(415, "unsupported_media_type",
                    fmt::format("Content-Type must be application/json, not '{}'", ct)));
      return;
    }
  }
  route_request(req, *who, counted, *which);
}

void api::route_request(const http_request& req, const principal& who, responder& respond,
                        route& which) {
  auto parts = split_path(req.path);
  const bool get = req.method == "GET", post = req.method == "POST";
  auto wrong_method = [&](const char* allowed) {
    auto r = error(405, "method_not_allowed",
                   fmt::format("{} {} is not supported; use {}", req.method, req.path, allowed));
    r.headers.emplace_back("Allow", allowed);
    respond(std::move(r));
  };
  auto scoped_key = [&] { return command_key(req, who); };
  // Command answers carry the committed events only when asked: ?include=events.
  const bool events = query_param(req.query, "include") == "events";
  auto forbidden = [&](std::string_view what) {
    respond(error(403, "forbidden", fmt::format("a {} key may not {}", to_string(who.who), what)));
  };

  if (parts.size() < 2 || parts[0] != "v1") {
    respond(error(404, "not_found", fmt::format("no such path: {}", req.path)));
    return;
  }

  // /v1/orders ...
  if (parts[1] == "orders") {
    if (parts.size() == 2) {
      which = route::place_order;
      if (!post) return wrong_method("POST");
      auto key = req.header("idempotency-key");
      if (key.empty()) {
        respond(error(400, "missing_idempotency_key",
                      "POST /v1/orders needs an Idempotency-Key header (retries reuse it)"));
        return;
      }
      v1::OrderCommand cmd;
      if (auto e = json::parse(req.body, *cmd.mutable_place_order()); !e.empty()) {
        respond(error(400, "malformed_json", "PlaceOrder: " + e));
        return;
      }
      if (who.who == role::merchant) return forbidden("place orders");
      // Backpressure from the pipeline: placements are cheap, the saga's work for each is
      // not. Refusing new ones while it trails keeps its backlog bounded under overload.
      if (saga_behind())
        return respond(error(429, "overloaded",
                             fmt::format("the order pipeline trails the event feed by more than "
                                         "limits.saga_lag_max = {} positions; retry later with "
                                         "the same Idempotency-Key",
                                         cfg_.saga_lag_max)));
      if (who.who == role::customer && cmd.place_order().customer_id() != who.subject) {
        respond(error(403, "forbidden",
                      fmt::format("customer_id '{}' is not the caller's customer id",
                                  cmd.place_order().customer_id())));
        return;
      }
      rt_.submit_order(cmd, scoped_key(), [respond, events](outcome o) {
        respond(from_outcome(o, target::order, true, events));
      });
      return;
    }
    std::string id{parts[2]};
    std::string why;
    if (!domain::parse_order_id(id, &why)) {
      which = parts.size() == 3 ? route::get_order : route::other;
      respond(error(400, "invalid_order_id", fmt::format("'{}' is not an order id: {}", id, why)));
      return;
    }
    if (parts.size() == 3) {
      which = route::get_order;
      if (!get) return wrong_method("GET");
      with_visible_order(id, who, respond, [respond](const v1::OrderState& st) {
        respond(json_response(200, json::print(st)));
      });
      return;
    }
    if (parts.size() != 4) {
      respond(error(404, "not_found", fmt::format("no such path: {}", req.path)));
      return;
    }
    v1::OrderCommand cmd;
    cmd.set_order_id(id);
    google::protobuf::Message* body = nullptr;
    bool (*allowed)(const principal&, const v1::OrderState&) = nullptr;
    auto action = parts[3];
    if (action == "cancel") {
      which = route::cancel_order;
      body = cmd.mutable_cancel_order();
      allowed = may_cancel;
    } else if (action == "refund") {
      which = route::refund_order;
      body = cmd.mutable_refund_order();
      allowed = may_fulfil;
    } else if (action == "shipment") {
      which = route::shipment;
      body = cmd.mutable_mark_shipped();
      allowed = may_fulfil;
    } else if (action == "delivery") {
      which = route::delivery;
      body = cmd.mutable_mark_delivered();
      allowed = may_fulfil;
    } else {
      respond(error(404, "not_found", fmt::format("no such path: {}", req.path)));
      return;
    }
    if (!post) return wrong_method("POST");
    if (auto e = json::parse(req.body.empty() ? "{}" : req.body, *body); !e.empty()) {
      respond(error(400, "malformed_json", fmt::format("{}: {}", body->GetTypeName(), e)));
      return;
    }
    auto submit = [this, cmd, key = scoped_key(), respond, events]() {
      rt_.submit_order(cmd, key, [respond, events](outcome o) {
        respond(from_outcome(o, target::order, false, events));
      });
    };
    if (who.who == role::operations) {
      submit();
      return;
    }
    // Tenant check on the committed state: not yours reads as not found.
    with_visible_order(
        id, who, respond,
        [respond, who, allowed, submit, what = std::string{action}](const v1::OrderState& st) {
          if (!allowed(who, st)) {
            respond(error(403, "forbidden",
                          fmt::format("a {} key may not {} an order", to_string(who.who), what)));
            return;
          }
          submit();
        });
    return;
  }

  // /v1/webhooks/payment
  if (parts[1] == "webhooks" && parts.size() == 3 && parts[2] == "payment") {
    which = route::payment_webhook;
    if (!post) return wrong_method("POST");
    if (who.who != role::operations && who.who != role::payments)
      return forbidden("post payment webhooks");
    if (auto bad = check_webhook_signature(req, cfg_.payments, std::chrono::system_clock::now()))
      return respond(std::move(*bad));
    v1::PaymentWebhook w;
    if (auto e = json::parse(req.body, w); !e.empty()) {
      respond(error(400, "malformed_json", "PaymentWebhook: " + e));
      return;
    }
    std::string why;
    if (!domain::parse_order_id(w.order_id(), &why)) {
      respond(error(400, "invalid_order_id",
                    fmt::format("order_id '{}' is not an order id: {}", w.order_id(), why)));
      return;
    }
    // The payment id becomes part of the webhook's idempotency key: checked before it is.
    if (w.result() == "authorized")
      if (auto e = domain::check_id("payment_id", w.payment_id()))
        return respond(error(400, "INVALID_ARGUMENT", e->message()));
    v1::OrderCommand cmd;
    cmd.set_order_id(w.order_id());
    std::string key;
    if (w.result() == "authorized") {
      auto* a = cmd.mutable_payment_authorized();
      a->set_payment_id(w.payment_id());
      key = "webhook:auth:" + w.order_id() + ":" + w.payment_id();
      if (!w.has_amount()) {
        // No amount: the provider authorized the order's total.
        with_order(w.order_id(),
                   [this, cmd, key, respond, events](caf::expected<v1::OrderState> st) mutable {
                     if (!st) {
                       respond(read_error(st.error()));
                       return;
                     }
                     auto* amount = cmd.mutable_payment_authorized()->mutable_amount();
                     amount->set_amount_minor(st->total_minor());
                     amount->set_currency(st->currency());
                     rt_.submit_order(cmd, key, [respond, events](outcome o) {
                       respond(from_outcome(o, target::order, false, events));
                     });
                   });
        return;
      }
      *a->mutable_amount() = w.amount();
    } else if (w.result() == "declined") {
      cmd.mutable_payment_declined()->set_reason(w.reason().empty() ? "declined" : w.reason());
      key = "webhook:decline:" + w.order_id();
    } else {
      respond(error(400, "INVALID_ARGUMENT",
                    fmt::format("result: '{}' is not authorized or declined", w.result())));
      return;
    }
    // The provider re-sends webhooks: the key makes a re-sent one a duplicate, not an error.
    rt_.submit_order(cmd, key, [respond, events](outcome o) {
      respond(from_outcome(o, target::order, false, events));
    });
    return;
  }

  // /v1/admin/{order,inventory}-commands: inject any command (test scripts, operations).
  if (parts[1] == "admin" && parts.size() == 3 &&
      (parts[2] == "order-commands" || parts[2] == "inventory-commands")) {
    which = route::admin_command;
    if (!post) return wrong_method("POST");
    if (who.who != role::operations) return forbidden("inject commands");
    if (parts[2] == "order-commands") {
      v1::OrderCommand cmd;
      if (auto e = json::parse(req.body, cmd); !e.empty()) {
        respond(error(400, "malformed_json", "OrderCommand: " + e));
        return;
      }
      bool placement = cmd.has_place_order();
      rt_.submit_order(cmd, scoped_key(), [respond, placement, events](outcome o) {
        respond(from_outcome(o, target::order, placement, events));
      });
    } else {
      v1::InventoryCommand cmd;
      if (auto e = json::parse(req.body, cmd); !e.empty()) {
        respond(error(400, "malformed_json", "InventoryCommand: " + e));
        return;
      }
      if (auto bad = check_sku(cmd.sku())) return respond(std::move(*bad));
      rt_.submit_inventory(cmd, scoped_key(), [respond, events](outcome o) {
        respond(from_outcome(o, target::sku, false, events));
      });
    }
    return;
  }

  // /v1/cluster: the nodes, who owns which shards, who is up (operations).
  if (parts[1] == "cluster" && parts.size() == 2) {
    which = route::other;
    if (!get) return wrong_method("GET");
    if (who.who != role::operations) return forbidden("read the cluster status");
    respond(json_response(200, cluster_status()));
    return;
  }
  // POST /v1/cluster/members: change the membership (operations); 202, progress in
  // GET /v1/cluster ("change", "handoffs").
  if (parts[1] == "cluster" && parts.size() == 3 && parts[2] == "members") {
    which = route::other;
    if (req.method != "POST") return wrong_method("POST");
    if (who.who != role::operations) return forbidden("change the cluster membership");
    if (!link_) return respond(error(409, "single_node", "this node is not in a cluster"));
    v1::ClusterMembers body;
    if (auto e = json::parse(req.body, body); !e.empty())
      return respond(error(400, "malformed_body", e));
    std::vector<cluster::member> members;
    for (const auto& m : body.nodes()) {
      if (m.id() > 65535 || m.port() > 65535)
        return respond(error(400, "invalid_member", "node id and port must be 1..65535"));
      members.push_back({static_cast<uint16_t>(m.id()), m.host(), static_cast<uint16_t>(m.port())});
    }
    auto epoch = link_->change_members(std::move(members));
    if (!epoch) {
      auto text = describe(epoch.error());
      return respond(
          error(text.find("invalid") != std::string::npos ? 400 : 409, "change_refused", text));
    }
    respond(json_response(202, fmt::format(R"({{"epoch":{},"status":"started"}})", *epoch)));
    return;
  }

  // /v1/events/consumers[/NAME]
  if (parts[1] == "events" && (parts.size() == 3 || parts.size() == 4) && parts[2] == "consumers") {
    which = route::feed_consumers;
    if (who.who != role::operations) return forbidden("see or remove feed consumers");
    if (parts.size() == 3 && !get) return wrong_method("GET");
    if (parts.size() == 4 && req.method != "DELETE") return wrong_method("DELETE");
    return answer_consumers(req, parts.size() == 4 ? parts[3] : std::string_view{}, respond);
  }

  // /v1/events
  if (parts[1] == "events" && parts.size() == 2) {
    which = route::events;
    if (!get) return wrong_method("GET");
    if (who.who != role::operations) return forbidden("read the event feed");
    uint64_t after = 0, limit = 100, wait_ms = 0;
    auto a = query_param(req.query, "after"), l = query_param(req.query, "limit"),
         w = query_param(req.query, "wait_ms");
    std::string consumer{query_param(req.query, "consumer")};
    if ((!a.empty() && !parse_u64(a, after)) || (!l.empty() && !parse_u64(l, limit)) ||
        (!w.empty() && !parse_u64(w, wait_ms)) || limit == 0 || limit > 1000) {
      respond(error(400, "INVALID_ARGUMENT",
                    "after, limit (1..1000) and wait_ms must be non-negative whole numbers"));
      return;
    }
    wait_ms = std::min<uint64_t>(wait_ms, static_cast<uint64_t>(cfg_.http.events_wait_max.count()));
    auto head = rt_.feed_head();
    if (!consumer.empty()) {
      // A named consumer: without ?after= it resumes where it left off; with it, it commits
      // "everything up to `after` is handled" (then reads after it).
      if (!feed_consumers::valid_name(consumer))
        return respond(
            error(400, "INVALID_ARGUMENT",
                  "consumer must be 1..64 characters of A-Z a-z 0-9 . _ - (not \"saga\")"));
      if (a.empty()) {
        after = consumers_.offset(consumer).value_or(0);
      } else if (head && after > *head) {
        return respond(error(400, "after_beyond_head",
                             fmt::format("after={} is beyond the feed head {}: a consumer "
                                         "commits only positions it has read",
                                         after, *head)));
      }
      auto r = consumers_.commit(consumer, after);
      if (r.st == feed_consumers::status::too_many)
        return respond(error(409, "too_many_consumers", r.message));
      if (r.st != feed_consumers::status::ok)
        return respond(error(503, "storage_error", r.message));
    }
    if (wait_ms == 0 || !head || *head > after) {
      answer_events(after, limit, respond);
      return;
    }
    std::unique_lock<std::mutex> g{polls_mu_};
    if (stopping_ || polls_.size() >= long_polls_max) {
      g.unlock();
      respond(error(503, stopping_ ? "stopping" : "too_many_long_polls",
                    fmt::format("at most {} GET /v1/events may wait at once", long_polls_max)));
      return;
    }
    polls_.push_back(long_poll{
        after, limit, std::chrono::steady_clock::now() + std::chrono::milliseconds{wait_ms},
        std::move(respond)});
    g.unlock();
    polls_cv_.notify_one();
    return;
  }

  // /v1/inventory/{sku}[/adjust|/restock|/price|/owner]
  if (parts[1] == "inventory" && (parts.size() == 3 || parts.size() == 4))
    return route_inventory(req, who, parts, respond, which);
  respond(error(404, "not_found", fmt::format("no such path: {}", req.path)));
}

} // namespace ordo::node
