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
#include "caf_hop.hpp"

namespace {

struct options {
  uint16_t port = 0;
  std::string peers_arg;
  double run_seconds = 10;
  bench_options bench;
  bool probe = false, failfast = true, exit_after_bench = false;
  long hb_ms = 0, ct_ms = 0, max_threads = 0;
};

// False on an unknown argument (named on stderr).
bool parse_options(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string{argv[++i]} : std::string{}; };
    if (a == "--id") g_id = std::stoi(next());
    else if (a == "--port") o.port = static_cast<uint16_t>(std::stoi(next()));
    else if (a == "--peers") o.peers_arg = next();
    else if (a == "--run-seconds") o.run_seconds = std::stod(next());
    else if (a == "--bench") o.bench.mode = next();
    else if (a == "--n") o.bench.n = std::stoull(next());
    else if (a == "--window") o.bench.window = std::stoull(next());
    else if (a == "--threads") o.bench.threads = std::stoull(next());
    else if (a == "--payload") o.bench.psize = std::stoull(next());
    else if (a == "--probe") o.probe = true;
    else if (a == "--exit-after-bench") o.exit_after_bench = true;
    else if (a == "--no-failfast") o.failfast = false;
    else if (a == "--hb-ms") o.hb_ms = std::stol(next());
    else if (a == "--conn-timeout-ms") o.ct_ms = std::stol(next());
    else if (a == "--max-threads") o.max_threads = std::stol(next());
    else { fprintf(stderr, "unknown arg %s\n", a.c_str()); return false; }
  }
  return true;
}

// "host:port,host:port" -> (host, port) pairs; entries without a port are skipped.
std::vector<std::pair<std::string, uint16_t>> parse_peers(const std::string& peers_arg) {
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
  return peers;
}

void configure(caf::actor_system_config& cfg, const options& o) {
  cfg.load<caf::io::middleman>();
  if (o.hb_ms > 0)
    cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(o.hb_ms)});
  if (o.ct_ms > 0)
    cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::milliseconds(o.ct_ms)});
  if (o.max_threads > 0)
    cfg.set("scheduler.max-threads", o.max_threads);
}

caf::actor wait_peer(peer_table& table, uint32_t idx, sclock::time_point until) {
  while (sclock::now() < until) {
    if (auto h = table.get(idx)) return h;
    std::this_thread::sleep_for(10ms);
  }
  return caf::actor{};
}

// 3. functional check from a plain thread: future + scoped_actor, binary payload
void functional_check(caf::actor_system& sys, const caf::actor& fwd, peer_table& table,
                      sclock::time_point deadline) {
  if (auto p = wait_peer(table, 0, std::min(deadline, sclock::now() + 10s))) {
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

// 4. probe: steady traffic + in-flight slow requests, to observe peer death
void start_probes(std::vector<std::thread>& probes, caf::actor_system& sys, const caf::actor& fwd,
                  peer_table& table, sclock::time_point deadline, std::atomic<bool>& stop) {
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

} // namespace

// ---- main ---------------------------------------------------------------------
int main(int argc, char** argv) {
  options o;
  if (!parse_options(argc, argv, o)) return 2;
  const auto peers = parse_peers(o.peers_arg);
  auto deadline = sclock::now() + std::chrono::duration_cast<sclock::duration>(
                                    std::chrono::duration<double>(o.run_seconds));

  caf::actor_system_config cfg;
  configure(cfg, o);
  caf::actor_system sys{cfg};
  LOG("node up pid=%d node=%s hb=%s conn-timeout=%s workers=%zu", getpid(),
      to_string(sys.node()).c_str(),
      caf::deep_to_string(caf::get_or(sys.config(), "middleman.heartbeat-interval", caf::timespan{0})).c_str(),
      caf::deep_to_string(caf::get_or(sys.config(), "middleman.connection-timeout", caf::timespan{0})).c_str(),
      sys.scheduler().num_workers());

  // 1. ingress + publish
  auto ing = sys.spawn(ingress);
  auto pub = sys.middleman().publish(ing, o.port, "127.0.0.1", true);
  if (!pub) {
    LOG("publish failed: %s", sys.render(pub.error()).c_str());
    caf::anon_send_exit(ing, caf::exit_reason::user_shutdown);
    return 1;
  }
  LOG("ingress published on 127.0.0.1:%u", *pub);

  // 2. forwarder + one peer_link per peer
  peer_table table;
  table.peers.resize(peers.size());
  auto fwd = sys.spawn(forwarder, peers.size(), o.failfast);
  for (uint32_t i = 0; i < peers.size(); ++i)
    sys.spawn<caf::detached>(peer_link, fwd, &table, i, peers[i].first, peers[i].second, deadline);

  if (!peers.empty()) functional_check(sys, fwd, table, deadline);

  // 5. benchmarks
  if (!o.bench.mode.empty() && !peers.empty())
    run_bench(sys, fwd, wait_peer(table, 0, deadline), o.bench, deadline);

  std::vector<std::thread> probes;
  std::atomic<bool> stop{false};
  if (o.probe && !peers.empty()) start_probes(probes, sys, fwd, table, deadline, stop);

  // run until the deadline (every process stops by itself)
  while (!o.exit_after_bench && sclock::now() < deadline)
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
