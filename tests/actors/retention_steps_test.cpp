// The retentions' actors (actors/runtime/periodic_steps.hpp) on CAF's test_coordinator: the
// test fires their timers and runs their messages one at a time, on a real journal, so a
// round's steps, its timer and stop() are observed exactly.
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "actors/runtime/feed_retention.hpp"
#include "actors/runtime/retention.hpp"
#include "ordo/v1/envelope.pb.h"
#include "test_runtime.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

struct coordinator_fixture {
  temp_dir dir;
  std::unique_ptr<storage::journal> journal;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;

  coordinator_fixture() {
    storage::journal_options o;
    o.dir = dir.path;
    auto j = storage::journal::open(o);
    REQUIRE(j);
    journal = std::move(*j);
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  // The retentions (declared after the fixture) are stopped by now: their exits are queued,
  // and ~actor_system waits for every actor before its test_coordinator would run them.
  ~coordinator_fixture() {
    drain();
    sys.reset();
    journal->close();
  }

  // Runs queued jobs one by one, without firing timers.
  void drain() {
    while (sched->has_job())
      sched->run_once();
  }

  // One append to entity "e" of one event and an idempotency record per key, created at
  // `created_ms`.
  void write_keys(const std::vector<std::string>& keys, uint64_t created_ms) {
    storage::append_request r;
    r.entity = "e";
    r.events = {"event"};
    for (auto& k : keys)
      r.idempotency.push_back({"", k, "result"});
    r.now_ms = created_ms;
    append(std::move(r));
  }

  // Appends `events` events to `entity`, each an envelope stamped `at_ms`.
  void write_events(const std::string& entity, int events, int64_t at_ms) {
    storage::append_request r;
    r.entity = entity;
    v1::Envelope e;
    e.set_timestamp_ms(at_ms);
    for (int i = 0; i < events; ++i)
      r.events.push_back(e.SerializeAsString());
    append(std::move(r));
  }

  void append(storage::append_request r) {
    auto last = journal->last_seq(r.entity);
    REQUIRE(last);
    r.expected_seq = *last;
    std::promise<caf::expected<storage::append_result>> done;
    auto answer = done.get_future();
    REQUIRE(!journal->submit(std::move(r), [&done](caf::expected<storage::append_result> res) {
      done.set_value(std::move(res));
    }));
    REQUIRE(answer.get());
  }

  size_t stored(const std::vector<std::string>& keys) {
    size_t n = 0;
    for (auto& k : keys) {
      auto found = journal->find_idempotency("e", k);
      REQUIRE(found);
      n += found->has_value() ? 1 : 0;
    }
    return n;
  }
};

std::vector<std::string> keys(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

int64_t fixed_now() {
  return 100'000;
}

// Records older than 10 s (at fixed_now) expire, 3 per step, a round every 60 s.
retention_options three_per_step(size_t batches_per_round) {
  retention_options o;
  o.retention = std::chrono::seconds{10};
  o.every = std::chrono::seconds{60};
  o.batch = 3;
  o.batches_per_round = batches_per_round;
  return o;
}

} // namespace

TEST_SUITE("retention_steps") {
  // The round starts only when the timer fires; then each message is one step deleting at
  // most `batch` records (7 records, batch 3: 4, 1, 0 left after each run_once), and the
  // next round's timer goes on; after stop() nothing more is deleted, although a step was
  // queued when it was called.
  TEST_CASE("idempotency retention: one batch per message, rounds on the timer, none after stop") {
    coordinator_fixture f;
    auto first = keys("a", 7);
    f.write_keys(first, 1'000);
    idempotency_retention r{*f.sys, *f.journal, three_per_step(1'000), fixed_now};
    f.drain(); // the actor starts and arms its timer
    CHECK(f.stored(first) == 7);
    CHECK(r.expired() == 0);
    REQUIRE(f.sched->has_pending_timeout());

    REQUIRE(f.sched->trigger_timeout()); // the round
    std::vector<size_t> left;
    std::string left_text; // for the failure message
    while (f.sched->has_job()) {
      f.sched->run_once();
      left.push_back(f.stored(first));
      left_text += std::to_string(left.back()) + " ";
    }
    const std::vector<size_t> one_batch_each{4, 1, 0};
    CHECK_MESSAGE(left == one_batch_each, ("left after each message: " + left_text));
    CHECK(r.expired() == 7);
    CHECK(f.sched->has_pending_timeout()); // the next round

    auto second = keys("b", 6);
    f.write_keys(second, 2'000);
    REQUIRE(f.sched->trigger_timeout());
    f.sched->run_once(); // one step
    CHECK(f.stored(second) == 3);
    CHECK(f.sched->has_job()); // the next step is queued
    r.stop();
    f.drain(); // the queued step, then the exit
    while (f.sched->trigger_timeout())
      f.drain();
    CHECK(f.stored(second) == 3);
    CHECK(r.expired() == 10);
  }

  TEST_CASE("idempotency retention: a round is at most batches_per_round steps") {
    coordinator_fixture f;
    auto all = keys("c", 7);
    f.write_keys(all, 1'000);
    idempotency_retention r{*f.sys, *f.journal, three_per_step(2), fixed_now};
    f.drain();
    REQUIRE(f.sched->trigger_timeout());
    f.drain();
    CHECK(f.stored(all) == 1); // two steps of 3
    REQUIRE(f.sched->trigger_timeout());
    f.drain();
    CHECK(f.stored(all) == 0);
    r.stop();
  }

  // runtime::trim_feed runs a feed retention round on its caller's thread while the actor
  // may be due: the actor's step that finds the round running does nothing and ends its
  // round (it neither waits on a scheduler worker nor works beside it). The round is held
  // inside its first batch (its first snapshot) while the actor's timer fires.
  TEST_CASE("feed retention: an actor step never runs beside a synchronous round") {
    coordinator_fixture f;
    for (auto entity : {"e1", "e2", "e3"}) // positions 1-3, 4-6, 7-9
      f.write_events(entity, 3, 1'000);
    std::promise<void> inside, release;
    auto released = release.get_future().share();
    std::atomic<int> calls{0};
    auto snapshot = [&](const std::string& entity)
        -> caf::expected<std::optional<storage::journal::snapshot_entry>> {
      if (calls++ == 0) {
        inside.set_value();
        released.wait();
      }
      auto last = f.journal->last_seq(entity);
      if (!last) return last.error();
      return std::optional{storage::journal::snapshot_entry{entity, *last, "state"}};
    };
    feed_retention_options o;
    o.retention = std::chrono::seconds{10};
    o.every = std::chrono::seconds{60};
    o.scan_batch = 2;
    feed_retention fr{*f.sys, *f.journal, o, fixed_now, snapshot};
    f.drain();
    caf::error round_error;
    std::thread caller{[&] { round_error = fr.round(); }};
    inside.get_future().wait();
    CHECK(f.sched->trigger_timeout()); // CHECKs until the round is released: no throw here
    f.drain();                         // the actor's step
    CHECK(fr.removed() == 0);
    CHECK(fr.snapshots() == 0);
    CHECK(f.sched->has_pending_timeout()); // its next round
    release.set_value();
    caller.join();
    CHECK(!round_error);
    CHECK(fr.removed() == 6); // events 1 and 2 of each entity; each one's last stays
    REQUIRE(f.sched->trigger_timeout());
    f.drain(); // nothing left for the actor's next round
    CHECK(fr.removed() == 6);
    fr.stop();
  }

  TEST_CASE("retention 0 spawns no actor") {
    coordinator_fixture f;
    retention_options o; // retention 0
    idempotency_retention r{*f.sys, *f.journal, o, fixed_now};
    CHECK(!f.sched->has_job());
    CHECK(!f.sched->has_pending_timeout());
  }
}
