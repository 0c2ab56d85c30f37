// The runtime through its public API: restarts, passivation, one-at-a-time per order,
// overload and graceful shutdown. Real CAF, real LMDB, full sync.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "actors/runtime/journal_io.hpp"
#include "domain/envelope.hpp"
#include "domain/snapshot.hpp"
#include "ordo/v1/snapshot.pb.h"
#include "support/seed.hpp"
#include "test_runtime.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

// Collects answers from callbacks on runtime threads.
struct answers {
  std::mutex mu;
  std::vector<outcome> got;
  std::atomic<int> count{0};
  completion sink() {
    return [this](outcome o) {
      std::lock_guard<std::mutex> g{mu};
      got.push_back(std::move(o));
      count++;
    };
  }
  void wait_for(int n) {
    for (int i = 0; i < 30'000 && count.load() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    REQUIRE(count.load() == n);
  }
};

// The store in `dir` opened by storage directly (no runtime running on it).
std::unique_ptr<storage::journal> open_journal(const temp_dir& dir) {
  storage::journal_options o;
  o.dir = dir.path;
  auto j = storage::journal::open(o);
  REQUIRE(j);
  return std::move(*j);
}

// Stores snapshot bytes as given, as an older or newer build would have written them.
void save_snapshot_in(const temp_dir& dir, const std::string& key, uint64_t seq,
                      const std::string& bytes) {
  REQUIRE(!open_journal(dir)->save_snapshot(key, seq, bytes));
}

// An order walked to payment authorized (3 events) by a runtime writing no snapshots: its
// committed state.
v1::OrderState paid_order_without_snapshots(runtime_config cfg, const std::string& tag) {
  cfg.limits.snapshot_every_events = 0;
  auto rt = start(cfg);
  auto id = placed_and_paid(*rt, tag);
  auto st = rt->order(id);
  REQUIRE(st);
  REQUIRE(st->last_sequence() == 3);
  REQUIRE(st->order_id() == id);
  rt->stop();
  return *st;
}

} // namespace

