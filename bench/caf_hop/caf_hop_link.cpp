// caf_hop's actors: the published ingress, the forwarder for non-actor callers, the calls
// through it or a scoped_actor, and the per-peer link that connects and reconnects.
#include "caf_hop.hpp"

// ---- ingress: the published actor --------------------------------------------
caf::behavior ingress(caf::stateful_actor<ingress_state>* self) {
  return {
    [=](req_atom, uint64_t epoch, const std::string& entity,
        const std::string& payload) -> caf::result<uint64_t, std::string> {
      ++self->state.served;
      if (entity == "slow") { // reply 5 s later: keeps a request in flight
        auto rp = self->make_response_promise<uint64_t, std::string>();
        self->state.parked.push_back(rp);
        self->delayed_send(self, 5s, flush_atom::value);
        return rp;
      }
      return {epoch + 1, payload}; // echo payload (binary-safe check)
    },
    [=](flush_atom) {
      for (auto& rp : self->state.parked)
        rp.deliver(uint64_t{0}, std::string{"slow-done"});
      self->state.parked.clear();
    },
  };
}

// ---- forwarder: event-based proxy for non-actor callers ----------------------
static void fwd_finish(caf::stateful_actor<fwd_state>* self, uint64_t id,
                       const caf::error& err, uint64_t e, std::string&& s) {
  auto i = self->state.pending.find(id);
  if (i == self->state.pending.end())
    return; // already failed by the down handler
  auto cb = std::move(i->second.second);
  self->state.pending.erase(i);
  cb->complete(err, e, std::move(s));
}

caf::behavior forwarder(caf::stateful_actor<fwd_state>* self, size_t npeers,
                        bool failfast) {
  self->state.peers.resize(npeers);
  self->set_down_handler([=](caf::down_msg& dm) {
    for (uint32_t idx = 0; idx < self->state.peers.size(); ++idx) {
      auto& p = self->state.peers[idx];
      if (!p || p.address() != dm.source)
        continue;
      p = nullptr;
      if (!failfast)
        continue;
      size_t n = 0;
      for (auto i = self->state.pending.begin(); i != self->state.pending.end();) {
        if (i->second.first == idx) {
          i->second.second->complete(dm.reason, 0, {});
          i = self->state.pending.erase(i);
          ++n;
        } else {
          ++i;
        }
      }
      LOG("forwarder: peer %u down (%s), failed %zu pending calls", idx,
          to_string(dm.reason).c_str(), n);
    }
  });
  return {
    [=](peer_up_atom, uint32_t idx, caf::actor h) {
      self->monitor(h);
      self->state.peers[idx] = std::move(h);
    },
    [=](fwd_atom, uint32_t idx, uint64_t epoch, std::string& entity,
        std::string& payload, uint32_t tmo_ms, call_ptr& cb) {
      if (idx >= self->state.peers.size() || !self->state.peers[idx]) {
        cb->complete(caf::make_error(caf::sec::no_route_to_receiving_node), 0, {});
        return;
      }
      auto id = ++self->state.next_id;
      self->state.pending.emplace(id, std::make_pair(idx, std::move(cb)));
      self->request(self->state.peers[idx], std::chrono::milliseconds(tmo_ms),
                    req_atom::value, epoch, std::move(entity), std::move(payload))
        .then(
          [=](uint64_t e, std::string& r) { fwd_finish(self, id, caf::none, e, std::move(r)); },
          [=](caf::error& err) { fwd_finish(self, id, err, 0, {}); });
    },
  };
}

