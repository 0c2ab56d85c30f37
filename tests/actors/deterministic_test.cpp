// Deterministic actor tests on CAF 0.17's test_coordinator: every actor step is run by the
// test, one job at a time, so message orders that are races on a real scheduler are staged
// exactly. The journal is real (LMDB); its answers arrive as jobs the test waits for.
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <algorithm>
#include <mutex>

#include "actors/runtime/shard_actor.hpp"
#include "domain/order_id.hpp"
#include "test_runtime.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

v1::OrderCommand placed_with_id(const std::string& id) {
  auto c = place();
  c.set_order_id(id);
  return c;
}

struct fixture {
  temp_dir dir;
  std::unique_ptr<storage::journal> journal;
  domain::order_id_generator ids{1};
  runtime_env env;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  caf::actor shard;
  std::mutex mu;
  std::vector<std::pair<std::string, outcome>> answers; // (tag, outcome) in answer order
  // Journal answers, handed over from the writer thread; sent on the test thread.
  std::mutex deliveries_mu;
  std::vector<std::function<void()>> deliveries;

  fixture() {
    storage::journal_options o;
    o.dir = dir.path;
    auto j = storage::journal::open(o);
    REQUIRE(j);
    journal = std::move(*j);
    env.journal = journal.get();
    env.ids = &ids;
    env.shard_count = 1;
    env.now_ms = [] { return int64_t{1'000'000}; };
    env.limits.passivate_after = std::chrono::milliseconds{100};
    env.deliver = [this](std::function<void()> send) {
      std::lock_guard<std::mutex> g{deliveries_mu};
      deliveries.push_back(std::move(send));
    };
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    shard = sys->spawn(shard_actor<order_model>, &env, 0u);
  }

  ~fixture() {
    caf::anon_send(shard, stop_atom::value); // stops every activation, then the shard
    drain();
    caf::anon_send_exit(shard, caf::exit_reason::kill);
    drain();
    shard = nullptr;
    sys.reset();
    journal->close();
  }

  // Runs queued jobs one by one, without firing timers.
  void drain() {
    while (sched->has_job())
      sched->run_once();
  }

  // Waits (bounded) for a journal answer, sends it from this thread, runs everything queued.
  void await_journal() {
    std::vector<std::function<void()>> ready;
    for (int i = 0; i < 5'000 && ready.empty(); ++i) {
      {
        std::lock_guard<std::mutex> g{deliveries_mu};
        ready.swap(deliveries);
      }
      if (ready.empty()) std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    REQUIRE(!ready.empty());
    for (auto& send : ready)
      send();
    drain();
  }

  void send(const std::string& tag, v1::OrderCommand cmd, const std::string& key) {
    v1::Envelope e;
    e.set_entity_type(v1::ENTITY_TYPE_ORDER);
    e.set_entity_id(cmd.order_id());
    e.set_idempotency_key(key);
    *e.mutable_order_command() = std::move(cmd);
    auto r = std::make_shared<request>(std::move(e), [this, tag](outcome o) {
      std::lock_guard<std::mutex> g{mu};
      answers.emplace_back(tag, std::move(o));
    });
    caf::anon_send(shard, command_atom::value, std::move(r));
  }

  // A new order's place ("k1"), reserve ("k2") and pay (`pay_key`), sent at once.
  std::string place_reserve_pay(const std::string& pay_key) {
    auto id = ids.next(0, 1'000'000).to_string();
    send("place", placed_with_id(id), "k1");
    auto r = for_order(id);
    r.mutable_confirm_stock_reserved();
    send("reserve", r, "k2");
    auto a = for_order(id);
    a.mutable_payment_authorized()->set_payment_id("p");
    *a.mutable_payment_authorized()->mutable_amount() = eur(1000);
    send("pay", a, pay_key);
    return id;
  }

  // Fires the shard's idle sweeps (one timer per shard) up to the one that asks an order
  // no command reached since the fixture started to passivate: idle_sweeps are run, the
  // next one is left queued at the shard so a test can put a command behind it.
  void sweeps_until_asked() {
    for (uint64_t i = 0; i < idle_sweeps; ++i) {
      REQUIRE(sched->trigger_timeout());
      drain();
    }
    REQUIRE(sched->trigger_timeout());
  }

  size_t answered() {
    std::lock_guard<std::mutex> g{mu};
    return answers.size();
  }
};

} // namespace