TEST_SUITE("restart_recovery") {
  TEST_CASE("every acknowledged transition survives restarts mid-flight") {
    temp_dir dir;
    auto cfg = config_in(dir);
    cfg.limits.snapshot_every_events = 3;      // exercise snapshot + tail on recovery
    std::map<std::string, uint64_t> acked_seq; // order -> highest acknowledged sequence
    std::mutex mu;
    for (int round = 0; round < 3; ++round) {
      auto rt = start(cfg);
      answers a;
      int sent = 0;
      // Place 200 orders and, for those from earlier rounds, move them one step on.
      for (int i = 0; i < 200; ++i, ++sent)
        rt->submit_order(place(), fmt::format("r{}-place-{}", round, i), a.sink());
      for (auto& [id, seq] : acked_seq) {
        auto c = for_order(id);
        if (seq == 1)
          c.mutable_confirm_stock_reserved();
        else if (seq == 2)
          c.mutable_payment_declined()->set_reason("declined");
        else
          c.mutable_cancel_order()->set_reason("late"); // rejected: terminal
        rt->submit_order(c, fmt::format("r{}-{}", round, id), a.sink());
        ++sent;
      }
      a.wait_for(sent);
      for (auto& o : a.got) {
        if (o.ok() && o.last_seq > 0) {
          std::lock_guard<std::mutex> g{mu};
          acked_seq[o.entity_id] = std::max(acked_seq[o.entity_id], o.last_seq);
        }
      }
      rt->stop();
      // Reopen and compare every acknowledged order with what was acknowledged.
      auto again = start(cfg);
      for (auto& [id, seq] : acked_seq) {
        auto st = again->order(id);
        REQUIRE(st);
        CHECK(st->last_sequence() == seq);
      }
      again->stop();
    }
    CHECK(acked_seq.size() == 600);
  }

  // Snapshots were first stored as the bare state message; the runtime now writes them
  // versioned (a 0x00 byte, then v1::Snapshot: domain/snapshot.hpp) and must still read both.
  TEST_CASE("a store with unversioned snapshots reads the same; new snapshots are versioned") {
    temp_dir dir;
    auto cfg = config_in(dir);
    const auto paid = paid_order_without_snapshots(cfg, "bare");
    const auto& id = paid.order_id();
    const auto state_bytes = paid.SerializeAsString();
    const auto key = "o/" + id;
    save_snapshot_in(dir, key, 3, state_bytes); // the bare layout, as first written
    cfg.limits.snapshot_every_events = 1; // every new event writes one
    auto rt = start(cfg);
    auto st = rt->order(id);
    REQUIRE_MESSAGE(st, to_string(st.error()));
    CHECK(st->SerializeAsString() == state_bytes);
    auto f = for_order(id);
    f.mutable_start_fulfilment();
    auto o = wait(rt->submit_order(f, "bare-fulfil"));
    REQUIRE_MESSAGE(o.ok(), o.code << " " << o.message); // decided on the bare snapshot's state
    CHECK(o.last_seq == 4);
    rt->stop();
    auto j = open_journal(dir);
    auto snap = j->load_snapshot(key);
    REQUIRE(snap);
    REQUIRE(*snap);
    CHECK((*snap)->seq == 4);
    REQUIRE(!(*snap)->bytes.empty());
    CHECK((*snap)->bytes[0] == '\0'); // versioned
    auto decoded = domain::decode_order_snapshot((*snap)->bytes);
    REQUIRE(std::holds_alternative<domain::decoded_snapshot<v1::OrderState>>(decoded));
    const auto& d = std::get<domain::decoded_snapshot<v1::OrderState>>(decoded);
    CHECK(d.versioned);
    CHECK(d.schema_version == domain::schema_version_current);
    CHECK(d.state.last_sequence() == 4);
  }

  // A snapshot of a newer schema cannot be read by this build: the entity answers
  // schema_too_new (reads and commands) and the runtime keeps serving the others.
  TEST_CASE("a snapshot written by a newer schema is schema_too_new, not a crash") {
    temp_dir dir;
    auto cfg = config_in(dir);
    const auto state = paid_order_without_snapshots(cfg, "newer");
    const auto& id = state.order_id();
    {
      v1::Snapshot newer;
      newer.set_schema_version(domain::schema_version_current + 1);
      *newer.mutable_order() = state;
      save_snapshot_in(dir, "o/" + id, 3,
                       domain::snapshot_versioned_marker + newer.SerializeAsString());
    }
    auto rt = start(cfg);
    auto st = rt->order(id);
    REQUIRE(!st);
    CHECK(to_string(st.error()).find("schema_too_new") != std::string::npos);
    auto f = for_order(id);
    f.mutable_start_fulfilment();
    auto o = wait(rt->submit_order(f, "newer-fulfil"));
    CHECK(o.code == "schema_too_new");
    CHECK(wait(rt->submit_order(place(), "newer-other")).ok()); // the others still served
    rt->stop();
  }
}

