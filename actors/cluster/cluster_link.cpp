#include "actors/runtime/internals.hpp"
#include "actors/runtime/shard_admin.hpp"
#include "actors/cluster/cluster_link.hpp"
#include "actors/cluster/link_impl.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <fmt/core.h>

#include "actors/cluster/tls.hpp"
#include "ordo/runtime.hpp"
#include "ordo/v1/cluster.pb.h"

namespace ordo::cluster {

namespace {

using conn_atom = caf::atom_constant<caf::atom("cl_conn")>;
using send_atom = caf::atom_constant<caf::atom("cl_send")>;

caf::error unavailable(std::string what) {
  return caf::make_error(caf::sec::runtime_error, std::move(what));
}

} // namespace

namespace {

struct router_state {
  std::map<uint16_t, caf::actor> peers;
  std::map<uint16_t, std::unordered_map<uint64_t, call_ptr>> in_flight;
  uint64_t next = 1;
};

} // namespace

namespace {
// Whether host:port accepts a TCP connection within `timeout` (non-blocking connect + poll).
bool reachable(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    return false;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  bool ok = false;
  if (fd >= 0) {
    int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
    if (rc == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        int err = 0;
        socklen_t len = sizeof err;
        ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
      }
    }
    ::close(fd);
  }
  freeaddrinfo(res);
  return ok;
}
} // namespace

void cluster_link::impl::record_latency(uint64_t us) {
  forward_us_sum += us;
  const auto& bounds = link_stats::forward_bounds_s;
  size_t b = 0;
  while (b < bounds.size() && static_cast<double>(us) / 1e6 > bounds[b])
    ++b;
  latency[b]++;
}

void cluster_link::impl::set_connected(uint16_t node, bool up) {
  std::lock_guard<std::mutex> g{peers_mu};
  connected[node] = up;
}

bool cluster_link::impl::is_connected(uint16_t node) const {
  std::lock_guard<std::mutex> g{peers_mu};
  auto it = connected.find(node);
  return it != connected.end() && it->second;
}

// The connector: reaches every known node that is not connected, every reconnect_every. A
// blocking remote_actor() belongs on its own thread, never on an actor's. The known nodes
// change with a membership change (a joining node's address arrives with it).
void cluster_link::impl::connect_loop() {
  while (!stopping) {
    for (const auto& m : own->known_members()) {
      if (m.id == opt.self || is_connected(m.id) || stopping) continue;
      // remote_actor() connects without a timeout: a peer whose host vanished (packets
      // dropped, no reset) would block this loop — and the reconnects of every other peer,
      // and stop() — for the kernel's ~2 minute SYN timeout. Probe first, bounded.
      if (!reachable(m.host, m.port, opt.connect_probe_timeout)) continue;
      auto h = connect(*sys, m.host, m.port, opt.tls.enabled, opt.connect_timeout);
      if (h) {
        set_connected(m.id, true);
        caf::anon_send(router, conn_atom::value, m.id, *h);
      }
    }
    for (int i = 0; i < 10 && !stopping; ++i)
      std::this_thread::sleep_for(opt.reconnect_every / 10);
  }
}

void cluster_link::impl::call(uint16_t node, call_kind kind, std::string bytes,
                              std::function<void(caf::expected<std::string>)> fn,
                              std::chrono::milliseconds timeout) {
  auto c = std::make_shared<pending_call>();
  c->fn = std::move(fn);
  c->timeout = timeout;
  if (!is_connected(node)) { // fail fast: known down
    c->finish(unavailable(fmt::format("node {} is unavailable (down or unreachable)", node)));
    return;
  }
  caf::anon_send(router, send_atom::value, node, static_cast<uint8_t>(kind), std::move(bytes),
                 std::move(c));
}

caf::expected<std::string> cluster_link::impl::call_sync(uint16_t node, call_kind kind,
                                                         std::string bytes,
                                                         std::chrono::milliseconds timeout) {
  auto done = std::make_shared<std::promise<caf::expected<std::string>>>();
  auto fut = done->get_future();
  call(
      node, kind, std::move(bytes),
      [done](caf::expected<std::string> r) { done->set_value(std::move(r)); }, timeout);
  // Answered exactly once (reply, timeout or the peer going down) — but do not hold up
  // stop() for a long call: the promise outlives this wait, a late answer goes nowhere.
  while (fut.wait_for(std::chrono::milliseconds{100}) != std::future_status::ready)
    if (stopping) return unavailable("the cluster link is stopping");
  return fut.get();
}

