#include "actors/cluster/cluster_link.hpp"

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

#include "actors/placement.hpp"
#include "actors/runtime.hpp"
#include "ordo/v1/cluster.pb.h"

namespace ordo::cluster {

namespace {

using fwd_atom = caf::atom_constant<caf::atom("cl_fwd")>;
using read_atom = caf::atom_constant<caf::atom("cl_read")>;
using reply_atom = caf::atom_constant<caf::atom("cl_reply")>;
using conn_atom = caf::atom_constant<caf::atom("cl_conn")>;
using send_atom = caf::atom_constant<caf::atom("cl_send")>;

/// One call to a peer, answered exactly once: by the peer's reply, a timeout, or the peer
/// going down (whichever comes first).
struct pending_call {
  std::function<void(caf::expected<std::string>)> fn;
  std::atomic<bool> finished{false};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  void finish(caf::expected<std::string> r) {
    if (!finished.exchange(true)) fn(std::move(r));
  }
};
using call_ptr = std::shared_ptr<pending_call>;

} // namespace
} // namespace ordo::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ordo::cluster::call_ptr)

namespace ordo::cluster {

namespace {

caf::error unavailable(std::string what) {
  return caf::make_error(caf::sec::runtime_error, std::move(what));
}

std::string to_bytes(const outcome& o) {
  v1::ForwardedOutcome f;
  f.set_status(to_string(o.status));
  f.set_entity_id(o.entity_id);
  f.set_first_seq(o.first_seq);
  f.set_last_seq(o.last_seq);
  f.set_duplicate(o.duplicate);
  f.set_code(o.code);
  f.set_message(o.message);
  for (const auto& e : o.events)
    *f.add_events() = e;
  f.set_unknown_if_applied(o.unknown_if_applied);
  return f.SerializeAsString();
}

outcome from_bytes(const std::string& bytes) {
  v1::ForwardedOutcome f;
  if (!f.ParseFromString(bytes))
    return failure("malformed_reply", "the owner's answer could not be parsed", true);
  outcome o;
  const auto& s = f.status();
  o.status = s == "accepted"     ? outcome_status::accepted
             : s == "rejected"   ? outcome_status::rejected
             : s == "overloaded" ? outcome_status::overloaded
                                 : outcome_status::failed;
  o.entity_id = f.entity_id();
  o.first_seq = f.first_seq();
  o.last_seq = f.last_seq();
  o.duplicate = f.duplicate();
  o.code = f.code();
  o.message = f.message();
  for (auto& e : *f.mutable_events())
    o.events.push_back(std::move(e));
  o.unknown_if_applied = f.unknown_if_applied();
  return o;
}

struct router_state {
  std::map<uint16_t, caf::actor> peers;
  std::map<uint16_t, std::unordered_map<uint64_t, call_ptr>> in_flight;
  uint64_t next = 1;
};

struct ingress_state {
  std::unordered_map<uint64_t, caf::response_promise> promises;
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

struct cluster_link::impl {
  link_options opt;
  uint64_t version = 0;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor router, ingress;
  runtime* rt = nullptr;
  std::thread connector;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> forwarded{0}, forward_failed{0}, received{0}, refused{0}, forward_us_sum{0};
  std::array<std::atomic<uint64_t>, link_stats::forward_bounds_s.size() + 1> latency{};
  void record_latency(uint64_t us) {
    forward_us_sum += us;
    const auto& bounds = link_stats::forward_bounds_s;
    size_t b = 0;
    while (b < bounds.size() && static_cast<double>(us) / 1e6 > bounds[b])
      ++b;
    latency[b]++;
  }
  mutable std::mutex peers_mu;
  std::map<uint16_t, bool> connected; // guarded by peers_mu

  void set_connected(uint16_t node, bool up) {
    std::lock_guard<std::mutex> g{peers_mu};
    connected[node] = up;
  }
  bool is_connected(uint16_t node) const {
    std::lock_guard<std::mutex> g{peers_mu};
    auto it = connected.find(node);
    return it != connected.end() && it->second;
  }