TEST_SUITE("passivation") {
  TEST_CASE("idle orders are passivated and come back with their state") {
    temp_dir dir;
    auto cfg = config_in(dir);
    cfg.limits.passivate_after = std::chrono::milliseconds{50};
    auto rt = start(cfg);
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i)
      ids.push_back(placed_and_paid(*rt, fmt::format("p{}", i)));
    for (int i = 0; i < 200 && rt->stats().active > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    auto s = rt->stats();
    CHECK(s.active == 0);
    CHECK(s.passivations >= 20);
    // Reactivation rebuilds from the journal: the next step is accepted on top.
    for (auto& id : ids) {
      auto c = for_order(id);
      c.mutable_start_fulfilment();
      auto o = wait(rt->submit_order(c, id + "-fulfil"));
      CHECK(o.ok());
      CHECK(o.first_seq == 4);
    }
    CHECK(rt->stats().activations >= 40);
    rt->stop();
  }

  // limits.active_max bounds live actors whatever the passivation delay: past a shard's share
  // its least recently used idle actors passivate early; at twice the share new activations
  // are refused as overloaded (retried here). Negative control: with 0 (no bound) every
  // placed order stays live until passivate_after.
  TEST_CASE("limits.active_max bounds live actors; evicted orders come back with their state") {
    for (size_t active_max : {size_t{16}, size_t{0}}) {
      CAPTURE(active_max);
      temp_dir dir;
      auto cfg = config_in(dir); // 8 shards: a share of 2 live orders each
      cfg.limits.passivate_after = std::chrono::milliseconds{60'000};
      cfg.limits.active_max = active_max;
      auto rt = start(cfg);
      auto retried = [&](const v1::OrderCommand& c, const std::string& key) {
        outcome o;
        for (int i = 0; i < 200; ++i) {
          o = wait(rt->submit_order(c, key));
          if (o.status != outcome_status::overloaded) break;
          std::this_thread::sleep_for(std::chrono::milliseconds{5});
        }
        return o;
      };
      std::vector<std::string> ids;
      int64_t most_live = 0;
      for (int i = 0; i < 400; ++i) {
        auto o = retried(place(), fmt::format("bounded-{}", i));
        REQUIRE(o.ok());
        ids.push_back(o.entity_id);
        most_live = std::max(most_live, rt->stats().active);
      }
      if (active_max == 0) {
        CHECK(rt->stats().active == 400);
        rt->stop();
        continue;
      }
      // Shards hold at most twice their share (32 in all); the `active` gauge drops a moment
      // after a grant, when the actor has quit: a little slack for those in between.
      CHECK(most_live <= 40);
      CHECK(rt->stats().passivations >= 400 - 32);
      for (auto& id : ids) {
        auto c = for_order(id);
        c.mutable_confirm_stock_reserved();
        auto o = retried(c, id + "-reserve");
        REQUIRE(o.ok());
        CHECK(o.first_seq == 2);
        most_live = std::max(most_live, rt->stats().active);
      }
      CHECK(most_live <= 40);
      rt->stop();
    }
  }
}

TEST_SUITE("serialization") {
  TEST_CASE("concurrent commands to one order are applied one at a time") {
    temp_dir dir;
    auto rt = start(config_in(dir));
    auto id = placed_and_paid(*rt, "s", 5000);
    for (auto step : {0, 1}) {
      auto c = for_order(id);
      if (step == 0)
        c.mutable_start_fulfilment();
      else {
        c.mutable_mark_shipped()->set_carrier("DHL");
        c.mutable_mark_shipped()->set_tracking_number("T-1");
      }
      REQUIRE(wait(rt->submit_order(c, fmt::format("s-{}", step))).ok());
    }
    auto c = for_order(id);
    c.mutable_mark_delivered();
    auto delivered = wait(rt->submit_order(c, "s-deliver"));
    REQUIRE(delivered.ok());
    // 4 threads race 100 refunds of 100 each against 5000 captured: exactly 50 fit.
    answers a;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          auto r = for_order(id);
          *r.mutable_refund_order()->mutable_amount() = eur(100);
          rt->submit_order(r, fmt::format("refund-{}-{}", t, i), a.sink());
        }
      });
    for (auto& th : threads)
      th.join();
    a.wait_for(100);
    int accepted = 0;
    std::set<uint64_t> seqs;
    for (auto& o : a.got) {
      if (o.ok()) {
        ++accepted;
        for (uint64_t s = o.first_seq; s <= o.last_seq; ++s)
          CHECK(seqs.insert(s).second);
      } else {
        CHECK(o.status == outcome_status::rejected);
      }
    }
    CHECK(accepted == 50);
    auto st = rt->order(id);
    REQUIRE(st);
    CHECK(st->refunded_minor() == 5000);
    CHECK(st->captured_minor() == 5000);
    // Sequences of accepted refunds are contiguous after the lifecycle events.
    CHECK(*seqs.begin() == delivered.last_seq + 1);
    CHECK(*seqs.rbegin() == st->last_sequence());
    CHECK(seqs.size() == st->last_sequence() - delivered.last_seq);
    rt->stop();
  }
}