// ---- non-actor API 1: future via the forwarder --------------------------------
std::future<reply> call_async(const caf::actor& fwd, uint32_t idx, uint64_t epoch,
                              std::string entity, std::string payload,
                              uint32_t tmo_ms) {
  auto prom = std::make_shared<std::promise<reply>>();
  auto fut = prom->get_future();
  auto ctx = std::make_shared<call_ctx>();
  ctx->fn = [prom](const caf::error& err, uint64_t e, std::string&& s) {
    prom->set_value(reply{err, e, std::move(s)}); // runs on a CAF worker: keep short
  };
  caf::anon_send(fwd, fwd_atom::value, idx, epoch, std::move(entity),
                 std::move(payload), tmo_ms, std::move(ctx));
  return fut;
}

// non-actor API 1b: plain callback
void call_cb(const caf::actor& fwd, uint32_t idx, uint64_t epoch, std::string entity,
             std::string payload, uint32_t tmo_ms,
             std::function<void(const caf::error&, uint64_t, std::string&&)> fn) {
  auto ctx = std::make_shared<call_ctx>();
  ctx->fn = std::move(fn);
  caf::anon_send(fwd, fwd_atom::value, idx, epoch, std::move(entity),
                 std::move(payload), tmo_ms, std::move(ctx));
}

// ---- non-actor API 2: scoped_actor, blocking -----------------------------------
reply call_scoped(caf::scoped_actor& self, const caf::actor& peer, uint64_t epoch,
                  const std::string& entity, const std::string& payload,
                  std::chrono::milliseconds tmo) {
  reply out;
  self->request(peer, tmo, req_atom::value, epoch, entity, payload)
    .receive([&](uint64_t e, std::string& r) { out.epoch = e; out.body = std::move(r); },
             [&](caf::error& err) { out.err = std::move(err); });
  return out;
}

// ---- peer link: one blocking actor per peer, connect/monitor/reconnect --------
void peer_link(caf::blocking_actor* self, caf::actor fwd, peer_table* table,
               uint32_t idx, std::string host, uint16_t port,
               sclock::time_point deadline) {
  auto& mm = self->system().middleman();
  auto backoff = 50ms;
  int attempts = 0;
  sclock::time_point down_at = sclock::now();
  bool ever_up = false;
  while (!g_stop && sclock::now() < deadline) {
    ++attempts;
    auto t0 = sclock::now();
    auto h = mm.remote_actor(host, port); // blocking; returns expected<actor>
    if (!h) {
      if (attempts == 1 || attempts % 10 == 0)
        LOG("peer %u %s:%u connect attempt %d failed after %.1f ms: %s", idx,
            host.c_str(), port, attempts, ms_since(t0),
            self->system().render(h.error()).c_str());
      auto left = deadline - sclock::now();
      std::this_thread::sleep_for(std::min<sclock::duration>(backoff, left));
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1000ms);
      continue;
    }
    LOG("peer %u UP %s:%u node=%s attempts=%d connect=%.1f ms%s", idx, host.c_str(),
        port, to_string(h->node()).c_str(), attempts, ms_since(t0),
        ever_up ? (" since-down=" + std::to_string(ms_since(down_at)) + " ms").c_str() : "");
    ever_up = true;
    attempts = 0;
    auto up_at = sclock::now();
    self->monitor(*h);
    table->set(idx, *h);
    self->send(fwd, peer_up_atom::value, idx, *h);
    bool up = true;
    self->receive_while([&] { return up && !g_stop && sclock::now() < deadline; })(
      [&](caf::down_msg& dm) {
        if (dm.source != h->address())
          return;
        up = false;
        down_at = sclock::now();
        table->set(idx, caf::actor{});
        LOG("peer %u DOWN reason=%s", idx, to_string(dm.reason).c_str());
      },
      caf::after(100ms) >> [] {});
    // A handle to an already-dead actor (peer shutting down but port still
    // published) yields an immediate down_msg: without this backoff we spin.
    if (sclock::now() - up_at > 1s) {
      backoff = 50ms;
    } else {
      auto left = deadline - sclock::now();
      if (left > sclock::duration::zero())
        std::this_thread::sleep_for(std::min<sclock::duration>(backoff, left));
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 1000ms);
    }
  }
}
