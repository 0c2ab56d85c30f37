// Randomised properties of one sku's inventory. Replay a failure with ORDO_SEED=<n>.
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <google/protobuf/util/message_differencer.h>

#include "domain/inventory.hpp"
#include "domain/limits.hpp"
#include "support/seed.hpp"

namespace {

using namespace ordo;
using google::protobuf::util::MessageDifferencer;

v1::Money price(int64_t minor) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency("EUR");
  return m;
}

// A SKU with a price of record, as every sellable SKU has.
v1::InventoryState priced_sku(int64_t minor = 100) {
  v1::InventoryCommand c;
  c.set_sku("sku-1");
  *c.mutable_set_price()->mutable_price() = price(minor);
  return domain::replay(domain::decide({}, c, 0).events);
}

struct inventory_gen {
  std::mt19937_64 rng;
  explicit inventory_gen(uint64_t seed) : rng(seed) {}

  int64_t between(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }

  // Few orders, small numbers and two prices so reservations collide, run out, meet a
  // changed price and get refused.
  v1::InventoryCommand command() {
    v1::InventoryCommand c;
    c.set_sku("sku-1");
    const auto order = fmt::format("o-{}", between(0, 5));
    switch (between(0, 10)) {
    case 0:
    case 1:
    case 2:
      c.mutable_reserve()->set_order_id(order);
      c.mutable_reserve()->set_quantity(between(1, 30));
      *c.mutable_reserve()->mutable_unit_price() = price(between(0, 9) == 0 ? 200 : 100);
      break;
    case 10:
      *c.mutable_set_price()->mutable_price() = price(between(0, 1) == 0 ? 100 : 200);
      break;
    case 3:
    case 4:
      c.mutable_release()->set_order_id(order);
      break;
    case 5:
    case 6:
      c.mutable_commit()->set_order_id(order);
      break;
    case 7:
      c.mutable_restock()->set_quantity(between(1, 60));
      break;
    default: {
      int64_t delta = between(-40, 40);
      c.mutable_adjust()->set_delta(delta == 0 ? 1 : delta);
      c.mutable_adjust()->set_reason("cycle count");
    }
    }
    return c;
  }
};

struct inventory_run {
  v1::InventoryState live;
  std::vector<v1::InventoryEvent> events;
};

} // namespace

