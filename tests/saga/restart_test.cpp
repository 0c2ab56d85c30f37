// Restarts injected at every step of the saga: the order is parked exactly after step k (the
// saga holds the event of that step), the runtime stops and starts again, and the order must
// still end delivered with one reservation, one authorization, one capture and one commit.
// Then the whole feed is re-handled from position 0: nothing may happen twice.
#include "saga_support.hpp"
#include "actors/testing/simulated_gateway.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

struct step_case {
  v1::OrderEvent::KindCase held;
  v1::OrderStatus parked_in;
};

} // namespace

TEST_SUITE("saga_restart") {
  TEST_CASE("a restart at each saga step ends delivered, every effect once") {
    const step_case steps[] = {
        {v1::OrderEvent::kOrderPlaced, v1::ORDER_STATUS_PLACED},
        {v1::OrderEvent::kStockReserved, v1::ORDER_STATUS_STOCK_RESERVED},
        {v1::OrderEvent::kFulfilmentStarted, v1::ORDER_STATUS_FULFILLING},
        // FulfilmentStarted rides with the saga's PaymentAuthorized, capture and commit with
        // OrderShipped: the order goes on to delivered while the held event waits for the
        // restart (which must not start fulfilment again).
        {v1::OrderEvent::kPaymentAuthorized, v1::ORDER_STATUS_DELIVERED},
        {v1::OrderEvent::kPaymentCaptured, v1::ORDER_STATUS_DELIVERED},
        {v1::OrderEvent::kStockCommitRequested, v1::ORDER_STATUS_DELIVERED},
        {v1::OrderEvent::kOrderShipped, v1::ORDER_STATUS_SHIPPED},
        {v1::OrderEvent::kOrderDelivered, v1::ORDER_STATUS_DELIVERED},
    };
    for (const auto& s : steps) {
      CAPTURE(s.held);
      temp_dir dir;
      auto gw = std::make_shared<saga::simulated_gateway>();
      auto cfg = saga_config_in(dir, gw);
      auto held = cfg;
      held.saga.testing.hold_event = [k = s.held](const v1::Envelope& e) {
        return e.order_event().kind_case() == k;
      };
      auto rt = start(held);
      stock(*rt, "SKU-A", 10);
      stock(*rt, "SKU-B", 10);
      auto o = wait(rt->submit_order(place_lines({{"SKU-A", 2}, {"SKU-B", 1}}), "order"));
      REQUIRE(o.ok());
      auto id = o.entity_id;
      await_status(*rt, id, s.parked_in);
      std::this_thread::sleep_for(std::chrono::milliseconds{150}); // let other effects land
      rt->stop();
      rt.reset();

      rt = start(cfg);
      auto st = await_status(*rt, id, v1::ORDER_STATUS_DELIVERED);
      CHECK(st.captured_minor() == 3000);
      await_stock(*rt, "SKU-A", 8);
      await_stock(*rt, "SKU-B", 9);
      await_saga_idle(*rt);
      CHECK(gw->captures_of(id) == 1);
      CHECK(gw->authorizations_of(id) == 1);
      auto executed = gw->counts().executed;
      auto last_seq = st.last_sequence();
      rt->stop();
      rt.reset();

      // Re-handle every event from the start: every effect is a duplicate now.
      auto replay = cfg;
      replay.saga.start_after = 0;
      rt = start(replay);
      await_saga_idle(*rt);
      CHECK(rt->saga_stats().events >= 8);
      CHECK(gw->counts().executed == executed);
      CHECK(gw->counts().calls > executed);
      CHECK(gw->captures_of(id) == 1);
      auto again = rt->order(id);
      REQUIRE(again);
      CHECK(again->last_sequence() == last_seq);
      auto a = await_stock(*rt, "SKU-A", 8);
      CHECK(a.committed_total() == 2);
      CHECK(a.last_sequence() == 4); // restocked, priced, reserved, committed: none repeated
      // Fulfilment started with the authorization, in its append; handling PaymentAuthorized
      // (again) sent no StartFulfilment: its key is fresh here, not a stored duplicate.
      auto feed = rt->read_feed(0, 1000);
      REQUIRE(feed);
      uint64_t authorized_seq = 0;
      for (const auto& item : *feed) {
        if (item.event.entity_id() != id) continue;
        const auto& ev = item.event.order_event();
        if (ev.has_payment_authorized()) {
          CHECK(ev.payment_authorized().fulfilment_started());
          authorized_seq = item.event.sequence();
        }
        if (ev.has_fulfilment_started()) CHECK(item.event.sequence() == authorized_seq + 1);
      }
      REQUIRE(authorized_seq > 0);
      v1::OrderCommand start_fulfilment;
      start_fulfilment.set_order_id(id);
      start_fulfilment.mutable_start_fulfilment();
      auto probe = wait(rt->submit_order(
          start_fulfilment, fmt::format("s:{}:{}:ful", id, authorized_seq)));
      CHECK(probe.status == outcome_status::rejected);
      CHECK_FALSE(probe.duplicate);
      rt->stop();
    }
  }

  TEST_CASE("a restart while the gateway holds an authorization in flight") {
    temp_dir dir;
    saga::simulated_gateway_options o;
    o.latency = std::chrono::milliseconds{400};
    auto gw = std::make_shared<saga::simulated_gateway>(o);
    auto cfg = saga_config_in(dir, gw);
    auto rt = start(cfg);
    stock(*rt, "SKU-A", 10);
    auto placed = wait(rt->submit_order(place_lines({{"SKU-A", 1}}), "inflight"));
    REQUIRE(placed.ok());
    await_status(*rt, placed.entity_id, v1::ORDER_STATUS_STOCK_RESERVED);
    rt->stop(); // the answer to the authorization arrives after the stop: dropped
    rt.reset();
    rt = start(cfg);
    await_status(*rt, placed.entity_id, v1::ORDER_STATUS_DELIVERED);
    await_stock(*rt, "SKU-A", 9);
    CHECK(gw->authorizations_of(placed.entity_id) == 1);
    CHECK(eventually([&] { return gw->captures_of(placed.entity_id) == 1; }));
    rt->stop();
  }
}
