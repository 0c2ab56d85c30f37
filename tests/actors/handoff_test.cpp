// A shard handed from one runtime to another, embedded (no network): what the cluster's
// handoff does step by step (docs/cluster.md), checked deterministically. Real CAF, real LMDB.
#include <atomic>
#include <thread>

#include "actors/runtime/internals.hpp"
#include "actors/runtime/placement.hpp"
#include "actors/runtime/shard_admin.hpp"
#include "actors/start.hpp"
#include "domain/order_id.hpp"
#include "test_runtime.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

// The cluster hooks of a two-node test: `route` per shard is set by the test; remote
// commands are refused (the test never relies on forwarding).
struct routes {
  std::vector<std::atomic<shard_route>> of;
  explicit routes(size_t n, shard_route r) : of(n) {
    for (auto& x : of)
      x = r;
  }
  cluster_hooks hooks() {
    cluster_hooks h;
    h.route = [this](uint16_t s) { return of[s].load(); };
    h.forward = [](v1::Envelope, uint16_t, completion done) {
      done(failure("node_unavailable", "no network in this test", true));
    };
    return h;
  }
};

// A runtime with the two-node test's cluster hooks.
std::unique_ptr<runtime> start_in_cluster(const runtime_config& cfg, cluster_hooks hooks) {
  auto rt = start_runtime(cfg, std::move(hooks));
  if (!rt) FAIL("runtime did not start: " << to_string(rt.error()));
  return std::move(*rt);
}

