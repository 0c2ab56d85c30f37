// Ordo cluster prototype on CAF 0.17.6 (Debian libcaf-dev): the probe that de-risked
// actors/cluster/cluster_link.cpp (REPORT.md) and measures the bare CAF hop. Standalone:
//   cmake -S bench/caf_hop -B /tmp/caf-hop && cmake --build /tmp/caf-hop
//   /tmp/caf-hop/caf_hop --id 2 --port 41202 --run-seconds 60 &
//   /tmp/caf-hop/caf_hop --id 1 --port 41201 --peers 127.0.0.1:41202 --exit-after-bench
//       --payload 200 --bench actor --n 100000 --window 64
//   proto --id N --port P --peers host:port,host:port [--run-seconds S]
//         [--bench MODE --n N --window W --payload B --threads T]
//         [--probe] [--hb-ms H --conn-timeout-ms C] [--max-threads K]
// MODE: actor | fwd | scoped | scoped_per_call
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>
#include <unistd.h>

#include "caf/all.hpp"
#include "caf/io/all.hpp"

using namespace std::chrono_literals;
using sclock = std::chrono::steady_clock;

// ---- atoms (0.17: atom_constant, <= 10 chars) --------------------------------
using req_atom = caf::atom_constant<caf::atom("req")>;
using fwd_atom = caf::atom_constant<caf::atom("fwd")>;
using peer_up_atom = caf::atom_constant<caf::atom("peer_up")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;

// ---- completion passed from a non-actor thread in a LOCAL message ----------
// std::function / shared_ptr are not inspectable -> make_message static_asserts
// unless whitelisted. Whitelisted types can never cross the network.
struct call_ctx {
  std::function<void(const caf::error&, uint64_t, std::string&&)> fn;
  std::atomic<bool> done{false};
  void complete(const caf::error& err, uint64_t e, std::string&& s) {
    if (!done.exchange(true))
      fn(err, e, std::move(s));
  }
};
using call_ptr = std::shared_ptr<call_ctx>;
#ifndef NO_UNSAFE_WHITELIST
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(call_ptr)
#endif

// ---- logging ----------------------------------------------------------------
static int g_id = 0;
static std::atomic<bool> g_stop{false}; // early stop (after --exit-after-bench)
static double unix_now() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count() / 1e6;
}
#define LOG(...)                                                               \
  do {                                                                         \
    char _b[1024];                                                             \
    snprintf(_b, sizeof _b, __VA_ARGS__);                                      \
    fprintf(stdout, "[%.3f n%d] %s\n", unix_now(), g_id, _b);                  \
    fflush(stdout);                                                            \
  } while (0)

static double ms_since(sclock::time_point t0) {
  return std::chrono::duration<double, std::milli>(sclock::now() - t0).count();
}

// ---- shared peer table (read by non-actor threads) ---------------------------
struct peer_table {
  std::mutex mtx;
  std::vector<caf::actor> peers;
  caf::actor get(size_t i) {
    std::lock_guard<std::mutex> g{mtx};
    return i < peers.size() ? peers[i] : caf::actor{};
  }
  void set(size_t i, caf::actor h) {
    std::lock_guard<std::mutex> g{mtx};
    peers[i] = std::move(h);
  }
};

// ---- ingress: the published actor --------------------------------------------
struct ingress_state {
  uint64_t served = 0;
  std::vector<caf::typed_response_promise<uint64_t, std::string>> parked;
  static inline const char* name = "ingress";
};

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
struct fwd_state {
  std::vector<caf::actor> peers;
  uint64_t next_id = 0;
  std::unordered_map<uint64_t, std::pair<uint32_t, call_ptr>> pending;
  static inline const char* name = "forwarder";
};

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
struct reply {
  caf::error err;
  uint64_t epoch = 0;
  std::string body;
};

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

// ---- bench: event-based actor with W requests in flight ----------------------
struct bench_result {
  double secs = 0;
  uint64_t ok = 0, errors = 0, bad = 0;
  std::vector<double> lat_us;
};
struct bench_state {
  caf::actor peer;
  uint64_t n = 0, sent = 0, done = 0;
  std::string payload;
  sclock::time_point start;
  std::shared_ptr<bench_result> res;
  std::shared_ptr<std::promise<void>> fin;
};