TEST_SUITE("deterministic") {
  // Three commands reach an order at once. The first is decided and persisted alone; the
  // two that queued behind its commit are decided after it, in arrival order, and written
  // together in ONE append (limits.entity_batch_max); nobody is answered before the commit
  // that holds their events. With a batch size of 1, one command per commit.
  TEST_CASE("commands queued behind a commit are decided after it, together, in order") {
    for (size_t batch_max : {size_t{64}, size_t{1}}) {
      CAPTURE(batch_max);
      fixture f;
      f.env.limits.entity_batch_max = batch_max;
      auto id = f.place_reserve_pay("k3");
      f.drain(); // shard forwards all three; the order decides the first and persists it
      CHECK(f.answered() == 0);
      // With env.deliver an append completes before the actor goes on; its answer waits for
      // the test. So the journal holds the answered commands and the ONE batch whose answer
      // is pending — never a later one: nothing is decided ahead of the commit before it.
      CHECK(*f.journal->last_seq("o/" + id) == 1);
      const std::vector<size_t> after_each =
          batch_max == 1 ? std::vector<size_t>{1, 2, 3} : std::vector<size_t>{1, 3};
      for (size_t i = 0; i < after_each.size(); ++i) {
        f.await_journal();
        REQUIRE(f.answered() == after_each[i]);
        const size_t in_flight = i + 1 < after_each.size() ? after_each[i + 1] : after_each[i];
        CHECK(*f.journal->last_seq("o/" + id) == in_flight);
      }
      std::vector<std::string> order;
      for (auto& [tag, o] : f.answers) {
        CHECK(o.ok());
        order.push_back(tag);
      }
      CHECK(order == std::vector<std::string>{"place", "reserve", "pay"});
      CHECK(f.answers[1].second.first_seq == 2);
      CHECK(f.answers[2].second.first_seq == 3);
      CHECK(f.answers[2].second.last_seq == 3);
    }
  }

  TEST_CASE("passivation racing a new command: command first, passivation is refused") {
    fixture f;
    auto id = f.ids.next(0, 1'000'000).to_string();
    f.send("place", placed_with_id(id), "k1");
    f.drain();
    f.await_journal();
    REQUIRE(f.answered() == 1);
    // The sweep that asks the idle order to passivate and a new command reach the shard
    // back to back: the order's mailbox holds [evict, command], so it asks to passivate while
    // the command is on its way, and the shard must refuse.
    f.sweeps_until_asked();
    auto r = for_order(id);
    r.mutable_confirm_stock_reserved();
    f.send("reserve", r, "k2");
    f.drain();
    f.await_journal();
    REQUIRE(f.answered() == 2);
    CHECK(f.answers[1].second.ok());
    CHECK(f.answers[1].second.first_seq == 2);
    CHECK(f.env.counters.passivations.load() == 0); // refused: the same activation served it
    CHECK(f.env.counters.activations.load() == 1);
  }

  TEST_CASE("a command that arrives while the order is passivating reaches exactly one "
            "activation") {
    fixture f;
    auto id = f.ids.next(0, 1'000'000).to_string();
    f.send("place", placed_with_id(id), "k1");
    f.drain();
    f.await_journal();
    for (uint64_t i = 0; i < idle_sweeps; ++i) { // not idle long enough yet
      REQUIRE(f.sched->trigger_timeout());
      f.drain();
    }
    CHECK(f.env.counters.passivations.load() == 0);
    REQUIRE(f.sched->trigger_timeout());
    f.drain(); // sweep -> evict -> passivate request -> shard grants -> the activation stops
    CHECK(f.env.counters.passivations.load() == 1);
    auto r = for_order(id);
    r.mutable_confirm_stock_reserved();
    f.send("reserve", r, "k2");
    f.drain(); // a fresh activation, rebuilt from the journal
    f.await_journal();
    REQUIRE(f.answered() == 2);
    CHECK(f.answers[1].second.ok());
    CHECK(f.answers[1].second.first_seq == 2);
    CHECK(f.env.counters.activations.load() == 2);
  }

  // A client retry queued in the same batch as its first attempt: the batch stops before the
  // second use of a key, so the retry is looked up after the commit and gets the stored
  // answer (same sequences, no new events) instead of being decided twice.
  TEST_CASE("a key used twice in one queue: the second waits for the first's commit") {
    fixture f;
    auto id = f.ids.next(0, 1'000'000).to_string();
    f.send("place", placed_with_id(id), "k1");
    auto r = for_order(id);
    r.mutable_confirm_stock_reserved();
    f.send("reserve", r, "k2");
    f.send("reserve-retry", r, "k2");
    f.drain();
    f.await_journal(); // place
    f.await_journal(); // reserve (the retry stopped the batch)
    f.drain();
    REQUIRE(f.answered() == 3);
    CHECK(f.answers[1].first == "reserve");
    CHECK(f.answers[1].second.ok());
    CHECK(!f.answers[1].second.duplicate);
    CHECK(f.answers[2].first == "reserve-retry");
    CHECK(f.answers[2].second.ok());
    CHECK(f.answers[2].second.duplicate);
    CHECK(f.answers[2].second.first_seq == f.answers[1].second.first_seq);
    CHECK(*f.journal->last_seq("o/" + id) == 2);
    // The stored record leaves out the key (it is the storage key): an older record that
    // holds it parses the same.
    auto stored = f.journal->find_idempotency("o/" + id, "k2");
    REQUIRE(stored);
    REQUIRE(*stored);
    v1::IdempotencyRecord rec;
    REQUIRE(rec.ParseFromString(**stored));
    CHECK(rec.key().empty());
    CHECK(rec.accepted().first_sequence() == 2);
  }

  // Timer changes of one batch are netted in command order: StockReserved schedules the
  // payment timer and PaymentAuthorized cancels it; in one append the journal would apply the
  // cancel first, so without netting the timer would survive and fire on a paid order.
  TEST_CASE("a timer scheduled and cancelled within one batch is not left behind") {
    fixture f;
    f.env.timers.payment_timeout_ms = 5'000;
    auto id = f.place_reserve_pay("k3");
    f.drain();
    f.await_journal(); // place
    f.await_journal(); // reserve + pay, one append
    REQUIRE(f.answered() == 3);
    CHECK(*f.journal->last_seq("o/" + id) == 3);
    size_t timers = 0;
    REQUIRE(!f.journal->due_timers(
        UINT64_MAX / 2, 100, [&](std::string_view, std::string_view, uint64_t, std::string_view) {
          ++timers;
          return true;
        }));
    CHECK(timers == 0);
    // Control: a reserve alone leaves its timer.
    auto id2 = f.ids.next(0, 1'000'001).to_string();
    f.send("place2", placed_with_id(id2), "k4");
    auto r2 = for_order(id2);
    r2.mutable_confirm_stock_reserved();
    f.send("reserve2", r2, "k5");
    f.drain();
    f.await_journal();
    f.await_journal();
    REQUIRE(!f.journal->due_timers(
        UINT64_MAX / 2, 100,
        [&](std::string_view entity, std::string_view timer, uint64_t, std::string_view) {
          CHECK(entity == "o/" + id2);
          CHECK(timer == "payment");
          ++timers;
          return true;
        }));
    CHECK(timers == 1);
  }

  // A command that throws in the middle of a batch does not take the commands before it
  // down: they are decided again on the committed state and persisted; the throwing one then
  // runs alone and meets supervision (restart, and quarantine when it keeps throwing).
  TEST_CASE("a command crashing mid-batch: the earlier ones commit, it alone is quarantined") {
    fixture f;
    f.env.before_decide = [](std::string_view, const std::string& bytes) {
      v1::Envelope e;
      if (e.ParseFromString(bytes) && e.idempotency_key() == "poison")
        throw std::runtime_error("poisoned command");
    };
    auto id = f.place_reserve_pay("poison");
    f.drain();
    f.await_journal(); // place
    f.await_journal(); // reserve alone: the batch was cut before "pay"
    f.drain();
    REQUIRE(f.answered() == 3);
    CHECK(f.answers[0].second.ok());
    CHECK(f.answers[1].first == "reserve");
    CHECK(f.answers[1].second.ok());
    CHECK(f.answers[2].first == "pay");
    CHECK(f.answers[2].second.code == "quarantined");
    CHECK(f.env.counters.crashes == 3);
    CHECK(*f.journal->last_seq("o/" + id) == 2);
  }
}
