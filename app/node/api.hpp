#pragma once
// The HTTP/JSON API of docs/api.md on top of the embedded runtime: routing, authentication
// and tenant checks, JSON ⇄ Protobuf, and the mapping of command outcomes to status codes.
// Independent of the HTTP server library (http_types.hpp), so it is tested without sockets.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "actors/cluster/cluster_link.hpp"
#include "actors/runtime/feed_signal.hpp"
#include "app/node/auth.hpp"
#include "app/node/config.hpp"
#include "app/node/feed_consumers.hpp"
#include "app/node/http_types.hpp"
#include "app/node/metrics.hpp"
#include "app/node/route_table.hpp"
#include "ordo/v1/api.pb.h"

namespace ordo {
class runtime;
}

namespace ordo::node {

class api {
public:
  /// `link`: the cluster (reads of orders and SKUs owned elsewhere go to their owner); null
  /// for a single node.
  api(runtime& rt, const node_config& cfg, metrics& m, cluster::cluster_link* link = nullptr);
  ~api();
  api(const api&) = delete;
  api& operator=(const api&) = delete;

  /// Handles one request; `respond` is called exactly once (maybe later, on another thread:
  /// commands answer after their commit). Call from any thread.
  void handle(http_request req, responder respond);

  /// /readyz answers 200 only while ready (set after start, cleared when stopping).
  void set_ready(bool ready) { ready_ = ready; }

  /// Answers every waiting long-poll now (shutdown) and stops the waiter thread.
  void stop();

  static constexpr size_t long_polls_max = 1'024; // more waiting GET /v1/events get 503

  // The route table (api_routes.cpp): each row a method, a path pattern, its metrics label,
  // the roles whose keys may call it, and the handler. route_request matches the row (404,
  // 405), checks the role (403) and the captured order id or SKU (400), then calls the handler.
  struct call {
    const http_request& req;
    const principal& who;
    responder& respond;
    const path_captures& at; // the pattern's captures: order_id, sku, consumer
    bool with_events;        // ?include=events: command answers carry the committed events
  };
  using handler = void (api::*)(const call&);
  struct route_row {
    std::string_view method;
    std::string_view pattern;
    route label;
    uint8_t roles;               // may_call(...) of the roles allowed
    std::string_view forbidden;  // "a <role> key may not <this>"
    handler fn;
    bool allows(role r) const { return (roles >> static_cast<unsigned>(r) & 1u) != 0; }
  };
  static const std::vector<route_row>& routes();

private:
  struct long_poll {
    uint64_t after;
    size_t limit;
    std::chrono::steady_clock::time_point deadline;
    responder respond;
  };
  void route_request(const http_request& req, const principal& who, responder& respond,
                     route& which);

  // Orders (api_orders.cpp).
  void place_order(const call& c);
  void get_order(const call& c);
  void cancel_order(const call& c);
  void refund_order(const call& c);
  void ship_order(const call& c);
  void deliver_order(const call& c);
  /// A command on an existing order: `body` picks the command's case in `cmd`; unless the
  /// caller is operations, `allowed` is checked on the committed state first (refused: "a
  /// <role> key may not <what> an order").
  void order_action(const call& c, google::protobuf::Message* (*body)(v1::OrderCommand&),
                    bool (*allowed)(const principal&, const v1::OrderState&), const char* what);
  // Payments, injected commands and the cluster (api_admin.cpp).
  void payment_webhook(const call& c);
  void admin_order_command(const call& c);
  void admin_inventory_command(const call& c);
  void get_cluster(const call& c);
  void change_members(const call& c);
  // The event feed (api_feed.cpp).
  void get_events(const call& c);
  void list_consumers(const call& c);
  void remove_consumer(const call& c);
  // Inventory (api_inventory.cpp).
  void get_inventory(const call& c);
  void adjust_inventory(const call& c);
  void restock_inventory(const call& c);
  void price_inventory(const call& c);
  void assign_sku_owner(const call& c);
  /// A command on a SKU: `body` picks the command's case in `cmd`.
  void inventory_command(const call& c,
                         google::protobuf::Message* (*body)(v1::InventoryCommand&));
  /// The SKU's state, from this node's store or from its owner (then async).
  void with_sku(const std::string& sku,
                std::function<void(caf::expected<v1::InventoryState>)> fn);
  void answer_events(uint64_t after, size_t limit, responder& respond);
  void waiter_loop();
  /// Whether the saga trails the feed by more than limits.saga_lag_max (refreshed at most
  /// every millisecond: a read transaction per placement would cost more than it saves).
  bool saga_behind();
  /// A node without API keys serves only these Host names (against DNS rebinding).
  bool host_allowed(std::string_view host) const;
  std::string cluster_status() const;
  /// The order's state if `who` may see it; otherwise answers 404 (or the read error) itself.
  void with_visible_order(const std::string& id, const principal& who, const responder& respond,
                          std::function<void(const v1::OrderState&)> fn);
  /// The order's committed state, from this node's store or from its owner (then async).
  void with_order(const std::string& id, std::function<void(caf::expected<v1::OrderState>)> fn);

  runtime& rt_;
  const node_config& cfg_;
  metrics& metrics_;
  authenticator auth_;
  cluster::cluster_link* link_ = nullptr;
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> saga_checked_ns_{0}; // steady time of the last saga lag reading
  std::atomic<bool> saga_behind_{false};

  std::mutex polls_mu_;
  std::condition_variable polls_cv_;
  std::deque<long_poll> polls_; // guarded by polls_mu_, at most long_polls_max
  bool stopping_ = false;       // guarded by polls_mu_
  std::thread waiter_;
  feed_consumers consumers_; // named readers of GET /v1/events and their offsets
  // Wakes the waiter when a commit adds events while long polls wait (no polling).
  std::unique_ptr<feed_signal::listener> feed_listener_;
};

} // namespace ordo::node