static void bench_issue(caf::stateful_actor<bench_state>* self) {
  auto& st = self->state;
  auto seq = st.sent++;
  auto t0 = sclock::now();
  self->request(st.peer, 5s, req_atom::value, seq, std::string{"acct-42"}, st.payload)
    .then(
      [=](uint64_t e, std::string& r) {
        auto& st = self->state;
        st.res->lat_us.push_back(std::chrono::duration<double, std::micro>(sclock::now() - t0).count());
        if (e != seq + 1 || r != st.payload)
          ++st.res->bad;
        ++st.res->ok;
        if (++st.done == st.n) {
          st.res->secs = std::chrono::duration<double>(sclock::now() - st.start).count();
          st.fin->set_value();
          self->quit();
        } else if (st.sent < st.n) {
          bench_issue(self);
        }
      },
      [=](caf::error&) {
        auto& st = self->state;
        ++st.res->errors;
        if (++st.done == st.n) {
          st.res->secs = std::chrono::duration<double>(sclock::now() - st.start).count();
          st.fin->set_value();
          self->quit();
        } else if (st.sent < st.n) {
          bench_issue(self);
        }
      });
}

caf::behavior bench_actor(caf::stateful_actor<bench_state>* self, caf::actor peer,
                          uint64_t n, uint64_t window, std::string payload,
                          std::shared_ptr<bench_result> res,
                          std::shared_ptr<std::promise<void>> fin) {
  auto& st = self->state;
  st.peer = peer;
  st.n = n;
  st.payload = std::move(payload);
  st.res = res;
  st.fin = fin;
  st.start = sclock::now();
  res->lat_us.reserve(n);
  for (uint64_t i = 0; i < window && i < n; ++i)
    bench_issue(self);
  return {[](caf::unit_t) {}};
}

static void print_bench(const char* mode, uint64_t n, uint64_t window, size_t psize,
                        bench_result& r) {
  auto& v = r.lat_us;
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) { return v.empty() ? 0.0 : v[std::min(v.size() - 1, size_t(p * v.size()))]; };
  LOG("BENCH mode=%s n=%llu window=%llu payload=%zuB: %.3f s, %.0f req/s, ok=%llu err=%llu bad=%llu, "
      "lat us p50=%.0f p90=%.0f p99=%.0f p99.9=%.0f max=%.0f",
      mode, (unsigned long long)n, (unsigned long long)window, psize, r.secs, r.ok / r.secs,
      (unsigned long long)r.ok, (unsigned long long)r.errors, (unsigned long long)r.bad,
      pct(.5), pct(.9), pct(.99), pct(.999), v.empty() ? 0.0 : v.back());
  // The last line: the figures as JSON, like every Ordo benchmark.
  std::printf("{\"mode\":\"%s\",\"n\":%llu,\"window\":%llu,\"payload\":%zu,\"rps\":%.0f,"
              "\"p50_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f,\"errors\":%llu}\n",
              mode, (unsigned long long)n, (unsigned long long)window, psize, r.ok / r.secs,
              pct(.5), pct(.99), pct(.999), (unsigned long long)r.errors);
  std::fflush(stdout);
}

static std::string make_payload(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 7) & 0xff); // includes NUL and bytes >= 0x80
  return s;
}

