// Money and stock rules an outsider broke from outside: refunds that created stock, prices
// chosen by the client, merchants changing each other's SKUs. Each case is named after what
// it caught. Replay a random failure with ORDO_SEED=<n>.
#include <map>
#include <random>
#include <string>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "domain/inventory.hpp"
#include "domain/limits.hpp"
#include "domain/validation.hpp"
#include "order_fixtures.hpp"
#include "support/seed.hpp"

namespace {

using namespace ordo;
using namespace ordo::test;

v1::Money eur(int64_t minor) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency("EUR");
  return m;
}

// The units each RestockRequested event in `events` returns, per SKU.
std::map<std::string, int64_t> restocks_in(const std::vector<v1::OrderEvent>& events) {
  std::map<std::string, int64_t> out;
  for (const auto& e : events)
    if (e.has_restock_requested())
      for (const auto& l : e.restock_requested().lines())
        out[l.sku()] += l.quantity();
  return out;
}

std::map<std::string, int64_t> ordered_in(const v1::OrderState& s) {
  std::map<std::string, int64_t> out;
  for (const auto& l : s.lines())
    out[l.sku()] += l.quantity();
  return out;
}

v1::OrderCommand refund(int64_t minor, bool restock) {
  v1::OrderCommand c;
  c.set_order_id(fx_order_id);
  *c.mutable_refund_order()->mutable_amount() = eur(minor);
  c.mutable_refund_order()->set_reason("partial");
  c.mutable_refund_order()->set_restock(restock);
  return c;
}

struct sku_under_test {
  v1::InventoryState state;
  domain::inventory_decision apply(v1::InventoryCommand c, int64_t now = 1) {
    c.set_sku("sku-1");
    auto d = domain::decide(state, c, now);
    state = domain::replay(d.events, std::move(state));
    return d;
  }
};

v1::InventoryCommand reserve(const std::string& order, int64_t qty, int64_t unit_minor) {
  v1::InventoryCommand c;
  c.mutable_reserve()->set_order_id(order);
  c.mutable_reserve()->set_quantity(qty);
  *c.mutable_reserve()->mutable_unit_price() = eur(unit_minor);
  return c;
}

v1::InventoryCommand restock(int64_t qty, const std::string& merchant = {}) {
  v1::InventoryCommand c;
  c.mutable_restock()->set_quantity(qty);
  c.set_acting_merchant(merchant);
  return c;
}

} // namespace