TEST_SUITE("inventory_properties") {

  TEST_CASE("stock is never negative and never oversold") {
    const uint64_t seed = ordo::test::seed_for("inventory_properties/invariants");
    inventory_gen g(seed);
    const int runs = ordo::test::runs_or(10'000);
    int insufficient = 0, below_reserved = 0, mismatch = 0;
    for (int run = 0; run < runs; ++run) {
      v1::InventoryState s = priced_sku();
      for (int i = 0; i < 30; ++i) {
        const auto d = domain::decide(s, g.command(), i);
        if (d.rejection && d.rejection->code() == v1::REJECTION_CODE_INSUFFICIENT_STOCK)
          ++insufficient;
        if (d.rejection && d.rejection->code() == v1::REJECTION_CODE_BELOW_RESERVED)
          ++below_reserved;
        if (d.rejection && d.rejection->code() == v1::REJECTION_CODE_PRICE_MISMATCH)
          ++mismatch;
        s = domain::replay(d.events, std::move(s));
        const auto where = fmt::format("ORDO_SEED={} run {} step {}", seed, run, i);
        REQUIRE_MESSAGE(s.on_hand() >= 0, where);
        REQUIRE_MESSAGE(s.reserved_total() >= 0, where);
        REQUIRE_MESSAGE(s.reserved_total() <= s.on_hand(), where);
        int64_t sum = 0;
        for (const auto& [order, qty] : s.reservations())
          sum += qty;
        REQUIRE_MESSAGE(sum == s.reserved_total(), where);
      }
    }
    // The generator really pushes against both limits.
    CHECK(insufficient > 0);
    CHECK(below_reserved > 0);
    CHECK(mismatch > 0);
  }

  TEST_CASE("reserve, release and commit are idempotent per order id") {
    const uint64_t seed = ordo::test::seed_for("inventory_properties/idempotent");
    inventory_gen g(seed);
    const int runs = ordo::test::runs_or(10'000);
    int checked = 0;
    for (int run = 0; run < runs; ++run) {
      v1::InventoryState s = priced_sku();
      for (int i = 0; i < 30; ++i) {
        const auto c = g.command();
        const auto d = domain::decide(s, c, i);
        s = domain::replay(d.events, std::move(s));
        if (!d.accepted() || c.has_restock() || c.has_adjust()) continue;
        if (c.has_reserve() && d.events.empty()) continue; // a repeat: price not re-checked
        // The same business command again: accepted, nothing new.
        const auto again = domain::decide(s, c, i);
        const auto where = fmt::format("ORDO_SEED={} run {} step {}", seed, run, i);
        REQUIRE_MESSAGE(again.accepted(), where);
        REQUIRE_MESSAGE(again.events.empty(), where);
        ++checked;
      }
    }
    CHECK(checked > runs);
  }

  TEST_CASE("replay (and snapshot plus tail) equals the live state") {
    const uint64_t seed = ordo::test::seed_for("inventory_properties/replay");
    inventory_gen g(seed);
    const int runs = ordo::test::runs_or(10'000);
    for (int run = 0; run < runs; ++run) {
      inventory_run r;
      {
        v1::InventoryCommand c;
        c.set_sku("sku-1");
        *c.mutable_set_price()->mutable_price() = price(100);
        r.events = domain::decide({}, c, 99).events;
        r.live = domain::replay(r.events);
      }
      for (int i = 0; i < 30; ++i) {
        const auto d = domain::decide(r.live, g.command(), 100 + i);
        for (const auto& e : d.events) {
          r.live = domain::evolve(std::move(r.live), e);
          r.events.push_back(e);
        }
      }
      const auto where = fmt::format("ORDO_SEED={} run {}", seed, run);
      const auto replayed = domain::replay(r.events);
      domain::check_invariants(replayed, /*deep=*/true);
      REQUIRE_MESSAGE(MessageDifferencer::Equals(replayed, r.live), where);
      const auto cut =
          static_cast<std::size_t>(g.between(0, static_cast<int64_t>(r.events.size())));
      std::string bytes;
      REQUIRE(domain::replay({r.events.begin(), r.events.begin() + cut}).SerializeToString(&bytes));
      v1::InventoryState snapshot;
      REQUIRE(snapshot.ParseFromString(bytes));
      const auto restored = domain::replay({r.events.begin() + cut, r.events.end()}, snapshot);
      REQUIRE_MESSAGE(MessageDifferencer::Equals(restored, r.live), where);
    }
  }

  TEST_CASE("regression guards: conflict, release of nothing, commit without reservation") {
    v1::InventoryState s = priced_sku();
    v1::InventoryCommand c;
    c.set_sku("sku-1");
    c.mutable_restock()->set_quantity(10);
    s = domain::replay(domain::decide(s, c, 1).events, s);
    *c.mutable_reserve()->mutable_unit_price() = price(100);
    c.mutable_reserve()->set_order_id("o-1");
    c.mutable_reserve()->set_quantity(4);
    s = domain::replay(domain::decide(s, c, 2).events, s);
    CHECK(s.reserved_total() == 4);
    c.mutable_reserve()->set_quantity(5);
    CHECK(domain::decide(s, c, 3).rejection->code() == v1::REJECTION_CODE_RESERVATION_CONFLICT);
    c.mutable_reserve()->set_order_id("o-2");
    c.mutable_reserve()->set_quantity(7);
    CHECK(domain::decide(s, c, 3).rejection->code() == v1::REJECTION_CODE_INSUFFICIENT_STOCK);
    c.mutable_release()->set_order_id("o-9");
    const auto nothing = domain::decide(s, c, 3);
    CHECK(nothing.accepted());
    CHECK(nothing.events.empty());
    c.mutable_commit()->set_order_id("o-9");
    CHECK(domain::decide(s, c, 3).rejection->code() == v1::REJECTION_CODE_NOT_RESERVED);
    c.mutable_commit()->set_order_id("o-1");
    s = domain::replay(domain::decide(s, c, 4).events, s);
    CHECK(s.on_hand() == 6);
    CHECK(s.reserved_total() == 0);
    c.set_sku("sku-2");
    CHECK(domain::decide(s, c, 5).rejection->code() == v1::REJECTION_CODE_WRONG_ENTITY);
  }

} // TEST_SUITE

TEST_SUITE("inventory_properties") {
  TEST_CASE("commit memory is bounded; the newest commits stay idempotent; replay agrees") {
    const int max = ordo::domain::limits::committed_remembered_max;
    const int orders = max + 10;
    v1::InventoryState live;
    std::vector<v1::InventoryEvent> log;
    v1::InventoryCommand set_price;
    set_price.set_sku("sku-1");
    *set_price.mutable_set_price()->mutable_price() = price(100);
    auto apply = [&](const v1::InventoryCommand& c) {
      auto d = domain::decide(live, c, 1'000);
      for (const auto& e : d.events) {
        live = domain::evolve(std::move(live), e);
        log.push_back(e);
      }
      return d;
    };
    v1::InventoryCommand restock;
    restock.set_sku("sku-1");
    restock.mutable_restock()->set_quantity(orders);
    REQUIRE(apply(restock).accepted());
    REQUIRE(apply(set_price).accepted());
    for (int i = 0; i < orders; ++i) {
      v1::InventoryCommand r;
      r.set_sku("sku-1");
      *r.mutable_reserve()->mutable_unit_price() = price(100);
      r.mutable_reserve()->set_order_id(fmt::format("o-{}", i));
      r.mutable_reserve()->set_quantity(1);
      REQUIRE(apply(r).accepted());
      v1::InventoryCommand c;
      c.set_sku("sku-1");
      c.mutable_commit()->set_order_id(fmt::format("o-{}", i));
      REQUIRE(apply(c).accepted());
    }
    CHECK(live.committed_size() == max);
    CHECK(live.committed_order_size() == max);
    CHECK(live.committed_total() == orders);
    CHECK(live.on_hand() == 0);
    domain::check_invariants(live, /*deep=*/true);
    // A remembered commit repeats as a no-op; a forgotten one is refused, never applied twice.
    v1::InventoryCommand newest;
    newest.set_sku("sku-1");
    newest.mutable_commit()->set_order_id(fmt::format("o-{}", orders - 1));
    auto again = domain::decide(live, newest, 1'000);
    CHECK(again.accepted());
    CHECK(again.events.empty());
    v1::InventoryCommand oldest = newest;
    oldest.mutable_commit()->set_order_id("o-0");
    auto old = domain::decide(live, oldest, 1'000);
    REQUIRE_FALSE(old.accepted());
    CHECK(old.rejection->code() == v1::REJECTION_CODE_NOT_RESERVED);
    CHECK(MessageDifferencer::Equals(domain::replay(log), live));
  }
}