caf::expected<v1::ControlAnswer> cluster_link::impl::control(uint16_t node, v1::ClusterControl msg,
                                                             std::chrono::milliseconds timeout) {
  msg.set_from_node(opt.self);
  msg.set_cluster_id(own->cluster_id());
  msg.set_to_node(node);
  if (node == opt.self) return handle_control(*this, msg);
  auto r = call_sync(node, call_kind::control, seal(creds.get(), msg), timeout);
  if (!r) return r.error();
  v1::ControlAnswer a;
  if (!a.ParseFromString(*r))
    return unavailable(fmt::format("node {} answered a control message unreadably", node));
  return a;
}

bool cluster_link::impl::spawn_worker(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> g{workers_mu};
    if (stopping || workers_running >= workers_max) return false;
    ++workers_running;
  }
  std::thread([this, fn = std::move(fn)] {
    fn();
    std::lock_guard<std::mutex> g{workers_mu};
    --workers_running;
    workers_cv.notify_all();
  }).detach();
  return true;
}

namespace {

caf::behavior router_actor(caf::stateful_actor<router_state>* self, cluster_link::impl* link) {
  self->set_down_handler([=](caf::down_msg& dm) {
    for (auto it = self->state.peers.begin(); it != self->state.peers.end(); ++it) {
      if (it->second.address() != dm.source) continue;
      uint16_t node = it->first;
      link->set_connected(node, false);
      self->state.peers.erase(it);
      fmt::print(stderr, "level=warn event=cluster_peer_down node={} peer={} reason=\"{}\"\n",
                 link->opt.self, node, caf::to_string(dm.reason));
      // Calls in flight to it may or may not have been applied: say so now, not after the
      // timeout (a request to a dead proxy only times out).
      auto calls = std::move(self->state.in_flight[node]);
      self->state.in_flight.erase(node);
      for (auto& [id, c] : calls)
        c->finish(unavailable(fmt::format("node {} went down during the call", node)));
      return;
    }
  });
  return {
      [=](conn_atom, uint16_t node, caf::actor h) {
        self->monitor(h);
        self->state.peers[node] = std::move(h);
        fmt::print(stderr, "level=info event=cluster_peer_up node={} peer={}\n", link->opt.self,
                   node);
      },
      [=](send_atom, uint16_t node, uint8_t kind, std::string& bytes, call_ptr& c) {
        auto it = self->state.peers.find(node);
        if (it == self->state.peers.end()) {
          c->finish(unavailable(fmt::format("node {} is unavailable", node)));
          return;
        }
        auto id = self->state.next++;
        self->state.in_flight[node].emplace(id, c);
        auto on_reply = [=](std::string& reply) {
          self->state.in_flight[node].erase(id);
          c->finish(std::move(reply));
        };
        auto on_error = [=](caf::error& e) {
          self->state.in_flight[node].erase(id);
          c->finish(unavailable(fmt::format("node {}: {}", node, caf::to_string(e))));
        };
        switch (static_cast<call_kind>(kind)) {
        case call_kind::read:
          self->request(it->second, c->timeout, read_atom::value, std::move(bytes))
              .then(on_reply, on_error);
          break;
        case call_kind::control:
          self->request(it->second, c->timeout, ctl_atom::value, std::move(bytes))
              .then(on_reply, on_error);
          break;
        case call_kind::command:
          self->request(it->second, c->timeout, fwd_atom::value, std::move(bytes))
              .then(on_reply, on_error);
          break;
        }
      },
  };
}

} // namespace

cluster_link::cluster_link(link_options o, std::unique_ptr<ownership> own)
    : opt_(std::move(o)), own_(std::move(own)), impl_(std::make_unique<impl>()) {}