TEST_SUITE("money_stock") {

  TEST_CASE("partial refunds with restock never return more than the order took") {
    // The outsider's case: 5 units delivered, three refunds of 1.00 with restock: true.
    // Before the fix each refund restocked all 5 (on_hand 95 -> 110).
    v1::PlaceOrder p = valid_place_order();
    p.clear_lines();
    auto* l = p.add_lines();
    l->set_sku("sku-a");
    l->set_quantity(5);
    *l->mutable_unit_price() = eur(1000);
    v1::OrderState o;
    auto place = valid_command(order_command_kind::place_order, o);
    *place.mutable_place_order() = p;
    o = domain::replay(domain::decide(o, place, 1).events);
    for (auto k : {order_command_kind::confirm_stock_reserved,
                   order_command_kind::payment_authorized, order_command_kind::start_fulfilment,
                   order_command_kind::mark_shipped, order_command_kind::mark_delivered}) {
      auto d = domain::decide(o, valid_command(k, o), 2);
      REQUIRE(d.accepted());
      o = domain::replay(d.events, std::move(o));
    }
    std::vector<v1::OrderEvent> all;
    for (int i = 0; i < 3; ++i) {
      auto d = domain::decide(o, refund(100, true), 3);
      REQUIRE(d.accepted());
      all.insert(all.end(), d.events.begin(), d.events.end());
      o = domain::replay(d.events, std::move(o));
    }
    CHECK(restocks_in(all)["sku-a"] == 5); // the first refund returns all 5; later ones none
    CHECK(o.restocked().at("sku-a") == 5);
    CHECK(o.refunded_minor() == 300);
    // Asking for one more unit explicitly is refused, naming the field and the numbers.
    auto more = refund(100, true);
    auto* rl = more.mutable_refund_order()->add_restock_lines();
    rl->set_sku("sku-a");
    rl->set_quantity(1);
    auto d = domain::decide(o, more, 4);
    REQUIRE_FALSE(d.accepted());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_RESTOCK_EXCEEDS_RETURNABLE);
    CHECK(d.rejection->message().find("refund_order.restock_lines[0]") != std::string::npos);
    CHECK(d.rejection->message().find("0 still returnable") != std::string::npos);
  }

  TEST_CASE("random refund sequences: restocked per SKU stays within what was ordered") {
    const uint64_t seed = seed_for("money_stock/refunds");
    std::mt19937_64 rng(seed);
    auto between = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    const int runs = runs_or(3'000);
    int refused = 0, partial_lines = 0;
    for (int run = 0; run < runs; ++run) {
      auto o = drive(path_to(order_state::delivered));
      const auto ordered = ordered_in(o);
      std::vector<v1::OrderEvent> all;
      for (int i = 0; i < 8 && o.status() == v1::ORDER_STATUS_DELIVERED; ++i) {
        const int64_t left = o.captured_minor() - o.refunded_minor();
        auto c = refund(between(1, std::max<int64_t>(1, left / 3)), between(0, 3) > 0);
        if (c.refund_order().restock() && between(0, 1) == 0) {
          for (int n = static_cast<int>(between(1, 3)); n > 0; --n) {
            auto* line = c.mutable_refund_order()->add_restock_lines();
            line->set_sku(between(0, 4) == 0 ? "sku-z" : (between(0, 1) ? "sku-a" : "sku-b"));
            line->set_quantity(between(1, 2));
          }
          ++partial_lines;
        }
        auto d = domain::decide(o, c, 5 + i);
        if (!d.accepted()) {
          ++refused;
          continue;
        }
        all.insert(all.end(), d.events.begin(), d.events.end());
        o = domain::replay(d.events, std::move(o));
        const auto where = fmt::format("ORDO_SEED={} run {} refund {}", seed, run, i);
        for (const auto& [sku, qty] : restocks_in(all)) {
          REQUIRE_MESSAGE(ordered.count(sku) == 1, where);
          REQUIRE_MESSAGE(qty <= ordered.at(sku), where);
          REQUIRE_MESSAGE(o.restocked().at(sku) == qty, where);
        }
      }
    }
    CHECK(refused > 0);       // explicit lines beyond what is left were really tried
    CHECK(partial_lines > 0); // and partial restocks
  }

  TEST_CASE("a reservation must carry the SKU's price of record") {
    sku_under_test sku;
    REQUIRE(sku.apply(restock(10)).accepted());
    auto d = sku.apply(reserve("o-1", 1, 1));
    REQUIRE_FALSE(d.accepted());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_PRICE_NOT_SET);
    CHECK(d.rejection->message().find("sku-1") != std::string::npos);

    v1::InventoryCommand price;
    *price.mutable_set_price()->mutable_price() = eur(1500);
    REQUIRE(sku.apply(price).accepted());
    CHECK(sku.state.price().amount_minor() == 1500);
    CHECK(sku.apply(price).events.empty()); // the same price again: nothing new

    // The outsider's case: 10,000 units for 0.01 — refused, naming sku, sent and current.
    d = sku.apply(reserve("o-1", 1, 1));
    REQUIRE_FALSE(d.accepted());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_PRICE_MISMATCH);
    CHECK(d.rejection->message() ==
          "reserve.unit_price: sku \"sku-1\" sent 1 EUR, current price 1500 EUR");
    auto usd = reserve("o-1", 1, 1500);
    usd.mutable_reserve()->mutable_unit_price()->set_currency("USD");
    CHECK(sku.apply(usd).rejection->code() == v1::REJECTION_CODE_PRICE_MISMATCH);
    CHECK(sku.state.reserved_total() == 0);
    CHECK(sku.apply(reserve("o-1", 2, 1500)).accepted());
    CHECK(sku.state.reserved_total() == 2);
    // A price change does not touch a reservation already made; its repeat stays a no-op.
    *price.mutable_set_price()->mutable_price() = eur(1600);
    REQUIRE(sku.apply(price).accepted());
    auto again = sku.apply(reserve("o-1", 2, 1500));
    CHECK(again.accepted());
    CHECK(again.events.empty());
    CHECK(sku.apply(reserve("o-2", 1, 1500)).rejection->code() ==
          v1::REJECTION_CODE_PRICE_MISMATCH);
  }

  TEST_CASE("lines of one SKU must agree on the unit price") {
    v1::OrderCommand c = valid_command(order_command_kind::place_order, {});
    auto* l = c.mutable_place_order()->add_lines();
    *l = c.place_order().lines(0);
    l->mutable_unit_price()->set_amount_minor(1);
    auto e = domain::validate(c);
    REQUIRE(e.has_value());
    CHECK(e->code() == v1::REJECTION_CODE_INVALID_ARGUMENT);
    CHECK(e->message().find("place_order.lines[2].unit_price") != std::string::npos);
    l->mutable_unit_price()->set_amount_minor(c.place_order().lines(0).unit_price().amount_minor());
    CHECK_FALSE(domain::validate(c).has_value());
  }

  TEST_CASE("a rejection carries its code and the inventory's words into the order") {
    auto o = drive(path_to(order_state::placed));
    v1::OrderCommand c;
    c.set_order_id(fx_order_id);
    c.mutable_reject_out_of_stock()->set_sku("sku-a");
    c.mutable_reject_out_of_stock()->set_code(v1::REJECTION_CODE_PRICE_MISMATCH);
    c.mutable_reject_out_of_stock()->set_detail("sku \"sku-a\" sent 1 EUR, current price 9 EUR");
    auto d = domain::decide(o, c, 5);
    REQUIRE(d.accepted());
    o = domain::replay(d.events, std::move(o));
    CHECK(o.status() == v1::ORDER_STATUS_REJECTED);
    CHECK(o.close_code() == v1::REJECTION_CODE_PRICE_MISMATCH);
    CHECK(o.close_reason() == "sku \"sku-a\" sent 1 EUR, current price 9 EUR");
    // An event written before codes existed reads as out of stock.
    auto old = drive(path_to(order_state::placed));
    c.mutable_reject_out_of_stock()->clear_code();
    c.mutable_reject_out_of_stock()->clear_detail();
    d = domain::decide(old, c, 5);
    REQUIRE(d.accepted());
    old = domain::replay(d.events, std::move(old));
    CHECK(old.close_code() == v1::REJECTION_CODE_INSUFFICIENT_STOCK);
    CHECK(old.close_reason() == "out of stock: sku-a");
  }

  TEST_CASE("a SKU belongs to the merchant that created it") {
    sku_under_test sku;
    auto d = sku.apply(restock(5, "m-1"));
    REQUIRE(d.accepted());
    REQUIRE(d.events.size() == 2);
    CHECK(d.events[0].has_owner_assigned());
    CHECK(sku.state.merchant_id() == "m-1");
    CHECK(sku.state.on_hand() == 5);
    CHECK(sku.apply(restock(1, "m-1")).accepted());
    // Another merchant: not found, and nothing changes.
    for (auto c : {restock(1, "m-2"), [] {
                     v1::InventoryCommand a;
                     a.mutable_adjust()->set_delta(-1);
                     a.mutable_adjust()->set_reason("theft");
                     a.set_acting_merchant("m-2");
                     return a;
                   }()}) {
      auto r = sku.apply(c);
      REQUIRE_FALSE(r.accepted());
      CHECK(r.rejection->code() == v1::REJECTION_CODE_NOT_FOUND);
    }
    v1::InventoryCommand price;
    *price.mutable_set_price()->mutable_price() = eur(1);
    price.set_acting_merchant("m-2");
    CHECK(sku.apply(price).rejection->code() == v1::REJECTION_CODE_NOT_FOUND);
    CHECK(sku.state.on_hand() == 6);
    CHECK_FALSE(sku.state.has_price());
    // Only operations assign an owner.
    v1::InventoryCommand assign;
    assign.mutable_assign_owner()->set_merchant_id("m-2");
    assign.set_acting_merchant("m-1");
    CHECK(sku.apply(assign).rejection->code() == v1::REJECTION_CODE_FORBIDDEN);
    assign.clear_acting_merchant();
    CHECK(sku.apply(assign).accepted());
    CHECK(sku.state.merchant_id() == "m-2");
    CHECK(sku.apply(restock(1, "m-1")).rejection->code() == v1::REJECTION_CODE_NOT_FOUND);
    // A SKU operations created is the operator's: merchants do not see it.
    sku_under_test house;
    REQUIRE(house.apply(restock(5)).accepted());
    CHECK(house.state.merchant_id().empty());
    CHECK(house.apply(restock(1, "m-1")).rejection->code() == v1::REJECTION_CODE_NOT_FOUND);
  }

} // TEST_SUITE
