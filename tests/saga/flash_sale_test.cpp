// Flash sale: many orders race for one SKU with little stock, placed by several concurrent
// submitters, with two restarts in the middle. At the end exactly `stock` orders are
// delivered, every other one is rejected (or cancelled) with nothing left reserved, and the
// SKU was never oversold (the inventory actor asserts reserved <= on_hand on every event).
#include <atomic>
#include <shared_mutex>

#include "saga_support.hpp"
#include "actors/testing/simulated_gateway.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

constexpr int orders_total = 20'000;
constexpr int64_t stock_total = 1'000;
constexpr int submitters = 8;

} // namespace

TEST_SUITE("saga_flash_sale") {
  TEST_CASE("20,000 orders race for 1,000 units across two restarts") {
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto cfg = saga_config_in(dir, gw);
    cfg.limits.pending_per_entity_max = 8'192;
    std::shared_mutex rt_mu; // shared: submitting; exclusive: restarting
    auto rt = start(cfg);
    stock(*rt, "HOT", stock_total);
    std::vector<std::string> ids(orders_total);
    std::atomic<int> next{0}, placed{0};
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < submitters; ++t)
      threads.emplace_back([&] {
        for (int i = next++; i < orders_total; i = next++) {
          auto cmd = place_lines({{"HOT", 1}});
          for (;;) { // same key until it is accepted: a retry never places twice
            std::future<outcome> f;
            {
              std::shared_lock<std::shared_mutex> g{rt_mu};
              f = rt->submit_order(cmd, "flash-" + std::to_string(i));
            }
            auto o = f.get();
            if (o.ok()) {
              ids[static_cast<size_t>(i)] = o.entity_id;
              placed++;
              break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds{2});
          }
        }
      });
    for (int restart = 1; restart <= 2; ++restart) {
      eventually([&] { return placed.load() >= restart * orders_total / 3; });
      std::unique_lock<std::shared_mutex> g{rt_mu};
      rt->stop();
      rt.reset();
      rt = start(cfg);
    }
    for (auto& t : threads)
      t.join();
    MESSAGE(
        "placed " << orders_total << " orders in "
                  << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
                  << " s");
    // Wait for every order to settle; count the outcomes.
    std::map<v1::OrderStatus, int> by_status;
    bool settled = eventually(
        [&] {
          by_status.clear();
          for (auto& id : ids)
            ++by_status[status_of(*rt, id)];
          return by_status[v1::ORDER_STATUS_DELIVERED] + by_status[v1::ORDER_STATUS_REJECTED] +
                     by_status[v1::ORDER_STATUS_CANCELLED] ==
                 orders_total;
        },
        std::chrono::seconds{90});
    MESSAGE("settled after "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s: " << by_status[v1::ORDER_STATUS_DELIVERED] << " delivered, "
            << by_status[v1::ORDER_STATUS_REJECTED] << " rejected, "
            << by_status[v1::ORDER_STATUS_CANCELLED] << " cancelled");
    CHECK(settled);
    CHECK(by_status[v1::ORDER_STATUS_DELIVERED] == stock_total);
    auto inv = await_stock(*rt, "HOT", 0);
    CHECK(inv.committed_total() == stock_total);
    CHECK(inv.reservations_size() == 0);
    CHECK(gw->counts().captured == static_cast<uint64_t>(stock_total));
    CHECK(gw->counts().captured_minor == stock_total * 1000);
    rt->stop();
  }
}
