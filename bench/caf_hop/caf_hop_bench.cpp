// caf_hop's benchmarks against peer 0: an event-based actor with W requests in flight, a plain
// thread through the forwarder with callbacks, or threads on scoped_actors.
#include "caf_hop.hpp"

// ---- bench: event-based actor with W requests in flight ----------------------
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

static caf::behavior bench_actor(caf::stateful_actor<bench_state>* self, caf::actor peer,
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


static void bench_with_actor(caf::actor_system& sys, const caf::actor& p, const bench_options& o,
                             const std::string& payload, sclock::time_point deadline) {
  auto resp = std::make_shared<bench_result>();
  auto fin = std::make_shared<std::promise<void>>();
  auto fut = fin->get_future();
  sys.spawn(bench_actor, p, o.n, o.window, payload, resp, fin);
  if (fut.wait_until(deadline) == std::future_status::ready)
    print_bench("actor", o.n, o.window, o.psize, *resp);
  else
    LOG("bench actor did not finish before deadline");
}

// one plain thread, W in flight through the forwarder, callbacks
static void bench_through_forwarder(const caf::actor& fwd, const bench_options& o,
                                    const std::string& payload, sclock::time_point deadline) {
  const uint64_t n = o.n, window = o.window;
  bench_result res;
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
  print_bench("fwd", n, window, o.psize, res);
}

// T threads, each on one scoped_actor (scoped) or a new one per call (scoped_per_call)
static void bench_scoped(caf::actor_system& sys, const caf::actor& p, const bench_options& o,
                         const std::string& payload, sclock::time_point deadline) {
  const uint64_t n = o.n, threads = o.threads;
  const std::string& bench_mode = o.mode;
  bench_result res;
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
  print_bench(bench_mode.c_str(), n, threads, o.psize, res);
}

void run_bench(caf::actor_system& sys, const caf::actor& fwd, const caf::actor& p,
               const bench_options& o, sclock::time_point deadline) {
  auto payload = make_payload(o.psize);
  if (o.mode == "actor" && p)
    bench_with_actor(sys, p, o, payload, deadline);
  else if (o.mode == "fwd" && p)
    bench_through_forwarder(fwd, o, payload, deadline);
  else if ((o.mode == "scoped" || o.mode == "scoped_per_call") && p)
    bench_scoped(sys, p, o, payload, deadline);
}
