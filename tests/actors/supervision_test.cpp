// Supervision: a crashing order actor is restarted from the journal; a command that crashes
// it repeatedly is refused and the order quarantined, without touching other orders.
#include <atomic>

#include "test_runtime.hpp"

using namespace ordo;
using namespace ordo::test;

TEST_SUITE("supervision") {
  TEST_CASE("a crash is survived: the activation restarts from the journal") {
    temp_dir dir;
    auto cfg = config_in(dir);
    std::atomic<int> crashes_left{1};
    std::atomic<bool> armed{false};
    cfg.testing.before_decide = [&](std::string_view, const std::string&) {
      if (armed.load() && crashes_left.fetch_sub(1) > 0) throw std::runtime_error("injected");
    };
    auto rt = start(cfg);
    auto id = placed_and_paid(*rt, "crash-once");
    armed = true;
    auto c = for_order(id);
    c.mutable_start_fulfilment();
    auto o = wait(rt->submit_order(c, "fulfil"));
    CHECK(o.ok());
    CHECK(o.first_seq == 4);
    CHECK(rt->stats().crashes == 1);
    CHECK(rt->order(id)->status() == v1::ORDER_STATUS_FULFILLING);
    rt->stop();
  }

  TEST_CASE("a command that keeps crashing quarantines its order only") {
    temp_dir dir;
    auto cfg = config_in(dir);
    std::string poisoned;
    std::mutex mu;
    cfg.testing.before_decide = [&](std::string_view entity, const std::string&) {
      std::lock_guard<std::mutex> g{mu};
      if (!poisoned.empty() && entity == poisoned) throw std::runtime_error("always");
    };
    auto rt = start(cfg);
    auto bad = placed_and_paid(*rt, "bad");
    auto good = placed_and_paid(*rt, "good");
    {
      std::lock_guard<std::mutex> g{mu};
      poisoned = bad;
    }
    auto c = for_order(bad);
    c.mutable_start_fulfilment();
    auto o = wait(rt->submit_order(c, "bad-fulfil"));
    CHECK(o.status == outcome_status::failed);
    CHECK(o.code == "quarantined");
    CHECK(o.message.find("crashed 3 times") != std::string::npos);
    CHECK(rt->stats().crashes == 3);
    CHECK(rt->stats().quarantined == 1);
    // Later commands for it are refused at once; other orders are served.
    auto again = wait(rt->submit_order(c, "bad-fulfil-2"));
    CHECK(again.code == "quarantined");
    auto g = for_order(good);
    g.mutable_start_fulfilment();
    CHECK(wait(rt->submit_order(g, "good-fulfil")).ok());
    // The quarantined order's data is intact.
    CHECK(rt->order(bad)->status() == v1::ORDER_STATUS_PAYMENT_AUTHORIZED);
    rt->stop();
  }
}
