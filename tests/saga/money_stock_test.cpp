// Money and stock through the whole runtime and saga (CAF + LMDB, simulated gateway and
// warehouse): what an outsider did from outside, with the stock ledger audited afterwards.
//
// The stock ledger (the checker's oversell rule, extended to returns): for every SKU,
//   on_hand = stocked - shipped + returned,   returned by an order <= what it shipped,
// so refunds can never create stock, however many there are.
#include <map>
#include <random>

#include "saga_support.hpp"
#include "support/seed.hpp"
#include "actors/testing/simulated_gateway.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

std::string place_ok(runtime& rt, const v1::OrderCommand& c, const std::string& key) {
  auto o = wait(rt.submit_order(c, key));
  REQUIRE_MESSAGE(o.ok(), o.code << " " << o.message);
  return o.entity_id;
}

v1::OrderCommand refund_of(const std::string& id, int64_t minor, bool restock) {
  auto r = for_order(id);
  *r.mutable_refund_order()->mutable_amount() = eur(minor);
  r.mutable_refund_order()->set_reason("partial");
  r.mutable_refund_order()->set_restock(restock);
  return r;
}

// The ledger of one SKU over `orders`: stocked - shipped + returned, each order returning at
// most what it took. Fails the test naming the order or the difference.
void check_stock_ledger(runtime& rt, const std::string& sku, int64_t stocked,
                        const std::vector<std::string>& orders) {
  int64_t shipped = 0, returned = 0;
  for (const auto& id : orders) {
    auto st = rt.order(id);
    REQUIRE(st);
    int64_t took = 0;
    if (st->captured_minor() > 0) // shipped: its stock was committed
      for (const auto& l : st->lines())
        if (l.sku() == sku) took += l.quantity();
    auto it = st->restocked().find(sku);
    const int64_t back = it == st->restocked().end() ? 0 : it->second;
    CHECK_MESSAGE(back <= took, "order ", id, " returned ", back, " of ", sku, " but took ", took);
    shipped += took;
    returned += back;
  }
  await_stock(rt, sku, stocked - shipped + returned);
}

} // namespace

TEST_SUITE("saga_money_stock") {
  TEST_CASE("partial refunds with restock return the order's units once, not once per refund") {
    // The outsider's case: 5 units delivered, then three refunds of 1.00 with restock: true.
    // Before the fix every refund restocked all 5 lines again (on_hand 95 -> 110).
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto rt = start(saga_config_in(dir, gw));
    stock(*rt, "SKU-A", 100);
    auto id = place_ok(*rt, place("SKU-A", 5, 1000), "five");
    await_status(*rt, id, v1::ORDER_STATUS_DELIVERED);
    await_stock(*rt, "SKU-A", 95);
    for (int i = 0; i < 3; ++i) {
      auto o = wait(rt->submit_order(refund_of(id, 100, true), fmt::format("refund-{}", i)));
      REQUIRE_MESSAGE(o.ok(), o.code << " " << o.message);
    }
    await_saga_idle(*rt);
    check_stock_ledger(*rt, "SKU-A", 100, {id});
    CHECK(rt->inventory("SKU-A")->on_hand() == 100); // 95 + the 5 returned, once
    CHECK(rt->saga_stats().unexpected == 0);
    rt->stop();
  }

  TEST_CASE("random refund sequences keep every SKU's ledger") {
    const uint64_t seed = seed_for("saga_money_stock/refunds");
    std::mt19937_64 rng(seed);
    auto between = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto rt = start(saga_config_in(dir, gw));
    stock(*rt, "SKU-A", 1000);
    stock(*rt, "SKU-B", 1000);
    std::vector<std::string> ids;
    for (int i = 0; i < 12; ++i)
      ids.push_back(place_ok(
          *rt, place_lines({{"SKU-A", between(1, 4)}, {"SKU-B", between(1, 3)}}),
          fmt::format("o-{}", i)));
    for (const auto& id : ids)
      await_status(*rt, id, v1::ORDER_STATUS_DELIVERED);
    int accepted = 0;
    for (int i = 0; i < 60; ++i) {
      const auto& id = ids[static_cast<size_t>(between(0, 11))];
      auto c = refund_of(id, between(1, 400), between(0, 3) > 0);
      if (c.refund_order().restock() && between(0, 1) == 0) {
        auto* l = c.mutable_refund_order()->add_restock_lines();
        l->set_sku(between(0, 1) ? "SKU-A" : "SKU-B");
        l->set_quantity(between(1, 3));
      }
      accepted += wait(rt->submit_order(c, fmt::format("r-{}", i))).ok() ? 1 : 0;
    }
    CAPTURE(seed);
    CHECK(accepted > 10);
    await_saga_idle(*rt);
    check_stock_ledger(*rt, "SKU-A", 1000, ids);
    check_stock_ledger(*rt, "SKU-B", 1000, ids);
    CHECK(rt->saga_stats().unexpected == 0);
    rt->stop();
  }

  TEST_CASE("an order at another price than the SKU's is rejected and its stock released") {
    // The outsider's case: 10,000 units at 0.01. The SKU's price of record is 1000.
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto rt = start(saga_config_in(dir, gw));
    stock(*rt, "SKU-A", 20'000);
    stock(*rt, "SKU-B", 10);
    auto cheap = place("SKU-B", 1, 1000);
    auto* l = cheap.mutable_place_order()->add_lines();
    l->set_sku("SKU-A");
    l->set_quantity(10'000);
    *l->mutable_unit_price() = eur(1);
    auto id = place_ok(*rt, cheap, "cheap");
    auto st = await_status(*rt, id, v1::ORDER_STATUS_REJECTED);
    CHECK(st.close_code() == v1::REJECTION_CODE_PRICE_MISMATCH);
    CHECK(st.close_reason() ==
          "reserve.unit_price: sku \"SKU-A\" sent 1 EUR, current price 1000 EUR");
    await_saga_idle(*rt);
    await_stock(*rt, "SKU-A", 20'000);
    await_stock(*rt, "SKU-B", 10); // its reservation was released
    CHECK(gw->counts().calls == 0);
    // A SKU nobody priced cannot be sold at all.
    v1::InventoryCommand restock;
    restock.set_sku("SKU-N");
    restock.mutable_restock()->set_quantity(5);
    REQUIRE(wait(rt->submit_inventory(restock, "unpriced")).ok());
    auto none = place_ok(*rt, place("SKU-N", 1, 1000), "unpriced-order");
    CHECK(await_status(*rt, none, v1::ORDER_STATUS_REJECTED).close_code() ==
          v1::REJECTION_CODE_PRICE_NOT_SET);
    rt->stop();
  }
}
