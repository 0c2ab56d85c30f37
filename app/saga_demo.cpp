#include "app/saga_demo.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/core.h>

namespace ordo::app {

namespace {

constexpr int sku_count = 64; // a hot SKU serializes its commands: spread them
constexpr int64_t unit_price_minor = 1'250; // every SKU's price of record

v1::OrderCommand make_order(uint64_t n) {
  v1::OrderCommand cmd;
  auto* p = cmd.mutable_place_order();
  p->set_customer_id(fmt::format("customer-{}", n % 100'000));
  p->set_currency("EUR");
  for (uint64_t i = 0; i <= n % 2; ++i) {
    auto* l = p->add_lines();
    l->set_sku(fmt::format("SKU-{}", (n + i) % sku_count));
    l->set_quantity(1 + static_cast<int64_t>(n % 3));
    l->mutable_unit_price()->set_amount_minor(unit_price_minor);
    l->mutable_unit_price()->set_currency("EUR");
  }
  set_demo_address(*p->mutable_shipping_address());
  return cmd;
}

bool settled(v1::OrderStatus s) {
  return s == v1::ORDER_STATUS_DELIVERED || s == v1::ORDER_STATUS_REJECTED ||
         s == v1::ORDER_STATUS_CANCELLED || s == v1::ORDER_STATUS_REFUNDED;
}

} // namespace

demo_result run_saga_demo(runtime& rt, const demo_options& opt) {
  demo_result res;
  auto t0 = std::chrono::steady_clock::now();
  // Stock enough for every order: each takes at most 2 lines of 3 units.
  for (int s = 0; s < sku_count; ++s) {
    v1::InventoryCommand restock;
    restock.set_sku(fmt::format("SKU-{}", s));
    restock.mutable_restock()->set_quantity(static_cast<int64_t>(opt.orders) * 6 + 1);
    auto o = rt.submit_inventory(restock, fmt::format("demo-{}-stock-{}", opt.seed, s)).get();
    if (!o.ok()) res.errors.push_back(fmt::format("restock: {} {}", o.code, o.message));
    v1::InventoryCommand price; // the price every demo line carries
    price.set_sku(restock.sku());
    price.mutable_set_price()->mutable_price()->set_amount_minor(unit_price_minor);
    price.mutable_set_price()->mutable_price()->set_currency("EUR");
    o = rt.submit_inventory(price, fmt::format("demo-{}-price-{}", opt.seed, s)).get();
    if (!o.ok()) res.errors.push_back(fmt::format("price: {} {}", o.code, o.message));
  }
  std::mutex mu;
  std::atomic<uint64_t> answered{0};
  for (uint64_t n = 0; n < opt.orders; ++n) {
    while (n - answered.load() >= opt.concurrent)
      std::this_thread::sleep_for(std::chrono::microseconds{200});
    rt.submit_order(make_order(n), fmt::format("demo-{}-place-{}", opt.seed, n), [&](outcome o) {
      std::lock_guard<std::mutex> g{mu};
      if (o.ok())
        res.order_ids.push_back(o.entity_id);
      else if (res.errors.size() < 10)
        res.errors.push_back(
            fmt::format("place: {} {} {}", to_string(o.status), o.code, o.message));
      if (!o.ok()) ++res.failed;
      answered++;
    });
  }
  while (answered.load() < opt.orders)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  fmt::print("  {} orders placed in {:.2f} s; the saga takes it from here\n", res.order_ids.size(),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  // Wait until every order has settled, re-reading only the unsettled ones (bounded).
  std::vector<std::string> open = res.order_ids;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{120};
  auto last_print = std::chrono::steady_clock::now();
  while (!open.empty() && std::chrono::steady_clock::now() < deadline) {
    std::vector<std::string> still;
    for (const auto& id : open) {
      auto st = rt.order(id);
      if (!st) {
        res.errors.push_back(fmt::format("read {}: {}", id, to_string(st.error())));
        continue;
      }
      if (!settled(st->status())) {
        still.push_back(id);
        continue;
      }
      ++res.orders_done;
      if (st->status() == v1::ORDER_STATUS_DELIVERED)
        ++res.delivered;
      else if (st->status() == v1::ORDER_STATUS_REJECTED)
        ++res.rejected;
      else
        ++res.cancelled;
    }
    open.swap(still);
    auto now = std::chrono::steady_clock::now();
    if (!open.empty() && now - last_print > std::chrono::seconds{1}) {
      last_print = now;
      fmt::print("  {:>8} orders settled, {:>8} in progress\n", res.orders_done, open.size());
    }
    if (!open.empty()) std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  if (!open.empty())
    res.errors.push_back(fmt::format("{} orders had not settled after 120 s", open.size()));
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.commands = rt.stats().answered;
  return res;
}

} // namespace ordo::app