// Moves every record of `shard` from `from` to `to` the way the handoff does.
size_t hand_over(runtime& from, runtime& to, uint16_t shard) {
  REQUIRE(shard_admin(from).drain_shard(shard, std::chrono::seconds{5}));
  shard_admin(from).release_shard(shard);
  std::string resume;
  size_t entities = 0;
  for (int i = 0; i < 10'000; ++i) {
    auto batch = shard_admin(from).export_shard(shard, resume, 2'000); // small: several batches
    REQUIRE_MESSAGE(batch, to_string(batch.error()));
    if (!batch->entities.empty()) {
      auto err = shard_admin(to).import_records(batch->entities);
      REQUIRE_MESSAGE(!err, to_string(err));
      // Importing the same batch again (a re-sent message) changes nothing.
      err = shard_admin(to).import_records(batch->entities);
      REQUIRE_MESSAGE(!err, to_string(err));
      entities += batch->entities.size();
    }
    if (batch->done) return entities;
    resume = batch->resume;
  }
  FAIL("export never finished");
  return entities;
}

// Copies every record of `shard` while it still serves (a pre-copy: no drain, no release).
void hand_over_serving(runtime& from, runtime& to, uint16_t shard) {
  std::string resume;
  for (int i = 0; i < 10'000; ++i) {
    auto batch = shard_admin(from).export_shard(shard, resume, 2'000);
    REQUIRE_MESSAGE(batch, to_string(batch.error()));
    if (!batch->entities.empty()) REQUIRE(!shard_admin(to).import_records(batch->entities));
    if (batch->done) return;
    resume = batch->resume;
  }
  FAIL("export never finished");
}

// Node A serves every shard, node B none; each test moves shards from A to B (and back).
struct two_nodes {
  temp_dir da, db;
  runtime_config ca = config_in(da), cb = config_in(db);
  routes ra{ca.shard_count, shard_route::local}, rb{cb.shard_count, shard_route::remote};
  std::unique_ptr<runtime> a, b;
  explicit two_nodes(uint32_t snapshot_every = 0) {
    cb.node_id = 2;
    if (snapshot_every > 0) ca.limits.snapshot_every_events = snapshot_every;
    a = start_in_cluster(ca, ra.hooks());
    b = start_in_cluster(cb, rb.hooks());
  }
};

} // namespace

TEST_SUITE("handoff") {
  TEST_CASE("a shard moves between runtimes: state, idempotency, placements, sequences") {
    two_nodes n{2}; // snapshots every 2 events: the move carries snapshots too
    auto &ra = n.ra, &rb = n.rb;
    auto &a = n.a, &b = n.b;
    auto& ca = n.ca;
    auto &da = n.da, &db = n.db;

    // Orders on every shard of node A; remember a few on the shard that will move.
    const uint16_t moving = runtime_internals::shard_of_placement(*a, "k-0");
    std::vector<std::pair<std::string, std::string>> on_moving; // key, order id
    for (int i = 0; i < 64; ++i) {
      auto key = fmt::format("k-{}", i);
      auto o = wait(a->submit_order(place("SKU-1", 1, 1000), key));
      REQUIRE(o.ok());
      if (runtime_internals::shard_of_placement(*a, key) == moving) {
        on_moving.emplace_back(key, o.entity_id);
        auto r = for_order(o.entity_id);
        r.mutable_confirm_stock_reserved();
        REQUIRE(wait(a->submit_order(r, key + "-reserve")).ok());
      }
    }
    REQUIRE(on_moving.size() >= 2);
    v1::InventoryCommand restock;
    std::string sku;
    for (int i = 0; sku.empty(); ++i)
      if (runtime_internals::shard_of_sku(*a, fmt::format("SKU-{}", i)) == moving) sku = fmt::format("SKU-{}", i);
    restock.set_sku(sku);
    restock.mutable_restock()->set_quantity(7);
    REQUIRE(wait(a->submit_inventory(restock, "stock-1")).ok());

    // Step 1: A stops serving the shard — commands answer shard_moving (retry later), reads
    // say it is not A's — while every other shard keeps serving.
    ra.of[moving] = shard_route::moving;
    auto refused = wait(a->submit_order(for_order(on_moving[0].second), "while-moving"));
    CHECK(refused.code == "shard_moving");
    CHECK(!a->order(on_moving[0].second));
    uint16_t other = static_cast<uint16_t>((moving + 1) % ca.shard_count);
    std::string other_key;
    for (int i = 0; other_key.empty(); ++i)
      if (runtime_internals::shard_of_placement(*a, fmt::format("x-{}", i)) == other)
        other_key = fmt::format("x-{}", i);
    CHECK(wait(a->submit_order(place(), other_key)).ok());

    // Steps 2-3: drain, release, export → import (twice each batch: idempotent).
    auto moved = hand_over(*a, *b, moving);
    MESSAGE(moved << " entity records moved");
    CHECK(moved >= on_moving.size() + 1);

    // Step 4: B serves it. State, sequences and idempotency came along.
    rb.of[moving] = shard_route::local;
    ra.of[moving] = shard_route::remote;
    for (const auto& [key, id] : on_moving) {
      auto st = b->order(id);
      REQUIRE(st);
      CHECK(st->status() == v1::ORDER_STATUS_STOCK_RESERVED);
      CHECK(st->last_sequence() == 2);
      // A retried placement finds the same order on its new owner.
      auto again = wait(b->submit_order(place("SKU-1", 1, 1000), key));
      CHECK(again.ok());
      CHECK(again.duplicate);
      CHECK(again.entity_id == id);
      // A retried command answers from the moved idempotency record.
      auto r = for_order(id);
      r.mutable_confirm_stock_reserved();
      auto dup = wait(b->submit_order(r, key + "-reserve"));
      CHECK(dup.duplicate);
      // New commands continue the sequence on B.
      auto pay = for_order(id);
      pay.mutable_payment_authorized()->set_payment_id("p-" + key);
      *pay.mutable_payment_authorized()->mutable_amount() = eur(1000);
      auto paid = wait(b->submit_order(pay, key + "-pay"));
      REQUIRE_MESSAGE(paid.ok(), paid.code << " " << paid.message);
      CHECK(paid.first_seq == 3);
    }
    auto inv = b->inventory(sku);
    REQUIRE(inv);
    CHECK(inv->on_hand() == 7);
    // B's feed holds only what B wrote: the moved history stays on A's feed.
    auto feed = b->read_feed(0, 10'000);
    REQUIRE(feed);
    for (const auto& item : *feed)
      CHECK(item.event.sequence() >= 3);
    CHECK(feed->size() == on_moving.size()); // one PaymentAuthorized per moved order
    // New placements on the moved shard get B's ids (node 2) and B's journal.
    std::string new_key;
    for (int i = 0; new_key.empty(); ++i)
      if (runtime_internals::shard_of_placement(*b, fmt::format("n-{}", i)) == moving) new_key = fmt::format("n-{}", i);
    auto fresh = wait(b->submit_order(place(), new_key));
    REQUIRE(fresh.ok());
    auto parsed = domain::parse_order_id(fresh.entity_id);
    REQUIRE(parsed);
    CHECK(parsed->node() == 2);
    CHECK(parsed->shard() == moving);
    // A no longer serves it: a forwarded command is refused, never applied.
    v1::Envelope fwd;
    fwd.set_entity_type(v1::ENTITY_TYPE_ORDER);
    fwd.set_entity_id(on_moving[0].second);
    fwd.set_idempotency_key("stale-sender");
    *fwd.mutable_order_command() = for_order(on_moving[0].second);
    fwd.mutable_order_command()->mutable_cancel_order()->set_reason("x");
    std::promise<outcome> p;
    runtime_internals::submit_forwarded(*a, fwd, [&p](outcome o) { p.set_value(std::move(o)); });
    CHECK(wait(p.get_future()).code == "not_owner");
    CHECK(shard_admin(*a).drop_shard_timers(moving));

    // The shard comes back to A later (a node removed again): only what A lacks is imported.
    rb.of[moving] = shard_route::moving;
    auto back = hand_over(*b, *a, moving);
    CHECK(back >= on_moving.size());
    ra.of[moving] = shard_route::local;
    for (const auto& [key, id] : on_moving) {
      auto st = a->order(id);
      REQUIRE(st);
      CHECK(st->status() == v1::ORDER_STATUS_PAYMENT_AUTHORIZED);
      CHECK(st->last_sequence() == 3);
      auto c = for_order(id);
      c.mutable_cancel_order()->set_reason("changed my mind");
      auto cancelled = wait(a->submit_order(c, key + "-cancel"));
      REQUIRE_MESSAGE(cancelled.ok(), cancelled.code << " " << cancelled.message);
      CHECK(cancelled.first_seq == 4);
    }
    auto fresh_on_a = a->order(fresh.entity_id);
    REQUIRE(fresh_on_a);
    CHECK(fresh_on_a->status() == v1::ORDER_STATUS_PLACED);
    a->stop();
    b->stop();
    for (auto* d : {&da, &db})
      check_store_verifies(d->path);
  }

  TEST_CASE("pre-copy: copied while serving, then only what commands touched meanwhile") {
    two_nodes n;
    auto &ra = n.ra, &rb = n.rb;
    auto &a = n.a, &b = n.b;
    const uint16_t moving = runtime_internals::shard_of_placement(*a, "pc-0");
    auto key_on_shard = [&](const std::string& prefix) {
      for (int i = 0;; ++i)
        if (runtime_internals::shard_of_placement(*a, fmt::format("{}-{}", prefix, i)) == moving)
          return fmt::format("{}-{}", prefix, i);
    };
    auto first = wait(a->submit_order(place(), "pc-0"));
    REQUIRE(first.ok());
    auto second_key = key_on_shard("pc2");
    auto second = wait(a->submit_order(place(), second_key));
    REQUIRE(second.ok());
    auto third = wait(a->submit_order(place(), key_on_shard("pc3")));
    REQUIRE(third.ok());

    // 1. Track, copy everything while the shard serves.
    shard_admin(*a).track_shard(moving);
    hand_over_serving(*a, *b, moving);
    // 2. Meanwhile the shard keeps serving: a new order, a step of an old one, a refusal on
    //    another (stored under its key, no event), and an untouched order.
    auto late_key = key_on_shard("late");
    auto late = wait(a->submit_order(place(), late_key));
    REQUIRE(late.ok());
    auto r = for_order(first.entity_id);
    r.mutable_confirm_stock_reserved();
    REQUIRE(wait(a->submit_order(r, "pc-reserve")).ok());
    auto bad = for_order(second.entity_id);
    bad.mutable_mark_delivered();
    auto refused = wait(a->submit_order(bad, "pc-too-early"));
    REQUIRE(refused.status == outcome_status::rejected);
    // 3. Stop, drain, take what was touched: exactly those, not the untouched order.
    ra.of[moving] = shard_route::moving;
    REQUIRE(shard_admin(*a).drain_shard(moving, std::chrono::seconds{5}));
    auto changes = shard_admin(*a).take_tracked(moving);
    REQUIRE(!changes.overflow);
    CHECK(changes.entities.count("o/" + first.entity_id) == 1);
    CHECK(changes.entities.count("o/" + late.entity_id) == 1);
    CHECK(changes.entities.count("o/" + second.entity_id) == 1); // the refusal
    CHECK(changes.entities.count("o/" + third.entity_id) == 0);
    CHECK(changes.placement_keys.count(late_key) == 1);
    auto delta = shard_admin(*a).export_changes({changes.entities.begin(), changes.entities.end()},
                                   {changes.placement_keys.begin(), changes.placement_keys.end()});
    REQUIRE_MESSAGE(delta, to_string(delta.error()));
    REQUIRE(!shard_admin(*b).import_records(*delta));
    // 4. B serves the shard exactly as A left it.
    rb.of[moving] = shard_route::local;
    for (const auto& id : {first.entity_id, second.entity_id, third.entity_id, late.entity_id}) {
      auto st = b->order(id);
      REQUIRE(st);
      ra.of[moving] = shard_route::local; // read A's side for the comparison
      auto was = a->order(id);
      ra.of[moving] = shard_route::moving;
      REQUIRE(was);
      CHECK(st->SerializeAsString() == was->SerializeAsString());
    }
    auto again = wait(b->submit_order(place(), late_key));
    CHECK(again.duplicate);
    CHECK(again.entity_id == late.entity_id);
    auto refused_again = wait(b->submit_order(bad, "pc-too-early"));
    CHECK(refused_again.duplicate);
    CHECK(refused_again.status == outcome_status::rejected);
    CHECK(refused_again.code == refused.code);
    CHECK(shard_admin(*a).take_tracked(moving).overflow); // tracking ended: nothing known any more
  }

  TEST_CASE("drain_shard waits for the shard's in-flight commands") {
    temp_dir d;
    auto cfg = config_in(d);
    routes r{cfg.shard_count, shard_route::local};
    std::atomic<bool> hold{true};
    cfg.testing.before_decide = [&](std::string_view, const std::string&) {
      while (hold)
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    };
    auto rt = start_in_cluster(cfg, r.hooks());
    auto s = runtime_internals::shard_of_placement(*rt, "slow");
    auto f = rt->submit_order(place(), "slow");
    CHECK(!shard_admin(*rt).drain_shard(s, std::chrono::milliseconds{100})); // held in decide
    hold = false;
    CHECK(shard_admin(*rt).drain_shard(s, std::chrono::seconds{10}));
    CHECK(wait(std::move(f)).ok());
  }
}
