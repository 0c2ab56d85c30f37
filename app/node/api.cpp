#include "actors/runtime/internals.hpp"
#include "app/node/api.hpp"

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/api_request.hpp"
#include "app/node/errors.hpp"
#include "app/node/log.hpp"
#include "domain/order_id.hpp"
#include "ordo/v1/api.pb.h"

namespace ordo::node {

namespace {

const char* json_type = "application/json";

} // namespace

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
  if (link_ && shard && !ordo::runtime_internals::owns(rt_, *shard)) {
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
  feed_listener_ = ordo::runtime_internals::feed_commits(rt_).listen([this] {
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

} // namespace ordo::node
