// saga_bench: the order saga end to end — place → reserve → authorize → fulfil → ship →
// deliver (with capture and stock commit) — through the real runtime (CAF + LMDB) with the
// simulated gateway and warehouse at zero latency.
//
//   saga_bench [--dir DIR] [--orders N] [--window W] [--skus K] [--flash N] [--flash-stock S]
//              [--no-sync]
//
// Phases:
//  1. closed loop: W sagas in progress at once over K well-stocked SKUs (256), N orders in all;
//     completed sagas/s and place→delivered latency p50/p99 (delivery seen on the feed);
//  2. flash sale: N orders placed at once for one SKU with S units; time until every order
//     is delivered or rejected, orders/s.
// Prints a summary and, last, one JSON line.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/core.h>

#include "ordo/runtime.hpp"

using namespace ordo;
using clk = std::chrono::steady_clock;

namespace {

struct options {
  std::string dir;
  uint64_t orders = 30'000;
  size_t window = 2'000;
  int skus = 256; // well-stocked SKUs of the closed loop
  uint64_t flash = 20'000;
  int64_t flash_stock = 1'000;
  bool no_sync = false;
};

v1::OrderCommand place_cmd(const std::string& sku) {
  v1::OrderCommand c;
  auto* p = c.mutable_place_order();
  p->set_customer_id("bench-customer");
  p->set_currency("EUR");
  auto* l = p->add_lines();
  l->set_sku(sku);
  l->set_quantity(1);
  l->mutable_unit_price()->set_amount_minor(1'000);
  l->mutable_unit_price()->set_currency("EUR");
  auto* a = p->mutable_shipping_address();
  a->set_name("Bench");
  a->set_line1("1 Street");
  a->set_city("City");
  a->set_postal_code("12345");
  a->set_country("DE");
  return c;
}

void restock(runtime& rt, const std::string& sku, int64_t qty) {
  v1::InventoryCommand c;
  c.set_sku(sku);
  c.mutable_restock()->set_quantity(qty);
  auto o = rt.submit_inventory(c, "bench-stock-" + sku).get();
  if (!o.ok()) fmt::print(stderr, "restock {} failed: {} {}\n", sku, o.code, o.message);
  c.mutable_set_price()->mutable_price()->set_amount_minor(1'000); // what every order pays
  c.mutable_set_price()->mutable_price()->set_currency("EUR");
  o = rt.submit_inventory(c, "bench-price-" + sku).get();
  if (!o.ok()) fmt::print(stderr, "price {} failed: {} {}\n", sku, o.code, o.message);
}

// Follows the feed and reports each order's end (delivered / rejected / cancelled).
struct finish_line {
  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, clk::time_point> placed_at;
  std::vector<double> latencies_ms;
  uint64_t delivered = 0, rejected = 0, cancelled = 0;
  std::function<void()> on_end; // called (outside the lock) for every finished order

  uint64_t ended() {
    std::lock_guard<std::mutex> g{mu};
    return delivered + rejected + cancelled;
  }
  bool on_item(const feed_item& item) {
    if (!item.event.has_order_event()) return true;
    const auto& ev = item.event.order_event();
    bool end = ev.has_order_delivered() || ev.has_order_rejected() || ev.has_order_cancelled();
    if (!end) return true;
    {
      std::lock_guard<std::mutex> g{mu};
      if (ev.has_order_delivered()) {
        ++delivered;
        auto it = placed_at.find(item.event.entity_id());
        if (it != placed_at.end())
          latencies_ms.push_back(
              std::chrono::duration<double, std::milli>(clk::now() - it->second).count());
      } else {
        ++(ev.has_order_rejected() ? rejected : cancelled);
      }
    }
    cv.notify_all();
    if (on_end) on_end();
    return true;
  }
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

runtime_config config(const options& o, const std::string& sub) {
  runtime_config cfg;
  cfg.data_dir = o.dir + "/" + sub;
  cfg.sync = o.no_sync ? durability::no_sync : durability::full_sync;
  cfg.limits.pending_per_entity_max = 16'384; // hot SKUs queue deep
  cfg.saga.enabled = true;
  return cfg;
}

struct phase_result {
  double seconds = 0, per_s = 0, p50 = 0, p99 = 0;
  uint64_t delivered = 0, rejected = 0, cancelled = 0, commands = 0, retries = 0;
};

// What a phase ends with: elapsed time since t0, outcomes and place→delivered latencies.
phase_result settled(finish_line& fl, clk::time_point t0) {
  phase_result r;
  r.seconds = std::chrono::duration<double>(clk::now() - t0).count();
  std::lock_guard<std::mutex> g{fl.mu};
  r.delivered = fl.delivered;
  r.rejected = fl.rejected;
  r.cancelled = fl.cancelled;
  r.p50 = percentile(fl.latencies_ms, 0.50);
  r.p99 = percentile(fl.latencies_ms, 0.99);
  return r;
}

phase_result closed_loop(const options& o) {
  auto rt = std::move(*runtime::start(config(o, "closed")));
  const int skus = o.skus;
  for (int s = 0; s < skus; ++s)
    restock(*rt, fmt::format("SKU-{}", s), 1'000'000);
  finish_line fl;
  std::atomic<uint64_t> started{0};
  auto place_one = [&] {
    uint64_t n = started++;
    if (n >= o.orders) return;
    auto t = clk::now();
    rt->submit_order(place_cmd(fmt::format("SKU-{}", n % skus)), fmt::format("b-{}", n),
                     [&fl, t](outcome out) {
                       if (!out.ok()) {
                         fmt::print(stderr, "place failed: {} {}\n", out.code, out.message);
                         return;
                       }
                       std::lock_guard<std::mutex> g{fl.mu};
                       fl.placed_at.emplace(out.entity_id, t);
                     });
  };
  fl.on_end = place_one;
  auto sub = rt->subscribe(
      0, [&](const feed_item& i) { return fl.on_item(i); }, std::chrono::milliseconds{1});
  auto t0 = clk::now();
  for (size_t i = 0; i < o.window; ++i)
    place_one();
  {
    std::unique_lock<std::mutex> lock{fl.mu};
    fl.cv.wait(lock, [&] { return fl.delivered + fl.rejected + fl.cancelled >= o.orders; });
  }
  sub->cancel();
  auto r = settled(fl, t0);
  r.per_s = static_cast<double>(r.delivered) / r.seconds;
  auto ss = rt->saga_stats();
  r.commands = ss.commands;
  r.retries = ss.retries;
  rt->stop();
  return r;
}

phase_result flash_sale(const options& o) {
  auto rt = std::move(*runtime::start(config(o, "flash")));
  restock(*rt, "HOT", o.flash_stock);
  finish_line fl;
  auto sub = rt->subscribe(
      0, [&](const feed_item& i) { return fl.on_item(i); }, std::chrono::milliseconds{1});
  auto t0 = clk::now();
  for (uint64_t n = 0; n < o.flash; ++n) {
    auto t = clk::now();
    rt->submit_order(place_cmd("HOT"), fmt::format("f-{}", n), [&fl, t](outcome out) {
      if (!out.ok()) return;
      std::lock_guard<std::mutex> g{fl.mu};
      fl.placed_at.emplace(out.entity_id, t);
    });
  }
  {
    std::unique_lock<std::mutex> lock{fl.mu};
    while (!fl.cv.wait_for(lock, std::chrono::seconds{5},
                           [&] { return fl.delivered + fl.rejected + fl.cancelled >= o.flash; })) {
      auto ss = rt->saga_stats();
      fmt::print("  flash sale: {} of {} settled; saga: {} events, {} commands, {} retries, {} "
                 "stuck, offset {}\n",
                 fl.delivered + fl.rejected + fl.cancelled, o.flash, ss.events, ss.commands,
                 ss.retries, ss.stuck, ss.low_water);
    }
  }
  sub->cancel();
  auto r = settled(fl, t0);
  r.per_s = static_cast<double>(o.flash) / r.seconds;
  r.commands = rt->saga_stats().commands;
  rt->stop();
  return r;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : "0"; };
    if (a == "--dir")
      o.dir = next();
    else if (a == "--orders")
      o.orders = std::strtoull(next(), nullptr, 10);
    else if (a == "--window")
      o.window = std::strtoull(next(), nullptr, 10);
    else if (a == "--flash")
      o.flash = std::strtoull(next(), nullptr, 10);
    else if (a == "--flash-stock")
      o.flash_stock = std::strtoll(next(), nullptr, 10);
    else if (a == "--skus")
      o.skus = std::max(1, std::atoi(next()));
    else if (a == "--no-sync")
      o.no_sync = true;
    else {
      fmt::print(stderr, "usage: saga_bench [--dir DIR] [--orders N] [--window W] [--skus K] "
                         "[--flash N] [--flash-stock S] [--no-sync]\n");
      return 2;
    }
  }
  bool own_dir = o.dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/ordo-saga-bench-XXXXXX";
    if (!mkdtemp(tmpl)) return 1;
    o.dir = tmpl;
  }
  fmt::print("saga_bench: {} sync, 2 CAF workers, simulated services at zero latency\n",
             o.no_sync ? "no" : "full");
  auto c = closed_loop(o);
  fmt::print(
      "closed loop: {} sagas ({} in progress, {} SKUs) delivered in {:.2f} s = {:.0f} sagas/s; "
      "place→delivered p50 {:.1f} ms, p99 {:.1f} ms; {} saga commands, {} retries\n",
      c.delivered, o.window, o.skus, c.seconds, c.per_s, c.p50, c.p99, c.commands, c.retries);
  auto f = flash_sale(o);
  fmt::print("flash sale: {} orders for {} units settled in {:.2f} s = {:.0f} orders/s ({} "
             "delivered, {} rejected, {} cancelled); delivered p50 {:.1f} ms, p99 {:.1f} ms\n",
             o.flash, o.flash_stock, f.seconds, f.per_s, f.delivered, f.rejected, f.cancelled,
             f.p50, f.p99);
  fmt::print("{{\"bench\":\"saga\",\"sync\":\"{}\",\"sagas\":{},\"window\":{},"
             "\"sagas_per_s\":{:.0f},\"p50_ms\":{:.2f},\"p99_ms\":{:.2f},"
             "\"flash_orders\":{},\"flash_stock\":{},\"flash_seconds\":{:.2f},"
             "\"flash_orders_per_s\":{:.0f},\"flash_delivered\":{},\"flash_rejected\":{}}}\n",
             o.no_sync ? "none" : "full", c.delivered, o.window, c.per_s, c.p50, c.p99, o.flash,
             o.flash_stock, f.seconds, f.per_s, f.delivered, f.rejected);
  if (own_dir) std::filesystem::remove_all(o.dir);
  return 0;
}
