// runtime_bench: commands/s and latency through the embedded runtime (real CAF actors, real
// LMDB, full sync), memory per active order, and time to serve on a large store.
//
//   runtime_bench [--dir DIR] [--seconds S] [--stored N] [--active N] [--skip-store]
//
// Phases:
//  1. closed loop, peak: `window` commands in flight, each to one of P distinct orders
//     (P = 1,000 and 100,000) that walk their lifecycle; finished orders are replaced;
//  2. open loop at 80 % of the peak measured for P = 1,000: latency p50/p99/p999;
//  3. store of N orders (default 1,000,000): restart time to serving, RSS with `active`
//     orders activated, bytes per active order.
// Prints a summary and, last, one JSON line.
#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "bench/bench_orders.hpp"

using namespace ordo;
using namespace ordo::bench;
using clk = std::chrono::steady_clock;

namespace {

struct options {
  std::string dir;
  double seconds = 8;
  uint64_t stored = 1'000'000;
  uint64_t active = 10'000;
  size_t window = 2048;
  bool skip_store = false;
};

struct latency_log {
  std::mutex mu;
  std::vector<double> us;
  void add(double v) {
    std::lock_guard<std::mutex> g{mu};
    us.push_back(v);
  }
  double pct(double p) {
    std::lock_guard<std::mutex> g{mu};
    if (us.empty()) return 0;
    auto k = static_cast<size_t>(p * static_cast<double>(us.size() - 1));
    std::nth_element(us.begin(), us.begin() + static_cast<long>(k), us.end());
    return us[k];
  }
};

// Drives P distinct orders through their lifecycles with `window` commands in flight (closed
// loop) or at `rate` commands/s (open loop, rate > 0). Returns commands/s.
struct load {
  runtime& rt;
  size_t distinct;
  std::atomic<uint64_t> done{0}, errors{0}, next_place{0};
  latency_log lat;
  std::mutex mu;
  struct slot {
    std::string id;
    int step = 0;
    int64_t total = 0;
    bool busy = false;
  };
  std::vector<slot> slots;
  std::mt19937_64 rng{7};
  uint64_t run_id;

  load(runtime& r, size_t p, uint64_t id) : rt(r), distinct(p), slots(p), run_id(id) {}