caf::expected<std::unique_ptr<cluster_link>> cluster_link::create(link_options o) {
  std::vector<uint16_t> ids;
  bool self_listed = false;
  for (const auto& m : o.members) {
    ids.push_back(m.id);
    self_listed |= m.id == o.self;
  }
  std::sort(ids.begin(), ids.end());
  if (ids.empty() || !self_listed || std::adjacent_find(ids.begin(), ids.end()) != ids.end())
    return caf::make_error(caf::sec::invalid_argument,
                           fmt::format("cluster.nodes must list every node once, this node ({}) "
                                       "included",
                                       o.self));
  if (auto e = check_policy(o.tls, o.members); !e.empty())
    return caf::make_error(caf::sec::invalid_argument, e);
  std::shared_ptr<const credentials> creds;
  if (o.tls.enabled && !ssl_error_queue_cleared())
    return caf::make_error(caf::sec::runtime_error,
                           "TLS needs actors/cluster/ssl_error_queue.cpp's functions bound in "
                           "this executable (link it statically, without -Bsymbolic)");
  if (o.tls.enabled) {
    auto c = credentials::load(o.tls, o.self);
    if (!c) return c.error();
    creds = std::move(*c);
  }
  ownership::options oo;
  oo.state_path = o.state_path;
  oo.self = o.self;
  oo.config_members = o.members;
  oo.shard_count = o.shard_count;
  oo.join = o.join;
  auto own = ownership::open(oo);
  if (!own) return own.error();
  auto link = std::unique_ptr<cluster_link>(new cluster_link(o, std::move(*own)));
  auto& p = *link->impl_;
  p.opt = o;
  p.own = link->own_.get();
  p.creds = std::move(creds);
  p.cfg.load<caf::io::middleman>();
  configure(p.cfg, o.tls); // TLS: the openssl module, after the middleman
  p.cfg.set("scheduler.max-threads", 1);
  p.cfg.set("logger.verbosity", caf::atom("quiet"));
  p.cfg.set("middleman.heartbeat-interval", caf::timespan{o.heartbeat});
  p.cfg.set("middleman.connection-timeout", caf::timespan{o.connection_timeout});
  p.sys = std::make_unique<caf::actor_system>(p.cfg);
  p.router = p.sys->spawn(router_actor, &p);
  return link;
}

caf::expected<void> cluster_link::serve(runtime& rt) {
  auto& p = *impl_;
  p.rt = &rt;
  p.ingress = spawn_ingress(p);
  const member* me = nullptr;
  for (const auto& m : opt_.members)
    if (m.id == opt_.self) me = &m;
  auto port = publish(*p.sys, p.ingress, me->port, me->host, opt_.tls.enabled);
  if (!port)
    return caf::make_error(caf::sec::runtime_error,
                           fmt::format("cannot publish the cluster ingress on {}:{}: {}", me->host,
                                       me->port, caf::to_string(port.error())));
  p.connector = std::thread([&p] { p.connect_loop(); });
  if (!own_->moving_out().empty()) start_resuming(p);
  return caf::unit;
}

link_stats cluster_link::stats() const {
  auto& p = *impl_;
  link_stats s;
  s.forwarded = p.forwarded;
  s.forward_failed = p.forward_failed;
  s.received = p.received;
  s.refused = p.refused;
  s.forward_us_sum = p.forward_us_sum;
  for (size_t b = 0; b < s.forward_buckets.size(); ++b)
    s.forward_buckets[b] = p.latency[b].load();
  for (const auto& m : own_->known_members())
    if (m.id != opt_.self) s.peers.emplace_back(m.id, p.is_connected(m.id));
  s.self = opt_.self;
  s.shards_owned = own_->owned().size();
  s.shards_moved_out = p.moved_out;
  s.shards_moved_in = p.moved_in;
  s.records_imported = p.imported;
  return s;
}

change_status cluster_link::change() const {
  std::lock_guard<std::mutex> g{impl_->change_mu};
  return impl_->change;
}

void cluster_link::stop() {
  auto& p = *impl_;
  if (p.stopping.exchange(true)) return;
  if (p.connector.joinable()) p.connector.join();
  {
    std::unique_lock<std::mutex> g{p.workers_mu};
    p.workers_cv.wait(g, [&p] { return p.workers_running == 0; });
  }
  if (p.sys) {
    if (p.ingress) {
      p.sys->middleman().unpublish(p.ingress);
      caf::anon_send_exit(p.ingress, caf::exit_reason::user_shutdown);
    }
    caf::anon_send_exit(p.router, caf::exit_reason::user_shutdown);
    p.sys->await_all_actors_done();
    p.sys.reset();
  }
}

cluster_link::~cluster_link() {
  stop();
}

} // namespace ordo::cluster
