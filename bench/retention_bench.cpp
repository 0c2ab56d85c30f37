// retention_bench: feed retention on a real store (CAF + LMDB, full sync) — how fast rounds
// snapshot and truncate, and how many pages the store's tables use before and after.
//
//   retention_bench [--dir DIR] [--orders N]
//
//  1. fills a store: N orders (default 100,000), each walked place → reserved → authorized →
//     fulfilling → shipped → delivered by hand (6 commands; saga off), 512 orders at a time;
//  2. counts the pages of every LMDB table (mdb_stat of each named database);
//  3. restarts with feed_retention = 1 ms and runs rounds (runtime::trim_feed) until one
//     removes nothing; times them;
//  4. counts the pages again and checks a sample of orders still reads DELIVERED.
// Prints a summary and, last, one JSON line.
#include <lmdb.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
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

// Order n's command at lifecycle step k (0: its placement).
v1::OrderCommand command(const std::string& id, uint64_t n, int step) {
  auto place = place_cmd(n);
  if (step == 0) return place;
  v1::OrderCommand c;
  step_cmd(id, step, order_total(place), c);
  return c;
}

// Pages (branch + leaf + overflow) of every named database, read with LMDB's own statistics.
std::map<std::string, size_t> table_pages(const std::string& dir) {
  std::map<std::string, size_t> out;
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_maxdbs(env, 32);
  if (mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0644) != 0) {
    mdb_env_close(env);
    return out;
  }
  MDB_txn* txn = nullptr;
  mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  MDB_dbi main = 0;
  mdb_dbi_open(txn, nullptr, 0, &main);
  MDB_cursor* c = nullptr;
  mdb_cursor_open(txn, main, &c);
  MDB_val k, v;
  std::vector<std::string> names;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    names.emplace_back(static_cast<const char*>(k.mv_data), k.mv_size);
  mdb_cursor_close(c);
  for (auto& name : names) {
    MDB_dbi dbi = 0;
    MDB_stat st{};
    if (mdb_dbi_open(txn, name.c_str(), 0, &dbi) == 0 && mdb_stat(txn, dbi, &st) == 0)
      out[name] = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
  }
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return out;
}

size_t total(const std::map<std::string, size_t>& t) {
  size_t n = 0;
  for (auto& [name, pages] : t)
    n += pages;
  return n;
}

// One order's walk: each answer submits the next step.
struct walker {
  walker(runtime& r, uint64_t n) : rt(r), orders(n) {}
  runtime& rt;
  uint64_t orders;
  std::atomic<uint64_t> next{0}, done{0}, errors{0};
  std::mutex mu;
  std::vector<std::string> sample;

  void start_one() {
    auto n = next++;
    if (n >= orders) return;
    step(n, "", 0);
  }
  void step(uint64_t n, std::string id, int k) {
    rt.submit_order(command(id, n, k), fmt::format("r{}-{}", n, k), [this, n, id, k](outcome o) {
      if (!o.ok()) {
        ++errors;
        ++done;
        start_one();
        return;
      }
      auto oid = k == 0 ? o.entity_id : id;
      if (k < 5) return step(n, oid, k + 1);
      if (n % 1'000 == 0) {
        std::lock_guard<std::mutex> g{mu};
        sample.push_back(oid);
      }
      ++done;
      start_one();
    });
  }
};

// Feed retention rounds until one removes nothing (1,000 at most). Returns the rounds run,
// or -1 (said on stderr) if one failed.
int trim_until_done(runtime& rt) {
  int rounds = 0; // rounds run, the last one removing nothing
  for (uint64_t last = ~uint64_t{0}; rounds < 1'000;) {
    ++rounds;
    if (auto err = rt.trim_feed()) {
      fmt::print(stderr, "trim_feed: {}\n", to_string(err));
      return -1;
    }
    auto removed = rt.stats().feed_truncated;
    if (removed == last) break;
    last = removed;
  }
  return rounds;
}