TEST_SUITE("overload") {
  TEST_CASE("a full in-flight bound answers overloaded, and every command is answered") {
    temp_dir dir;
    auto cfg = config_in(dir);
    cfg.in_flight_max = 16;
    auto rt = start(cfg);
    answers a;
    for (int i = 0; i < 2000; ++i)
      rt->submit_order(place(), fmt::format("o-{}", i), a.sink());
    a.wait_for(2000);
    int ok = 0, over = 0;
    for (auto& o : a.got) {
      if (o.ok())
        ++ok;
      else if (o.status == outcome_status::overloaded)
        ++over;
      else
        FAIL("unexpected answer " << o.code << " " << o.message);
    }
    CHECK(over > 0);
    CHECK(ok + over == 2000);
    CHECK(rt->stats().in_flight == 0);
    // What was accepted is there; what was refused was never applied.
    for (auto& o : a.got)
      if (o.ok()) CHECK(rt->order(o.entity_id)->last_sequence() == 1);
    rt->stop();
  }

  TEST_CASE("a full per-order queue answers overloaded") {
    temp_dir dir;
    auto cfg = config_in(dir);
    cfg.limits.pending_per_entity_max = 4;
    auto rt = start(cfg);
    auto id = placed_and_paid(*rt, "q");
    answers a;
    for (int i = 0; i < 500; ++i) {
      auto c = for_order(id);
      c.mutable_cancel_order()->set_reason("x");
      rt->submit_order(c, fmt::format("c-{}", i), a.sink());
    }
    a.wait_for(500);
    int over = 0, ok = 0;
    for (auto& o : a.got) {
      over += o.status == outcome_status::overloaded;
      ok += o.ok();
    }
    CHECK(over > 0);
    CHECK(ok == 1); // the first cancel wins; the rest are rejected (closed) or overloaded
    rt->stop();
  }
}

TEST_SUITE("overload") {
  TEST_CASE("an append the journal refuses leaves the order as it was (speculative state undone)") {
    temp_dir dir;
    auto cfg = config_in(dir);
    cfg.journal_queue_max = 2; // most concurrent appends are refused with overloaded
    auto rt = start(cfg);
    // Place orders one at a time (always accepted), then race one step on all of them.
    std::vector<std::string> ids;
    for (int i = 0; i < 40; ++i) {
      outcome o;
      for (int attempt = 0; attempt < 1000; ++attempt) {
        o = wait(rt->submit_order(place(), fmt::format("sp-{}", i)));
        if (o.status != outcome_status::overloaded) break;
      }
      REQUIRE(o.ok());
      ids.push_back(o.entity_id);
    }
    answers a;
    for (auto& id : ids) {
      auto c = for_order(id);
      c.mutable_confirm_stock_reserved();
      rt->submit_order(c, id + "-reserve", a.sink());
    }
    a.wait_for(static_cast<int>(ids.size()));
    int refused = 0;
    for (auto& o : a.got) {
      if (o.ok()) continue;
      REQUIRE(o.status == outcome_status::overloaded);
      ++refused;
      // The journal has nothing of it, and the actor agrees: the same command is decided again
      // on the old state and accepted as the order's 2nd event.
      CHECK(rt->order(o.entity_id)->last_sequence() == 1);
      auto c = for_order(o.entity_id);
      c.mutable_confirm_stock_reserved();
      outcome retry;
      for (int attempt = 0; attempt < 1000; ++attempt) {
        retry = wait(rt->submit_order(c, o.entity_id + "-reserve"));
        if (retry.status != outcome_status::overloaded) break;
      }
      CHECK(retry.ok());
      CHECK(retry.first_seq == 2);
    }
    CHECK(refused > 0); // the test exercised the path
    for (auto& id : ids)
      CHECK(rt->order(id)->status() == v1::ORDER_STATUS_STOCK_RESERVED);
    rt->stop();
  }
}

