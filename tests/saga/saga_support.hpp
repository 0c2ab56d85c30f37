#pragma once
// Helpers for saga tests: the real runtime with the saga on, a shared simulated gateway (it
// outlives restarts, like a real one), and waits for orders and stock to settle.
#include <functional>
#include <set>
#include <thread>
#include <vector>

#include "ordo/payment_gateway.hpp"
#include "actors/test_runtime.hpp"

namespace ordo::test {

inline runtime_config saga_config_in(const temp_dir& d,
                                     std::shared_ptr<saga::payment_gateway> gateway) {
  auto cfg = config_in(d);
  cfg.saga.enabled = true;
  cfg.saga.gateway = std::move(gateway);
  return cfg;
}

/// Restocks `sku` and gives it the price of record the tests' orders use (1000 EUR minor).
inline void stock(runtime& rt, const std::string& sku, int64_t qty, int64_t unit_minor = 1000) {
  v1::InventoryCommand c;
  c.set_sku(sku);
  c.mutable_restock()->set_quantity(qty);
  auto o = wait(rt.submit_inventory(c, "stock-" + sku + "-" + std::to_string(qty)));
  REQUIRE_MESSAGE(o.ok(), o.code << " " << o.message);
  c.mutable_set_price()->mutable_price()->set_amount_minor(unit_minor);
  c.mutable_set_price()->mutable_price()->set_currency("EUR");
  o = wait(rt.submit_inventory(c, "price-" + sku + "-" + std::to_string(unit_minor)));
  REQUIRE_MESSAGE(o.ok(), o.code << " " << o.message);
}

/// PlaceOrder with lines (sku, qty) at 1000 per unit.
inline v1::OrderCommand place_lines(const std::vector<std::pair<std::string, int64_t>>& lines) {
  auto c = place(lines.at(0).first, lines.at(0).second, 1000);
  for (size_t i = 1; i < lines.size(); ++i) {
    auto* l = c.mutable_place_order()->add_lines();
    l->set_sku(lines[i].first);
    l->set_quantity(lines[i].second);
    *l->mutable_unit_price() = eur(1000);
  }
  return c;
}

/// Polls until `done` holds or `timeout` passes; returns whether it held.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return done();
}

inline v1::OrderStatus status_of(runtime& rt, const std::string& id) {
  auto st = rt.order(id);
  return st ? st->status() : v1::ORDER_STATUS_UNSPECIFIED;
}

/// Waits for the order to reach `want`; fails the test with the status it is in otherwise.
inline v1::OrderState await_status(runtime& rt, const std::string& id, v1::OrderStatus want,
                                   std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
  bool ok = eventually([&] { return status_of(rt, id) == want; }, timeout);
  auto st = rt.order(id);
  REQUIRE(st);
  REQUIRE_MESSAGE(ok, "order " << id << " is " << v1::OrderStatus_Name(st->status())
                               << ", expected " << v1::OrderStatus_Name(want));
  return *st;
}

/// Waits until the SKU has no reservations and `on_hand` units; returns its state.
inline v1::InventoryState await_stock(runtime& rt, const std::string& sku, int64_t on_hand) {
  eventually([&] {
    auto s = rt.inventory(sku);
    return s && s->reserved_total() == 0 && s->on_hand() == on_hand;
  });
  auto s = rt.inventory(sku);
  REQUIRE(s);
  CHECK(s->reserved_total() == 0);
  CHECK(s->on_hand() == on_hand);
  return *s;
}

/// Waits until the saga has handled every event in the feed (its low-water mark is the head).
inline void await_saga_idle(runtime& rt) {
  bool idle = eventually([&] {
    auto feed = rt.read_feed(rt.saga_stats().low_water, 1);
    return feed && feed->empty();
  });
  CHECK(idle);
}

} // namespace ordo::test