void print_pages(const std::map<std::string, size_t>& before,
                 std::map<std::string, size_t>& after) {
  fmt::print("pages per table, before -> after:\n");
  for (auto& [name, pages] : before)
    fmt::print("  {:<12} {:>9} -> {:>9}\n", name, pages, after[name]);
  fmt::print("  {:<12} {:>9} -> {:>9} ({:.0f} % of the pages freed for reuse)\n", "total",
             total(before), total(after),
             100.0 *
                 (1.0 - static_cast<double>(total(after)) / static_cast<double>(total(before))));
}

} // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string dir;
  uint64_t orders = 100'000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--orders" && i + 1 < argc)
      orders = std::strtoull(argv[++i], nullptr, 10);
    else {
      fmt::print("usage: retention_bench [--dir DIR] [--orders N]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (dir.empty()) {
    char tmpl[] = "/tmp/ordo-retention-bench-XXXXXX";
    dir = mkdtemp(tmpl);
  }
  runtime_config cfg;
  cfg.data_dir = dir;
  cfg.saga.enabled = false;
  cfg.limits.passivate_after = std::chrono::milliseconds{1'000};
  auto rt = runtime::start(cfg);
  if (!rt) {
    fmt::print(stderr, "cannot start: {}\n", to_string(rt.error()));
    return 1;
  }
  fmt::print("retention_bench: dir {}, {} orders x 6 commands, full sync\n", dir, orders);
  auto t0 = clk::now();
  walker w{**rt, orders};
  for (int i = 0; i < 512; ++i)
    w.start_one();
  while (w.done.load() < orders)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  double fill_s = std::chrono::duration<double>(clk::now() - t0).count();
  auto head = (*rt)->feed_head();
  (*rt)->stop();
  rt->reset();
  auto before = table_pages(dir);
  fmt::print("filled in {:.1f} s ({} errors), feed head {}; table pages {}\n", fill_s,
             w.errors.load(), head ? *head : 0, total(before));

  cfg.feed_retention = std::chrono::milliseconds{1};
  cfg.retention_every = std::chrono::hours{24}; // rounds run here, by hand
  std::this_thread::sleep_for(std::chrono::milliseconds{5});
  rt = runtime::start(cfg);
  if (!rt) return 1;
  auto t1 = clk::now();
  const int rounds = trim_until_done(**rt);
  if (rounds < 0) return 1;
  double trim_s = std::chrono::duration<double>(clk::now() - t1).count();
  auto st = (*rt)->stats();
  int delivered = 0;
  for (auto& id : w.sample) {
    auto o = (*rt)->order(id);
    delivered += o && o->status() == v1::ORDER_STATUS_DELIVERED ? 1 : 0;
  }
  (*rt)->stop();
  rt->reset();
  auto after = table_pages(dir);
  fmt::print("retention: {} rounds in {:.2f} s: {} records removed ({:.0f}/s), {} snapshots "
             "written; sample {}/{} orders still DELIVERED\n",
             rounds, trim_s, st.feed_truncated,
             trim_s > 0 ? static_cast<double>(st.feed_truncated) / trim_s : 0.0, st.feed_snapshots,
             delivered, w.sample.size());
  print_pages(before, after);
  fmt::print("{{\"bench\":\"retention\",\"orders\":{},\"fill_s\":{:.1f},\"trim_s\":{:.2f},"
             "\"removed\":{},\"removed_per_s\":{:.0f},\"snapshots\":{},\"pages_before\":{},"
             "\"pages_after\":{},\"sample_delivered\":{},\"sample\":{}}}\n",
             orders, fill_s, trim_s, st.feed_truncated,
             trim_s > 0 ? static_cast<double>(st.feed_truncated) / trim_s : 0.0, st.feed_snapshots,
             total(before), total(after), delivered, w.sample.size());
  return delivered == static_cast<int>(w.sample.size()) ? 0 : 1;
}