// ---- main ---------------------------------------------------------------------
int main(int argc, char** argv) {
  uint16_t port = 0;
  std::string peers_arg, bench_mode;
  double run_seconds = 10;
  uint64_t n = 100000, window = 64, threads = 4;
  size_t psize = 200;
  bool probe = false, failfast = true, exit_after_bench = false;
  long hb_ms = 0, ct_ms = 0, max_threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string{argv[++i]} : std::string{}; };
    if (a == "--id") g_id = std::stoi(next());
    else if (a == "--port") port = static_cast<uint16_t>(std::stoi(next()));
    else if (a == "--peers") peers_arg = next();
    else if (a == "--run-seconds") run_seconds = std::stod(next());
    else if (a == "--bench") bench_mode = next();
    else if (a == "--n") n = std::stoull(next());
    else if (a == "--window") window = std::stoull(next());
    else if (a == "--threads") threads = std::stoull(next());
    else if (a == "--payload") psize = std::stoull(next());
    else if (a == "--probe") probe = true;
    else if (a == "--exit-after-bench") exit_after_bench = true;
    else if (a == "--no-failfast") failfast = false;
    else if (a == "--hb-ms") hb_ms = std::stol(next());
    else if (a == "--conn-timeout-ms") ct_ms = std::stol(next());
    else if (a == "--max-threads") max_threads = std::stol(next());
    else { fprintf(stderr, "unknown arg %s\n", a.c_str()); return 2; }
  }
  std::vector<std::pair<std::string, uint16_t>> peers;
  for (size_t pos = 0; pos < peers_arg.size();) {
    auto end = peers_arg.find(',', pos);
    if (end == std::string::npos) end = peers_arg.size();
    auto hp = peers_arg.substr(pos, end - pos);
    auto c = hp.rfind(':');
    if (c != std::string::npos)
      peers.emplace_back(hp.substr(0, c), static_cast<uint16_t>(std::stoi(hp.substr(c + 1))));
    pos = end + 1;
  }
  auto deadline = sclock::now() + std::chrono::duration_cast<sclock::duration>(
                                    std::chrono::duration<double>(run_seconds));

  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  if (hb_ms > 0)
    cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(hb_ms)});
  if (ct_ms > 0)
    cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::milliseconds(ct_ms)});
  if (max_threads > 0)
    cfg.set("scheduler.max-threads", max_threads);
  caf::actor_system sys{cfg};
  LOG("node up pid=%d node=%s hb=%s conn-timeout=%s workers=%zu", getpid(),
      to_string(sys.node()).c_str(),
      caf::deep_to_string(caf::get_or(sys.config(), "middleman.heartbeat-interval", caf::timespan{0})).c_str(),
      caf::deep_to_string(caf::get_or(sys.config(), "middleman.connection-timeout", caf::timespan{0})).c_str(),
      sys.scheduler().num_workers());

  // 1. ingress + publish
  auto ing = sys.spawn(ingress);
  auto pub = sys.middleman().publish(ing, port, "127.0.0.1", true);
  if (!pub) {
    LOG("publish failed: %s", sys.render(pub.error()).c_str());
    caf::anon_send_exit(ing, caf::exit_reason::user_shutdown);
    return 1;
  }
  LOG("ingress published on 127.0.0.1:%u", *pub);

  // 2. forwarder + one peer_link per peer
  peer_table table;
  table.peers.resize(peers.size());
  auto fwd = sys.spawn(forwarder, peers.size(), failfast);
  for (uint32_t i = 0; i < peers.size(); ++i)
    sys.spawn<caf::detached>(peer_link, fwd, &table, i, peers[i].first, peers[i].second, deadline);

  auto wait_peer = [&](uint32_t idx, sclock::time_point until) {
    while (sclock::now() < until) {
      if (auto h = table.get(idx)) return h;
      std::this_thread::sleep_for(10ms);
    }
    return caf::actor{};
  };

  // 3. functional check from a plain thread: future + scoped_actor, binary payload
  if (!peers.empty()) {
    if (auto p = wait_peer(0, std::min(deadline, sclock::now() + 10s))) {
      std::string bin("a\0b\xff\x00z", 6);
      auto f = call_async(fwd, 0, 7, "acct-1", bin, 1000);
      if (f.wait_for(2s) == std::future_status::ready) {
        auto r = f.get();
        LOG("call_async -> err=%s epoch=%llu body_ok=%d len=%zu", sys.render(r.err).c_str(),
            (unsigned long long)r.epoch, r.body == bin, r.body.size());
      }
      caf::scoped_actor self{sys};
      auto r2 = call_scoped(self, p, 9, "acct-2", bin, 1000ms);
      LOG("call_scoped -> err=%s epoch=%llu body_ok=%d", sys.render(r2.err).c_str(),
          (unsigned long long)r2.epoch, r2.body == bin);
      auto r3 = call_async(fwd, 5, 1, "x", "y", 1000).get(); // no such peer
      LOG("call_async to unknown peer -> %s", sys.render(r3.err).c_str());
    } else {
      LOG("peer 0 not up before deadline");
    }
  }

  // 5. benchmarks
  if (!bench_mode.empty() && !peers.empty()) {
    auto p = wait_peer(0, deadline);
    auto payload = make_payload(psize);
    bench_result res;
    if (bench_mode == "actor" && p) {
      auto resp = std::make_shared<bench_result>();
      auto fin = std::make_shared<std::promise<void>>();
      auto fut = fin->get_future();
      sys.spawn(bench_actor, p, n, window, payload, resp, fin);
      if (fut.wait_until(deadline) == std::future_status::ready)
        print_bench("actor", n, window, psize, *resp);
      else
        LOG("bench actor did not finish before deadline");
    } else if (bench_mode == "fwd" && p) {
      // one plain thread, W in flight through the forwarder, callbacks
      std::mutex m;
      std::condition_variable cv;
      uint64_t inflight = 0, done = 0;
      std::vector<double> lat;
      lat.reserve(n);
      auto t0 = sclock::now();
      for (uint64_t i = 0; i < n && sclock::now() < deadline; ++i) {
        {
          std::unique_lock<std::mutex> g{m};
          cv.wait(g, [&] { return inflight < window; });
          ++inflight;
        }
        auto ts = sclock::now();
        call_cb(fwd, 0, i, "acct-42", payload, 5000,
                [&, ts, i](const caf::error& err, uint64_t e, std::string&& body) {
                  auto us = std::chrono::duration<double, std::micro>(sclock::now() - ts).count();
                  std::lock_guard<std::mutex> g{m};
                  if (err) ++res.errors;
                  else { ++res.ok; lat.push_back(us); if (e != i + 1 || body != payload) ++res.bad; }
                  --inflight;
                  ++done;
                  cv.notify_all();
                });
      }
      {
        std::unique_lock<std::mutex> g{m};
        cv.wait_until(g, deadline, [&] { return inflight == 0; });
      }
      res.secs = std::chrono::duration<double>(sclock::now() - t0).count();
      res.lat_us = std::move(lat);
      print_bench("fwd", n, window, psize, res);
    } else if ((bench_mode == "scoped" || bench_mode == "scoped_per_call") && p) {
      std::mutex m;
      std::vector<std::thread> ts;
      auto t0 = sclock::now();
      for (uint64_t t = 0; t < threads; ++t)
        ts.emplace_back([&, t] {
          std::vector<double> lat;
          uint64_t ok = 0, err = 0, bad = 0;
          std::unique_ptr<caf::scoped_actor> self;
          if (bench_mode == "scoped") self = std::make_unique<caf::scoped_actor>(sys);
          for (uint64_t i = t; i < n && sclock::now() < deadline; i += threads) {
            auto ts0 = sclock::now();
            reply r;
            if (self) {
              r = call_scoped(*self, p, i, "acct-42", payload, 5000ms);
            } else {
              caf::scoped_actor s{sys}; // one scoped_actor per call
              r = call_scoped(s, p, i, "acct-42", payload, 5000ms);
            }
            if (r.err) ++err;
            else {
              ++ok;
              lat.push_back(std::chrono::duration<double, std::micro>(sclock::now() - ts0).count());
              if (r.epoch != i + 1 || r.body != payload) ++bad;
            }
          }
          std::lock_guard<std::mutex> g{m};
          res.ok += ok; res.errors += err; res.bad += bad;
          res.lat_us.insert(res.lat_us.end(), lat.begin(), lat.end());
        });
      for (auto& t : ts) t.join();
      res.secs = std::chrono::duration<double>(sclock::now() - t0).count();
      print_bench(bench_mode.c_str(), n, threads, psize, res);
    }
  }

  // 4. probe: steady traffic + in-flight slow requests, to observe peer death
  std::vector<std::thread> probes;
  std::atomic<bool> stop{false};
  if (probe && !peers.empty()) {
    // (a) via forwarder, every 20 ms, log state transitions
    probes.emplace_back([&] {
      bool last_ok = true;
      uint64_t i = 0;
      while (!stop && sclock::now() < deadline) {
        auto t0 = sclock::now();
        auto f = call_async(fwd, 0, i++, "acct-p", "ping", 1000);
        if (f.wait_for(3s) != std::future_status::ready) { LOG("probe: future not ready after 3 s"); continue; }
        auto r = f.get();
        bool ok = !r.err;
        if (ok != last_ok)
          LOG("probe(fwd): %s after %.1f ms: %s", ok ? "OK again" : "FAIL", ms_since(t0),
              ok ? "" : sys.render(r.err).c_str());
        last_ok = ok;
        std::this_thread::sleep_for(20ms);
      }
    });
    // (b) slow request through the forwarder (fail-fast on down)
    probes.emplace_back([&] {
      while (!stop && sclock::now() < deadline) {
        auto t0 = sclock::now();
        auto f = call_async(fwd, 0, 1, "slow", "x", 10000);
        if (f.wait_for(12s) != std::future_status::ready) continue;
        auto r = f.get();
        if (r.err) {
          LOG("slow(fwd): error after %.1f ms: %s", ms_since(t0), sys.render(r.err).c_str());
          std::this_thread::sleep_for(200ms);
        }
      }
    });
    // (c) raw CAF: scoped_actor slow request straight at the proxy, then reuse the stale proxy
    probes.emplace_back([&] {
      caf::scoped_actor self{sys};
      while (!stop && sclock::now() < deadline) {
        auto p = table.get(0);
        if (!p) { std::this_thread::sleep_for(50ms); continue; }
        auto t0 = sclock::now();
        auto r = call_scoped(self, p, 1, "slow", "x", 10000ms);
        if (r.err) {
          LOG("slow(raw scoped_actor): error after %.1f ms: %s", ms_since(t0), sys.render(r.err).c_str());
          auto t1 = sclock::now();
          auto r2 = call_scoped(self, p, 1, "acct", "x", 2000ms);
          LOG("raw request to STALE proxy: %s after %.1f ms", r2.err ? sys.render(r2.err).c_str() : "ok", ms_since(t1));
        }
      }
    });
  }

  // run until the deadline (every process stops by itself)
  while (!exit_after_bench && sclock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  stop = true;
  g_stop = true;
  for (auto& t : probes) t.join();
  // unpublish first, so peers cannot get a handle to a dying ingress
  auto unp = sys.middleman().unpublish(ing, *pub);
  LOG("unpublish: %s", unp ? "ok" : sys.render(unp.error()).c_str());
  caf::anon_send(ing, flush_atom::value);
  caf::anon_send_exit(ing, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(fwd, caf::exit_reason::user_shutdown);
  LOG("shutdown");
  return 0;
}
