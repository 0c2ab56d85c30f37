// Every path of the order saga end to end, through the real runtime (CAF + LMDB) with the
// saga on and the simulated gateway and warehouse.
#include "saga_support.hpp"
#include "actors/testing/simulated_gateway.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

std::string place_ok(runtime& rt, const v1::OrderCommand& c, const std::string& key) {
  auto o = wait(rt.submit_order(c, key));
  REQUIRE_MESSAGE(o.ok(), o.code << " " << o.message);
  return o.entity_id;
}

} // namespace

TEST_SUITE("saga_paths") {
  TEST_CASE("happy path: placed order reaches delivered, captured, stock committed") {
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto rt = start(saga_config_in(dir, gw));
    stock(*rt, "SKU-A", 10);
    stock(*rt, "SKU-B", 5);
    auto id = place_ok(*rt, place_lines({{"SKU-A", 2}, {"SKU-B", 1}, {"SKU-A", 1}}), "happy");
    auto st = await_status(*rt, id, v1::ORDER_STATUS_DELIVERED);
    CHECK(st.total_minor() == 4000);
    CHECK(st.captured_minor() == 4000);
    CHECK(st.carrier() == "SIM");
    auto a = await_stock(*rt, "SKU-A", 7);
    CHECK(a.committed_total() == 3);
    auto b = await_stock(*rt, "SKU-B", 4);
    CHECK(b.committed_total() == 1);
    await_saga_idle(*rt);
    CHECK(gw->captures_of(id) == 1);
    CHECK(gw->authorizations_of(id) == 1);
    CHECK(gw->counts().captured_minor == 4000);
    CHECK(rt->saga_stats().stuck == 0);
    CHECK(rt->saga_stats().unexpected == 0);
    rt->stop();
  }

  TEST_CASE("short SKU: the order is rejected and every reserved line released") {
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto rt = start(saga_config_in(dir, gw));
    stock(*rt, "SKU-A", 10);
    stock(*rt, "SKU-C", 10);
    stock(*rt, "SKU-B", 1);
    auto id = place_ok(*rt, place_lines({{"SKU-A", 2}, {"SKU-B", 3}, {"SKU-C", 1}}), "short");
    auto st = await_status(*rt, id, v1::ORDER_STATUS_REJECTED);
    CHECK(st.close_reason().find("SKU-B") != std::string::npos); // the short SKU
    await_stock(*rt, "SKU-A", 10);
    await_stock(*rt, "SKU-B", 1);
    await_stock(*rt, "SKU-C", 10);
    await_saga_idle(*rt);
    CHECK(gw->counts().calls == 0); // no payment was ever asked for
    rt->stop();
  }

  TEST_CASE("payment declined: the order is cancelled and its stock released") {
    temp_dir dir;
    saga::simulated_gateway_options o;
    o.decline_rate = 1.0;
    auto gw = std::make_shared<saga::simulated_gateway>(o);
    auto rt = start(saga_config_in(dir, gw));
    stock(*rt, "SKU-A", 3);
    auto id = place_ok(*rt, place_lines({{"SKU-A", 3}}), "declined");
    await_status(*rt, id, v1::ORDER_STATUS_CANCELLED);
    await_stock(*rt, "SKU-A", 3);
    await_saga_idle(*rt);
    CHECK(gw->counts().declined == 1);
    CHECK(gw->captures_of(id) == 0);
    rt->stop();
  }

  TEST_CASE("customer cancels during fulfilment: stock released, authorization voided") {
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto cfg = saga_config_in(dir, gw);
    cfg.saga.warehouse_latency = std::chrono::milliseconds{2'000};
    auto rt = start(cfg);
    stock(*rt, "SKU-A", 5);
    auto id = place_ok(*rt, place_lines({{"SKU-A", 2}}), "cancel");
    await_status(*rt, id, v1::ORDER_STATUS_FULFILLING);
    auto c = for_order(id);
    c.mutable_cancel_order()->set_reason("changed-mind");
    REQUIRE(wait(rt->submit_order(c, "cancel-1")).ok());
    await_status(*rt, id, v1::ORDER_STATUS_CANCELLED);
    await_stock(*rt, "SKU-A", 5);
    CHECK(eventually([&] { return gw->voided(id); }));
    // The warehouse's late "shipped" is refused by the cancelled order: nothing captured.
    std::this_thread::sleep_for(std::chrono::milliseconds{2'200});
    CHECK(status_of(*rt, id) == v1::ORDER_STATUS_CANCELLED);
    CHECK(gw->captures_of(id) == 0);
    rt->stop();
  }

  TEST_CASE("a late authorization for a cancelled order is voided at the gateway") {
    temp_dir dir;
    saga::simulated_gateway_options o;
    o.latency = std::chrono::milliseconds{300};
    auto gw = std::make_shared<saga::simulated_gateway>(o);
    auto rt = start(saga_config_in(dir, gw));
    stock(*rt, "SKU-A", 5);
    auto id = place_ok(*rt, place_lines({{"SKU-A", 1}}), "late");
    await_status(*rt, id, v1::ORDER_STATUS_STOCK_RESERVED);
    auto c = for_order(id);
    c.mutable_cancel_order()->set_reason("too-slow");
    REQUIRE(wait(rt->submit_order(c, "cancel-late")).ok());
    await_status(*rt, id, v1::ORDER_STATUS_CANCELLED);
    CHECK(eventually([&] { return gw->authorizations_of(id) == 1 && gw->voided(id); }));
    await_stock(*rt, "SKU-A", 5);
    await_saga_idle(*rt);
    CHECK(status_of(*rt, id) == v1::ORDER_STATUS_CANCELLED);
    rt->stop();
  }

  TEST_CASE("refund after delivery: money back at the gateway, goods back in stock") {
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto rt = start(saga_config_in(dir, gw));
    stock(*rt, "SKU-A", 10);
    stock(*rt, "SKU-B", 10);
    auto id = place_ok(*rt, place_lines({{"SKU-A", 2}, {"SKU-B", 1}}), "refund");
    await_status(*rt, id, v1::ORDER_STATUS_DELIVERED);
    await_stock(*rt, "SKU-A", 8);
    auto r = for_order(id);
    *r.mutable_refund_order()->mutable_amount() = eur(3000);
    r.mutable_refund_order()->set_reason("returned");
    r.mutable_refund_order()->set_restock(true);
    auto* line = r.mutable_refund_order()->add_restock_lines();
    line->set_sku("SKU-A");
    line->set_quantity(2);
    *line->mutable_unit_price() = eur(1000);
    REQUIRE(wait(rt->submit_order(r, "refund-1")).ok());
    auto st = await_status(*rt, id, v1::ORDER_STATUS_REFUNDED);
    CHECK(st.refunded_minor() == 3000);
    await_stock(*rt, "SKU-A", 10); // the two returned units
    await_stock(*rt, "SKU-B", 9);  // not returned
    CHECK(eventually([&] { return gw->counts().refunded_minor == 3000; }));
    await_saga_idle(*rt);
    CHECK(gw->counts().refunded == 1);
    rt->stop();
  }

  TEST_CASE("overloaded answers are retried with backoff until every saga completes") {
    temp_dir dir;
    auto gw = std::make_shared<saga::simulated_gateway>();
    auto cfg = saga_config_in(dir, gw);
    cfg.in_flight_max = 4; // the saga's own commands meet a full node again and again
    auto rt = start(cfg);
    stock(*rt, "SKU-A", 1'000);
    std::vector<std::string> ids;
    for (int i = 0; i < 100; ++i) {
      for (;;) {
        auto o = wait(rt->submit_order(place_lines({{"SKU-A", 1}}), "busy-" + std::to_string(i)));
        if (o.ok()) {
          ids.push_back(o.entity_id);
          break;
        }
        REQUIRE(o.status == outcome_status::overloaded);
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
      }
    }
    for (auto& id : ids)
      await_status(*rt, id, v1::ORDER_STATUS_DELIVERED);
    await_stock(*rt, "SKU-A", 900);
    await_saga_idle(*rt);
    CHECK(rt->saga_stats().retries > 0);
    CHECK(rt->saga_stats().stuck == 0);
    CHECK(rt->stats().overloaded > 0);
    CHECK(gw->counts().captured == 100);
    rt->stop();
  }
}