  // The connector: reaches every peer that is not connected, every reconnect_every. A
  // blocking remote_actor() belongs on its own thread, never on an actor's.
  void connect_loop() {
    while (!stopping) {
      for (const auto& m : opt.members) {
        if (m.id == opt.self || is_connected(m.id) || stopping) continue;
        // remote_actor() connects without a timeout: a peer whose host vanished (packets
        // dropped, no reset) would block this loop — and the reconnects of every other peer,
        // and stop() — for the kernel's ~2 minute SYN timeout. Probe first, bounded.
        if (!reachable(m.host, m.port, opt.connect_probe_timeout)) continue;
        auto h = sys->middleman().remote_actor(m.host, m.port);
        if (h) {
          set_connected(m.id, true);
          caf::anon_send(router, conn_atom::value, m.id, *h);
        }
      }
      for (int i = 0; i < 10 && !stopping; ++i)
        std::this_thread::sleep_for(opt.reconnect_every / 10);
    }
  }

  void call(uint16_t node, bool is_read, std::string bytes,
            std::function<void(caf::expected<std::string>)> fn) {
    auto c = std::make_shared<pending_call>();
    c->fn = std::move(fn);
    if (!is_connected(node)) { // fail fast: known down
      c->finish(unavailable(fmt::format("node {} is unavailable (down or unreachable)", node)));
      return;
    }
    caf::anon_send(router, send_atom::value, node, is_read, std::move(bytes), std::move(c));
  }
};

namespace {

caf::behavior router_actor(caf::stateful_actor<router_state>* self, cluster_link::impl* link) {
  self->set_down_handler([=](caf::down_msg& dm) {
    for (auto it = self->state.peers.begin(); it != self->state.peers.end(); ++it) {
      if (it->second.address() != dm.source) continue;
      uint16_t node = it->first;
      link->set_connected(node, false);
      self->state.peers.erase(it);
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
      },
      [=](send_atom, uint16_t node, bool is_read, std::string& bytes, call_ptr& c) {
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
        if (is_read)
          self->request(it->second, link->opt.request_timeout, read_atom::value, std::move(bytes))
              .then(on_reply, on_error);
        else
          self->request(it->second, link->opt.request_timeout, fwd_atom::value, std::move(bytes))
              .then(on_reply, on_error);
      },
  };
}

caf::behavior ingress_actor(caf::stateful_actor<ingress_state>* self, cluster_link::impl* link) {
  return {
      [=](fwd_atom, std::string& bytes) -> caf::result<std::string> {
        link->received++;
        v1::ForwardedCommand fc;
        if (!fc.ParseFromString(bytes)) {
          link->refused++;
          return to_bytes(failure("malformed_forward", "a forwarded command did not parse"));
        }
        if (fc.map_version() != link->version) {
          link->refused++;
          return to_bytes(failure(
              "map_mismatch",
              fmt::format("node {} routed by cluster map {:016x}, node {} has {:016x}: their "
                          "configs differ; refused",
                          fc.from_node(), fc.map_version(), link->opt.self, link->version)));
        }
        if (link->rt == nullptr || link->stopping)
          return to_bytes(failure("stopping", "the owner is starting or stopping; retry"));
        auto id = self->state.next++;
        self->state.promises.emplace(id, self->make_response_promise());
        auto me = caf::actor_cast<caf::actor>(self);
        link->rt->submit_forwarded(std::move(*fc.mutable_command()), [me, id](outcome o) {
          caf::anon_send(me, reply_atom::value, id, to_bytes(o));
        });
        return caf::delegated<std::string>();
      },
      [=](reply_atom, uint64_t id, std::string& bytes) {
        auto it = self->state.promises.find(id);
        if (it == self->state.promises.end()) return;
        it->second.deliver(std::move(bytes));
        self->state.promises.erase(it);
      },
      [=](read_atom, std::string& bytes) -> std::string {
        v1::ForwardedRead r;
        v1::ForwardedState out;
        if (!r.ParseFromString(bytes) || r.map_version() != link->version || !link->rt) {
          out.set_error("refused: malformed read, differing cluster map, or not serving");
          return out.SerializeAsString();
        }
        if (r.entity_type() == v1::ENTITY_TYPE_ORDER) {
          auto st = link->rt->order(r.entity_id());
          if (st)
            out.set_state(st->SerializeAsString());
          else
            out.set_error(caf::to_string(st.error()));
        } else {
          auto st = link->rt->inventory(r.entity_id());
          if (st)
            out.set_state(st->SerializeAsString());
          else
            out.set_error(caf::to_string(st.error()));
        }
        return out.SerializeAsString();
      },
  };
}

} // namespace

uint64_t map_version_of(const shard_map& m) {
  std::string s = fmt::format("shards={};nodes=", m.shard_count());
  for (auto n : m.nodes())
    s += fmt::format("{},", n);
  return stable_hash(s);
}

cluster_link::cluster_link(link_options o, shard_map m, uint64_t version)
    : opt_(std::move(o)), map_(std::move(m)), version_(version), impl_(std::make_unique<impl>()) {}

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
  shard_map m{ids, o.shard_count};
  auto version = map_version_of(m);
  auto link = std::unique_ptr<cluster_link>(new cluster_link(o, m, version));
  auto& p = *link->impl_;
  p.opt = o;
  p.version = version;
  p.cfg.load<caf::io::middleman>();
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
  p.ingress = p.sys->spawn(ingress_actor, &p);
  const member* me = nullptr;
  for (const auto& m : opt_.members)
    if (m.id == opt_.self) me = &m;
  auto port = p.sys->middleman().publish(p.ingress, me->port, me->host.c_str(), true);
  if (!port)
    return caf::make_error(caf::sec::runtime_error,
                           fmt::format("cannot publish the cluster ingress on {}:{}: {}", me->host,
                                       me->port, caf::to_string(port.error())));
  p.connector = std::thread([&p] { p.connect_loop(); });
  return caf::unit;
}

void cluster_link::forward(v1::Envelope command, uint16_t shard, completion done) {
  auto& p = *impl_;
  uint16_t owner = map_.owner(shard);
  v1::ForwardedCommand fc;
  fc.set_from_node(opt_.self);
  fc.set_map_version(version_);
  fc.set_shard(shard);
  *fc.mutable_command() = std::move(command);
  p.forwarded++;
  auto t0 = std::chrono::steady_clock::now();
  p.call(owner, false, fc.SerializeAsString(),
         [&p, t0, owner, done = std::move(done)](caf::expected<std::string> r) {
           p.record_latency(
               static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - t0)
                                         .count()));
           if (!r) {
             p.forward_failed++;
             // Sent or not, the owner may have applied it: a retry with the same key tells.
             done(failure("node_unavailable",
                          fmt::format("the owner (node {}) did not answer: {}", owner,
                                      caf::to_string(r.error())),
                          true));
             return;
           }
           done(from_bytes(*r));
         });
}

namespace {
template <class State>
void read_remote(cluster_link::impl& p, uint16_t owner, v1::ForwardedRead r,
                 std::function<void(caf::expected<State>)> done) {
  p.call(owner, true, r.SerializeAsString(),
         [owner, done = std::move(done)](caf::expected<std::string> bytes) {
           if (!bytes) {
             done(caf::make_error(caf::sec::runtime_error,
                                  fmt::format("node_unavailable: the owner (node {}) did not "
                                              "answer: {}",
                                              owner, caf::to_string(bytes.error()))));
             return;
           }
           v1::ForwardedState fs;
           State s;
           if (!fs.ParseFromString(*bytes) || !fs.error().empty() ||
               !s.ParseFromString(fs.state())) {
             done(caf::make_error(caf::sec::runtime_error,
                                  "read_failed: " +
                                      (fs.error().empty() ? "malformed state" : fs.error())));
             return;
           }
           done(std::move(s));
         });
}
} // namespace

void cluster_link::read_order(const std::string& id, uint16_t shard,
                              std::function<void(caf::expected<v1::OrderState>)> done) {
  v1::ForwardedRead r;
  r.set_from_node(opt_.self);
  r.set_map_version(version_);
  r.set_entity_type(v1::ENTITY_TYPE_ORDER);
  r.set_entity_id(id);
  read_remote<v1::OrderState>(*impl_, map_.owner(shard), std::move(r), std::move(done));
}

void cluster_link::read_inventory(const std::string& sku, uint16_t shard,
                                  std::function<void(caf::expected<v1::InventoryState>)> done) {
  v1::ForwardedRead r;
  r.set_from_node(opt_.self);
  r.set_map_version(version_);
  r.set_entity_type(v1::ENTITY_TYPE_INVENTORY);
  r.set_entity_id(sku);
  read_remote<v1::InventoryState>(*impl_, map_.owner(shard), std::move(r), std::move(done));
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
  for (const auto& m : opt_.members)
    if (m.id != opt_.self) s.peers.emplace_back(m.id, p.is_connected(m.id));
  s.self = opt_.self;
  s.shards_owned = map_.shards_of(opt_.self).size();
  return s;
}

void cluster_link::stop() {
  auto& p = *impl_;
  if (p.stopping.exchange(true)) return;
  if (p.connector.joinable()) p.connector.join();
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