TEST_SUITE("shutdown") {
  TEST_CASE("stop() under load drains: every acknowledged command is in the journal") {
    temp_dir dir;
    auto cfg = config_in(dir);
    auto rt = start(cfg);
    answers a;
    std::atomic<bool> go{true};
    std::atomic<int> sent{0};
    std::thread producer([&] {
      for (int i = 0; go.load() && i < 100'000; ++i) {
        rt->submit_order(place(), fmt::format("s-{}", i), a.sink());
        sent++;
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
    rt->stop();
    go = false;
    producer.join();
    a.wait_for(sent.load());
    std::vector<std::string> acked;
    int stopping = 0;
    for (auto& o : a.got) {
      if (o.ok())
        acked.push_back(o.entity_id);
      else {
        CHECK(o.code == "stopping");
        CHECK_FALSE(o.unknown_if_applied);
        ++stopping;
      }
    }
    CHECK(acked.size() > 0);
    auto again = start(cfg);
    for (auto& id : acked)
      CHECK(again->order(id)->last_sequence() == 1);
    again->stop();
  }
}

TEST_SUITE("placement") {
  TEST_CASE("a retried placement gets the first order id, also after a restart") {
    temp_dir dir;
    auto cfg = config_in(dir);
    auto rt = start(cfg);
    auto first = wait(rt->submit_order(place(), "same-key"));
    REQUIRE(first.ok());
    auto second = wait(rt->submit_order(place(), "same-key"));
    CHECK(second.ok());
    CHECK(second.duplicate);
    CHECK(second.entity_id == first.entity_id);
    rt->stop();
    auto again = start(cfg);
    auto third = wait(again->submit_order(place(), "same-key"));
    CHECK(third.duplicate);
    CHECK(third.entity_id == first.entity_id);
    // New ids after a restart sort after every stored one (the generator's floor).
    auto fresh = wait(again->submit_order(place(), "other-key"));
    CHECK(fresh.entity_id > first.entity_id);
    again->stop();
  }

  TEST_CASE("concurrent retries of one placement create exactly one order") {
    temp_dir dir;
    auto rt = start(config_in(dir));
    answers a;
    for (int i = 0; i < 50; ++i)
      rt->submit_order(place(), "racing-key", a.sink());
    a.wait_for(50);
    std::set<std::string> ids;
    int firsts = 0;
    for (auto& o : a.got) {
      CHECK(o.ok());
      ids.insert(o.entity_id);
      firsts += !o.duplicate;
    }
    CHECK(ids.size() == 1);
    CHECK(firsts == 1);
    rt->stop();
  }
}

// Idempotency retention: records older than idempotency_retention are deleted by the runtime,
// so a retry after it is decided anew; within it the stored answer comes back. Negative
// control: retention 0 keeps every record.
TEST_SUITE("retention") {
  TEST_CASE("idempotency records expire after the retention; a later retry is a new command") {
    for (auto retention : {std::chrono::milliseconds{300}, std::chrono::milliseconds{0}}) {
      CAPTURE(retention.count());
      temp_dir dir;
      auto cfg = config_in(dir);
      cfg.idempotency_retention = retention;
      cfg.retention_every = std::chrono::milliseconds{50};
      auto rt = start(cfg);
      auto placed = wait(rt->submit_order(place(), "ret-place"));
      REQUIRE(placed.ok());
      auto c = for_order(placed.entity_id);
      c.mutable_confirm_stock_reserved();
      auto first = wait(rt->submit_order(c, "ret-reserve"));
      REQUIRE(first.ok());
      auto again = wait(rt->submit_order(c, "ret-reserve"));
      CHECK(again.ok());
      CHECK(again.duplicate); // remembered
      std::this_thread::sleep_for(std::chrono::milliseconds{600});
      bool expired = false;
      for (int i = 0; i < 200 && !expired; ++i) {
        expired = rt->stats().idempotency_expired >= 3; // placement, place, reserve
        if (!expired) std::this_thread::sleep_for(std::chrono::milliseconds{10});
      }
      auto late = wait(rt->submit_order(c, "ret-reserve"));
      if (retention.count() > 0) {
        CHECK(expired);
        // Forgotten: decided again on the current state, where the order is already
        // reserved, so it is refused instead of answered as a duplicate.
        CHECK(late.status == outcome_status::rejected);
        CHECK(!late.duplicate);
      } else {
        CHECK(rt->stats().idempotency_expired == 0);
        CHECK(late.ok());
        CHECK(late.duplicate);
        CHECK(late.first_seq == first.first_seq);
      }
      rt->stop();
    }
  }

  // Feed retention removes events older than the retention that every saved feed offset has
  // passed, after a snapshot of each entity: states stay, histories continue after restarts,
  // the feed below the low-water answers `truncated`, verify finds nothing wrong. A saved
  // offset holds it back.
  TEST_CASE("feed retention trims old events after snapshots; a saved offset holds it back") {
    temp_dir dir;
    auto cfg = config_in(dir);
    cfg.feed_retention = std::chrono::milliseconds{1};
    cfg.retention_every = std::chrono::hours{1}; // rounds are run below with trim_feed()
    auto rt = start(cfg);
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) // one after the other: order i holds positions 3i+1..3i+3
      ids.push_back(placed_and_paid(*rt, fmt::format("fr{}", i)));
    REQUIRE(*rt->feed_head() == 60);
    REQUIRE(!rt->save_feed_offset("consumer/slow", 30));        // has handled positions 1..30 only
    std::this_thread::sleep_for(std::chrono::milliseconds{20}); // all events are old now
    REQUIRE(!rt->trim_feed());
    auto s = rt->stats();
    CHECK(s.feed_snapshots == 10); // orders 0..9, at their last event (seq 3)
    CHECK(s.feed_truncated == 20); // their events 1 and 2; each one's last event stays
    auto kept = rt->read_feed(30, 100);
    REQUIRE(kept);
    CHECK(kept->size() == 30);
    CHECK(code_of(rt->read_feed(29, 1).error()) == "truncated");
    // A retried key whose events are gone still gets its stored answer (without them).
    auto again = wait(rt->submit_order(place("SKU-1", 1, 1000), "fr0-place"));
    CHECK(again.ok());
    CHECK(again.duplicate);
    CHECK(again.entity_id == ids[0]);
    CHECK(again.first_seq == 1);
    CHECK(again.events.empty());
    // The consumer moves on: the rest may go too.
    REQUIRE(!rt->save_feed_offset("consumer/slow", 60));
    REQUIRE(!rt->trim_feed());
    s = rt->stats();
    CHECK(s.feed_snapshots == 20);
    CHECK(s.feed_truncated == 40);
    for (auto& id : ids) {
      auto st = rt->order(id);
      REQUIRE(st);
      CHECK(st->status() == v1::ORDER_STATUS_PAYMENT_AUTHORIZED);
      CHECK(st->last_sequence() == 3);
      auto c = for_order(id);
      c.mutable_start_fulfilment();
      auto o = wait(rt->submit_order(c, id + "-fulfil"));
      CHECK(o.ok());
      CHECK(o.first_seq == 4);
    }
    rt->stop();
    rt = start(cfg); // rebuilt from snapshot + the events after it
    for (auto& id : ids)
      CHECK(rt->order(id)->status() == v1::ORDER_STATUS_FULFILLING);
    rt->stop();
    check_store_verifies(dir.path);
  }

  // Retention running all the time while orders walk their lifecycle, passivate, come back
  // and are read: activations and reads meet snapshots written and events removed between
  // their two read transactions (loads are retried from the newer snapshot). Nothing may
  // fail. (With rounds this frequent most events are their entity's last when scanned, so
  // they stay: only a prefix of a history is ever removed.)
  TEST_CASE("feed retention under load: every command and read succeeds, the store verifies") {
    temp_dir dir;
    auto cfg = config_in(dir);
    cfg.feed_retention = std::chrono::milliseconds{1};
    cfg.retention_every = std::chrono::milliseconds{2};
    cfg.limits.passivate_after = std::chrono::milliseconds{8}; // loads all the time
    auto rt = start(cfg);
    std::mutex mu;
    std::vector<std::string> failures, ids;
    auto fail = [&](const std::string& what) {
      std::lock_guard<std::mutex> g{mu};
      failures.push_back(what);
    };
    std::vector<std::thread> ts;
    for (int t = 0; t < 6; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < 30; ++i) {
          auto tag = fmt::format("ul{}-{}", t, i);
          auto placed = rt->submit_order(place("SKU-1", 1, 1000), tag + "-0").get();
          if (!placed.ok()) return fail(tag + " place: " + placed.code + " " + placed.message);
          for (int step = 1; step <= 5; ++step) {
            auto c = for_order(placed.entity_id);
            if (step == 1) c.mutable_confirm_stock_reserved();
            if (step == 2) {
              c.mutable_payment_authorized()->set_payment_id("p-" + tag);
              *c.mutable_payment_authorized()->mutable_amount() = eur(1000);
            }
            if (step == 3) c.mutable_start_fulfilment();
            if (step == 4) {
              c.mutable_mark_shipped()->set_carrier("DHL");
              c.mutable_mark_shipped()->set_tracking_number("T-" + tag);
            }
            if (step == 5) c.mutable_mark_delivered();
            // Some steps wait past passivate_after: the order is loaded again for the next.
            std::this_thread::sleep_for(std::chrono::milliseconds{(t + i + step) % 4 * 4});
            auto o = rt->submit_order(c, fmt::format("{}-{}", tag, step)).get();
            if (!o.ok())
              return fail(fmt::format("{} step {}: {} {}", tag, step, o.code, o.message));
            auto st = rt->order(placed.entity_id);
            if (!st) return fail(tag + " read: " + to_string(st.error()));
          }
          std::lock_guard<std::mutex> g{mu};
          ids.push_back(placed.entity_id);
        }
      });
    for (auto& th : ts)
      th.join();
    CHECK_MESSAGE(failures.empty(), (failures.empty() ? "" : failures.front()));
    REQUIRE(ids.size() == 180);
    auto s = rt->stats();
    MESSAGE(s.feed_truncated << " log records removed, " << s.feed_snapshots << " snapshots, "
                             << s.activations << " activations");
    CHECK(s.feed_truncated > 0);
    CHECK(s.activations > 180); // orders were passivated and loaded again
    uint64_t last = rt->order(ids.front())->last_sequence();
    for (auto& id : ids) {
      auto st = rt->order(id);
      REQUIRE(st);
      CHECK(st->status() == v1::ORDER_STATUS_DELIVERED);
      CHECK(st->last_sequence() == last);
    }
    rt->stop();
    check_store_verifies(dir.path);
  }

  TEST_CASE("feed retention off (0, the default) keeps every event") {
    temp_dir dir;
    auto cfg = config_in(dir);
    CHECK(cfg.feed_retention.count() == 0);
    auto rt = start(cfg);
    for (int i = 0; i < 5; ++i)
      placed_and_paid(*rt, fmt::format("keep{}", i));
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
    REQUIRE(!rt->trim_feed());
    CHECK(rt->stats().feed_truncated == 0);
    auto all = rt->read_feed(0, 100);
    REQUIRE(all);
    CHECK(all->size() == 15);
    rt->stop();
  }
}