  // Picks a random idle order and sends its next command; false if all are busy.
  bool send_one(std::function<void()> after) {
    size_t i = 0;
    slot* s = nullptr;
    v1::OrderCommand cmd;
    std::string key;
    {
      std::lock_guard<std::mutex> g{mu};
      for (int tries = 0; tries < 64; ++tries) {
        i = rng() % distinct;
        if (!slots[i].busy) {
          s = &slots[i];
          break;
        }
      }
      if (s == nullptr) return false;
      s->busy = true;
      if (s->step == 0 || s->step > 5) {
        auto n = next_place++;
        cmd = place_cmd(n);
        s->step = 0;
        s->total = order_total(cmd);
        key = fmt::format("b{}-{}", run_id, n);
      } else {
        step_cmd(s->id, s->step, s->total, cmd);
        key = fmt::format("{}-{}", s->id, s->step);
      }
    }
    auto t0 = clk::now();
    rt.submit_order(cmd, key, [this, i, t0, after](outcome o) {
      lat.add(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
      {
        std::lock_guard<std::mutex> g{mu};
        auto& s = slots[i];
        s.busy = false;
        if (o.ok()) {
          if (s.step == 0) s.id = o.entity_id;
          ++s.step;
        } else {
          s.step = 0; // start over with a new order
        }
      }
      if (!o.ok()) errors++;
      done++;
      after();
    });
    return true;
  }
};

struct loop_state {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> inflight{0};
};

// Keeps one command in flight per slot: each answer sends the next command.
struct refiller {
  std::shared_ptr<loop_state> st;
  load* l;
  void operator()() const {
    if (!st->stop.load() && l->send_one(*this)) return; // still in flight
    st->inflight--;
  }
};

double closed_loop(runtime& rt, size_t distinct, size_t window, double seconds, uint64_t run,
                   latency_log** lat_out, load** keep) {
  auto* l = new load(rt, distinct, run);
  auto st = std::make_shared<loop_state>();
  for (size_t k = 0; k < std::min(window, distinct); ++k) {
    st->inflight++;
    if (!l->send_one(refiller{st, l})) st->inflight--;
  }
  auto t0 = clk::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  auto n = l->done.load();
  double el = std::chrono::duration<double>(clk::now() - t0).count();
  st->stop = true;
  while (st->inflight.load() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  *lat_out = &l->lat;
  *keep = l;
  return static_cast<double>(n) / el;
}

double open_loop(runtime& rt, size_t distinct, double rate, double seconds, uint64_t run,
                 load** keep) {
  auto* l = new load(rt, distinct, run);
  auto st = std::make_shared<loop_state>();
  auto t0 = clk::now();
  uint64_t sent = 0, skipped = 0;
  while (true) {
    double el = std::chrono::duration<double>(clk::now() - t0).count();
    if (el >= seconds) break;
    auto due = static_cast<uint64_t>(el * rate);
    while (sent < due) {
      st->inflight++;
      if (!l->send_one([st] { st->inflight--; })) {
        st->inflight--;
        ++skipped; // every order busy: counts as a missed send
      }
      ++sent;
    }
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
  while (st->inflight.load() > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  *keep = l;
  if (skipped > 0) fmt::print("  (open loop: {} sends skipped, all orders busy)\n", skipped);
  return static_cast<double>(l->done.load()) / seconds;
}

// A line of /proc/self/status in KiB: "VmRSS" (everything resident, including the pages of
// the LMDB map that reads touched) or "RssAnon" (heap: actors, states, queues).
long status_kib(const char* field) {
  std::ifstream f{"/proc/self/status"};
  std::string line;
  std::string prefix = std::string(field) + ":";
  while (std::getline(f, line))
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  return 0;
}

// Bytes the allocator has handed out and not yet been given back: jemalloc's
// "stats.allocated" when the program is linked with it (ORDO_JEMALLOC), else -1. Unlike
// RssAnon it leaves out the allocator's caches and freed-but-kept pages, so it is what the
// live actors and states really hold.
long long live_heap_bytes() {
  using mallctl_fn = int (*)(const char*, void*, size_t*, void*, size_t);
  static auto* mallctl = reinterpret_cast<mallctl_fn>(dlsym(RTLD_DEFAULT, "mallctl"));
  if (mallctl == nullptr) return -1;
  uint64_t epoch = 1; // refreshes the cached statistics
  size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  size_t allocated = 0;
  len = sizeof(allocated);
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0) return -1;
  return static_cast<long long>(allocated);
}

// Reads the command line into `opt`. Returns an exit code to stop with, or -1 to go on.
int parse_args(int argc, char** argv, options& opt) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--dir")
      opt.dir = next();
    else if (a == "--seconds")
      opt.seconds = std::atof(next().c_str());
    else if (a == "--stored")
      opt.stored = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--active")
      opt.active = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--window")
      opt.window = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--skip-store")
      opt.skip_store = true;
    else {
      fmt::print("usage: runtime_bench [--dir DIR] [--seconds S] [--window N] [--stored N] "
                 "[--active N] [--skip-store]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  return -1;
}

// Fills the store with placed orders (window-bounded, callbacks only count), on a runtime
// that passivates orders after 200 ms so the fill itself does not keep 1M actors alive.
// Returns a sample of about `opt.active` of their ids, or nullopt if the runtime did not start;
// `stored` is how many were answered.
std::optional<std::vector<std::string>> fill_store(const runtime_config& cfg, const options& opt,
                                                   uint64_t& stored) {
  auto fill_cfg = cfg;
  fill_cfg.limits.passivate_after = std::chrono::milliseconds{200};
  auto rt = runtime::start(fill_cfg);
  if (!rt) return std::nullopt;
  std::atomic<uint64_t> placed{0}, answered{0};
  std::vector<std::string> sample;
  std::mutex smu;
  auto t0 = clk::now();
  for (uint64_t n = 0; n < opt.stored; ++n) {
    if (n > 0 && n % 200'000 == 0)
      fmt::print("  filled {} orders ({:.0f}/s)\n", n,
                 static_cast<double>(n) / std::chrono::duration<double>(clk::now() - t0).count());
    while (placed.load() - answered.load() > opt.window)
      std::this_thread::sleep_for(std::chrono::microseconds{100});
    placed++;
    (*rt)->submit_order(place_cmd(n), fmt::format("fill-{}", n), [&, n](outcome o) {
      if (o.ok() && n % (opt.stored / opt.active + 1) == 0) {
        std::lock_guard<std::mutex> g{smu};
        sample.push_back(o.entity_id);
      }
      answered++;
    });
  }
  while (answered.load() < placed.load())
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  stored = (*rt)->stats().answered;
  fmt::print("filled {} orders in {:.1f} s\n", opt.stored,
             std::chrono::duration<double>(clk::now() - t0).count());
  (*rt)->stop();
  return sample;
}

struct store_figures {
  double start_ms = 0, first_ms = 0, per_active_bytes = 0, per_active_rss_bytes = 0,
         per_active_live_bytes = -1;
};

// Restarts on the filled store (time to start and to the first answer), then activates the
// sampled orders and measures the memory each costs. Nullopt if the runtime did not start.
std::optional<store_figures> restart_and_activate(const runtime_config& cfg,
                                                  const std::vector<std::string>& sample) {
  store_figures f;
  double& start_ms = f.start_ms;
  double& first_ms = f.first_ms;
  double& per_active_bytes = f.per_active_bytes;
  double& per_active_rss_bytes = f.per_active_rss_bytes;
  double& per_active_live_bytes = f.per_active_live_bytes;
  long rss0 = status_kib("VmRSS");
  auto s0 = clk::now();
  auto again = runtime::start(cfg);
  if (!again) return std::nullopt;
  start_ms = std::chrono::duration<double, std::milli>(clk::now() - s0).count();
  auto first = (*again)->submit_order(place_cmd(1), "after-restart").get();
  first_ms = std::chrono::duration<double, std::milli>(clk::now() - s0).count();
  fmt::print("restart on the filled store: start() {:.1f} ms, first command answered at "
             "{:.1f} ms ({})\n",
             start_ms, first_ms, to_string(first.status));
  // Activate `active` orders (one command each), in two halves, and measure the growth.
  // The second half's growth per order is the marginal cost of one more active order; the
  // first activations also pay one-off growth (allocator caches, buffers of the threads).
  auto activate = [&](size_t from, size_t to) {
    std::atomic<uint64_t> acks{0};
    for (size_t k = from; k < to; ++k) {
      auto c = v1::OrderCommand{};
      c.set_order_id(sample[k]);
      c.mutable_confirm_stock_reserved();
      (*again)->submit_order(c, sample[k] + "-r", [&](outcome) { acks++; });
    }
    while (acks.load() < to - from)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    return (*again)->stats().active;
  };
  long rss1 = status_kib("VmRSS"), anon1 = status_kib("RssAnon");
  long long live1 = live_heap_bytes();
  auto active_half = activate(0, sample.size() / 2);
  long long live_half = live_heap_bytes();
  auto active_all = activate(sample.size() / 2, sample.size());
  long rss2 = status_kib("VmRSS"), anon2 = status_kib("RssAnon");
  long long live2 = live_heap_bytes();
  auto per = [&](long kib) {
    return active_all > 0 ? static_cast<double>(kib) * 1024.0 / static_cast<double>(active_all)
                          : 0.0;
  };
  per_active_bytes = per(anon2 - anon1);
  per_active_rss_bytes = per(rss2 - rss1);
  fmt::print("active orders {}: RSS {} KiB at start, {} KiB before, {} KiB after activation; "
             "heap (RssAnon) {} -> {} KiB\n",
             active_all, rss0, rss1, rss2, anon1, anon2);
  fmt::print("  => {:.0f} heap bytes per active order ({:.0f} bytes including the LMDB pages "
             "the activations read)\n",
             per_active_bytes, per_active_rss_bytes);
  if (live1 >= 0 && live2 >= 0 && active_all > active_half) {
    per_active_live_bytes =
        static_cast<double>(live2 - live_half) / static_cast<double>(active_all - active_half);
    fmt::print("  => {:.0f} live heap bytes per additional active order (jemalloc "
               "stats.allocated: {} before, {} with {} active, {} with {} active; {:.0f} per "
               "order over all of them)\n",
               per_active_live_bytes, live1, live_half, active_half, live2, active_all,
               static_cast<double>(live2 - live1) / static_cast<double>(active_all));
  }
  (*again)->stop();
  return f;
}

} // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0); // progress shows up even when piped
  options opt;
  if (int rc = parse_args(argc, argv, opt); rc >= 0) return rc;
  const bool own_dir = opt.dir.empty(); // a directory of its own is removed at the end
  if (own_dir) {
    char tmpl[] = "/tmp/ordo-runtime-bench-XXXXXX";
    opt.dir = mkdtemp(tmpl);
  }
  runtime_config cfg;
  cfg.data_dir = opt.dir;
  cfg.saga.enabled = false; // this bench plays inventory, payment and warehouse by hand
  fmt::print("runtime_bench: dir {}, {} workers, full sync, window {}, {} s per phase\n", opt.dir,
             cfg.worker_threads, opt.window, opt.seconds);
  auto rt = runtime::start(cfg);
  if (!rt) {
    fmt::print(stderr, "cannot start: {}\n", to_string(rt.error()));
    return 1;
  }
  std::vector<load*> loads;
  latency_log* lat = nullptr;
  load* l = nullptr;
  // One closed-loop phase over `distinct` orders: commands/s, p50 and p99 in ms.
  auto closed_phase = [&](size_t distinct, uint64_t run, const char* label) {
    double peak = closed_loop(**rt, distinct, opt.window, opt.seconds, run, &lat, &l);
    loads.push_back(l);
    double p50 = lat->pct(0.5) / 1000, p99 = lat->pct(0.99) / 1000;
    fmt::print("closed loop, {} {:>9.0f} commands/s  p50 {:.2f} ms  p99 {:.2f} ms  ({} errors)\n",
               label, peak, p50, p99, l->errors.load());
    return std::array<double, 3>{peak, p50, p99};
  };
  auto [peak_1k, p50_1k, p99_1k] = closed_phase(1'000, 1, "1K distinct orders:  ");
  auto [peak_100k, p50_100k, p99_100k] = closed_phase(100'000, 2, "100K distinct orders:");
  double rate = 0.8 * peak_100k; // 80 % of the peak of the same workload
  double achieved = open_loop(**rt, 100'000, rate, opt.seconds, 3, &l);
  loads.push_back(l);
  double o50 = l->lat.pct(0.5) / 1000, o99 = l->lat.pct(0.99) / 1000,
         o999 = l->lat.pct(0.999) / 1000;
  fmt::print("open loop at 80% of peak ({:.0f}/s): achieved {:.0f}/s  p50 {:.2f} ms  p99 {:.2f} "
             "ms  p999 {:.2f} ms\n",
             rate, achieved, o50, o99, o999);

  double start_ms = 0, first_ms = 0, per_active_bytes = 0, per_active_rss_bytes = 0,
         per_active_live_bytes = -1;
  uint64_t stored = 0;
  if (!opt.skip_store) {
    (*rt)->stop();
    rt->reset();
    auto sample = fill_store(cfg, opt, stored);
    if (!sample) return 1;
    for (auto* x : loads)
      delete x;
    loads.clear();
    auto figures = restart_and_activate(cfg, *sample);
    if (!figures) return 1;
    start_ms = figures->start_ms;
    first_ms = figures->first_ms;
    per_active_bytes = figures->per_active_bytes;
    per_active_rss_bytes = figures->per_active_rss_bytes;
    per_active_live_bytes = figures->per_active_live_bytes;
  }
  for (auto* x : loads)
    delete x;
  fmt::print(
      "{{\"commands_per_s_1k\": {:.0f}, \"p50_ms_1k\": {:.2f}, \"p99_ms_1k\": {:.2f}, "
      "\"commands_per_s_100k\": {:.0f}, \"p99_ms_100k\": {:.2f}, \"open_loop_rate\": "
      "{:.0f}, \"open_p50_ms\": {:.2f}, \"open_p99_ms\": {:.2f}, \"open_p999_ms\": "
      "{:.2f}, \"stored_orders\": {}, \"start_ms\": {:.1f}, \"first_answer_ms\": {:.1f}, "
      "\"heap_bytes_per_active_order\": {:.0f}, \"live_heap_bytes_per_active_order\": {:.0f}, "
      "\"rss_bytes_per_active_order\": {:.0f}}}\n",
      peak_1k, p50_1k, p99_1k, peak_100k, p99_100k, rate, o50, o99, o999, stored, start_ms,
      first_ms, per_active_bytes, per_active_live_bytes, per_active_rss_bytes);
  if (own_dir) std::filesystem::remove_all(opt.dir);
  return 0;
}
