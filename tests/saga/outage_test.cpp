// Payment-gateway outage: the gateway never answers. Orders must cancel after their durable
// payment timeout and give their stock back. Negative control: without the timer they hang.
#include "saga_support.hpp"
#include "actors/testing/simulated_gateway.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

std::vector<std::string> place_many(runtime& rt, int n, const std::string& tag) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto o = wait(rt.submit_order(place_lines({{"SKU-A", 1}}), tag + std::to_string(i)));
    REQUIRE(o.ok());
    ids.push_back(o.entity_id);
  }
  return ids;
}

// Orders authorized, then the gateway goes silent and they are delivered: every capture
// fails past its retries (call timeout 50 ms, 2 retries) and is parked.
struct captures_in_outage {
  temp_dir dir;
  std::shared_ptr<saga::simulated_gateway> gw = std::make_shared<saga::simulated_gateway>();
  runtime_config cfg;
  std::unique_ptr<runtime> rt;
  std::vector<std::string> ids;

  explicit captures_in_outage(std::chrono::milliseconds parked_retry_every) {
    cfg = saga_config_in(dir, gw);
    cfg.saga.external_fulfilment = true;
    cfg.saga.gateway_call_timeout = std::chrono::milliseconds{50};
    cfg.saga.retries_max = 2;
    cfg.saga.backoff_max = std::chrono::milliseconds{20};
    cfg.saga.parked_retry_every = parked_retry_every;
    rt = start(cfg);
    stock(*rt, "SKU-A", 10);
    ids = place_many(*rt, 5, "parked-");
    for (auto& id : ids)
      await_status(*rt, id, v1::ORDER_STATUS_FULFILLING);
    gw->set_outage(true);
    for (auto& id : ids) {
      auto ship = for_order(id);
      ship.mutable_mark_shipped()->set_carrier("C");
      ship.mutable_mark_shipped()->set_tracking_number("T-" + id);
      REQUIRE(wait(rt->submit_order(ship, "ship-" + id)).ok());
      auto dlv = for_order(id);
      dlv.mutable_mark_delivered();
      REQUIRE(wait(rt->submit_order(dlv, "dlv-" + id)).ok());
      CHECK(status_of(*rt, id) == v1::ORDER_STATUS_DELIVERED);
    }
    REQUIRE(eventually([&] { return rt->saga_stats().stuck == ids.size(); }));
    for (auto& id : ids)
      CHECK(gw->captures_of(id) == 0);
    gw->set_outage(false);
  }

  bool all_captured_once() const {
    for (auto& id : ids)
      if (gw->captures_of(id) != 1) return false;
    return true;
  }
};

} // namespace

TEST_SUITE("saga_outage") {
  TEST_CASE("captures parked in a long outage are done when the gateway is back, no restart") {
    captures_in_outage s{std::chrono::milliseconds{200}};
    CHECK(eventually([&] { return s.all_captured_once(); }));
    CHECK(eventually([&] { return s.rt->saga_stats().stuck == 0; }));
    CHECK(s.rt->saga_stats().recovered == s.ids.size());
    await_saga_idle(*s.rt);
    CHECK(s.gw->counts().captured_minor == 5 * 1000);
    s.rt->stop();
  }

  TEST_CASE("negative control: with parked_retry_every 0 the captures wait for a restart") {
    captures_in_outage s{std::chrono::milliseconds{0}};
    std::this_thread::sleep_for(std::chrono::milliseconds{1'000});
    for (auto& id : s.ids)
      CHECK(s.gw->captures_of(id) == 0);
    CHECK(s.rt->saga_stats().stuck == s.ids.size());
    s.rt->stop();
    s.rt.reset();
    s.rt = start(s.cfg); // the held offset: the restart re-handles the captures
    CHECK(eventually([&] { return s.all_captured_once(); }));
    await_saga_idle(*s.rt);
    CHECK(s.rt->saga_stats().stuck == 0);
    s.rt->stop();
  }

  TEST_CASE("gateway outage: orders cancel after the payment timeout, stock returns") {
    temp_dir dir;
    saga::simulated_gateway_options o;
    o.outage = true;
    auto gw = std::make_shared<saga::simulated_gateway>(o);
    auto cfg = saga_config_in(dir, gw);
    cfg.saga.payment_timeout = std::chrono::milliseconds{200};
    cfg.saga.gateway_call_timeout = std::chrono::milliseconds{100};
    auto rt = start(cfg);
    stock(*rt, "SKU-A", 100);
    auto ids = place_many(*rt, 50, "outage-");
    auto t0 = std::chrono::steady_clock::now();
    for (auto& id : ids)
      await_status(*rt, id, v1::ORDER_STATUS_CANCELLED, std::chrono::seconds{10});
    auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(waited >= std::chrono::milliseconds{150});
    await_stock(*rt, "SKU-A", 100);
    CHECK(rt->saga_stats().timeouts >= 50);
    CHECK(gw->counts().executed == 0);
    rt->stop();
  }

  TEST_CASE("the payment timer survives a restart") {
    temp_dir dir;
    saga::simulated_gateway_options o;
    o.outage = true;
    auto gw = std::make_shared<saga::simulated_gateway>(o);
    auto cfg = saga_config_in(dir, gw);
    cfg.saga.payment_timeout = std::chrono::milliseconds{700};
    cfg.saga.gateway_call_timeout = std::chrono::milliseconds{100};
    auto rt = start(cfg);
    stock(*rt, "SKU-A", 10);
    auto ids = place_many(*rt, 5, "timer-");
    for (auto& id : ids)
      await_status(*rt, id, v1::ORDER_STATUS_STOCK_RESERVED);
    rt->stop();
    rt.reset();
    rt = start(cfg);
    for (auto& id : ids)
      await_status(*rt, id, v1::ORDER_STATUS_CANCELLED, std::chrono::seconds{10});
    await_stock(*rt, "SKU-A", 10);
    rt->stop();
  }

  TEST_CASE("negative control: without the payment timer, an outage leaves orders hanging") {
    temp_dir dir;
    saga::simulated_gateway_options o;
    o.outage = true;
    auto gw = std::make_shared<saga::simulated_gateway>(o);
    auto cfg = saga_config_in(dir, gw);
    cfg.saga.payment_timeout = std::chrono::milliseconds{0}; // no timer attached
    cfg.saga.gateway_call_timeout = std::chrono::milliseconds{100};
    cfg.saga.retries_max = 2;
    auto rt = start(cfg);
    stock(*rt, "SKU-A", 10);
    auto ids = place_many(*rt, 5, "control-");
    std::this_thread::sleep_for(std::chrono::milliseconds{1'000});
    for (auto& id : ids)
      CHECK(status_of(*rt, id) == v1::ORDER_STATUS_STOCK_RESERVED);
    auto inv = rt->inventory("SKU-A");
    REQUIRE(inv);
    CHECK(inv->reserved_total() == 5);
    CHECK(rt->saga_stats().stuck >= 5); // gave up on the silent gateway, offset held
    rt->stop();
  }
}
