// Round trip and boundaries of every journal operation.

#include <doctest/doctest.h>

#include <lmdb.h>

#include "storage/codec.hpp"
#include "storage/crc32c.hpp"
#include "test_util.hpp"

using namespace ordo::storage;
using namespace ordo::storage::test;

TEST_SUITE("storage_roundtrip") {

  TEST_CASE("crc32c matches the standard check value") {
    CHECK(crc32c("123456789") == 0xE3069283u);
    CHECK(crc32c("") == 0u);
    std::string big(1000, 'x');
    CHECK(crc32c(crc32c(std::string_view(big).substr(0, 333)), std::string_view(big).substr(333)) ==
          crc32c(big));
    CHECK(crc32c_table(0, "123456789") == 0xE3069283u);
    for (size_t n = 0; n < 40; ++n) // hardware and table paths agree at every alignment/length
      CHECK(crc32c(7, std::string_view(big).substr(n % 5, n)) ==
            crc32c_table(7, std::string_view(big).substr(n % 5, n)));
  }

  TEST_CASE("append, read back, stream with early stop, last_seq, reopen") {
    temp_dir d;
    auto o = options_for(d.path);
    {
      auto j = open_or_die(o);
      CHECK(*j->last_seq("e1") == 0);
      auto r = append_sync(*j, events_req("e1", 0, {"a", "b", "c"}));
      REQUIRE(r);
      CHECK(r->first_seq == 1);
      CHECK(r->last_seq == 3);
      CHECK(r->first_position == 1);
      CHECK(r->last_position == 3);
      auto r2 = append_sync(*j, events_req("e2", 0, {"x"}));
      REQUIRE(r2);
      CHECK(r2->first_position == 4);
      REQUIRE(append_sync(*j, events_req("e1", 3, {"d", std::string(1000, '\0')})));
      CHECK(*j->last_seq("e1") == 5);
      auto h = history(*j, "e1");
      REQUIRE(h.size() == 5);
      CHECK(h[0] == std::pair<uint64_t, std::string>{1, "a"});
      CHECK(h[3].second == "d");
      CHECK(h[4].second == std::string(1000, '\0'));
      CHECK(history(*j, "e1", 4).size() == 2);
      CHECK(history(*j, "e1", 6).empty());
      CHECK(history(*j, "nobody").empty());
      int seen = 0;
      CHECK(!j->read_events("e1", 1, [&](uint64_t, std::string_view) { return ++seen < 2; }));
      CHECK(seen == 2);
      // Entities that are prefixes of each other stay apart.
      REQUIRE(append_sync(*j, events_req("e", 0, {"short"})));
      REQUIRE(append_sync(*j, events_req(std::string("e1\0", 3), 0, {"nul"})));
      CHECK(history(*j, "e1").size() == 5);
      CHECK(history(*j, "e").size() == 1);
      CHECK(*j->last_seq("e") == 1);
      // An empty request (no events) is fine and writes nothing to the feed.
      auto empty = append_sync(*j, events_req("e2", 1, {}));
      REQUIRE(empty);
      CHECK(empty->last_seq == 1);
      CHECK(empty->first_position == 0);
    }
    auto j = open_or_die(o);
    CHECK(*j->last_seq("e1") == 5);
    CHECK(history(*j, "e1")[2].second == "c");
    CHECK(*j->feed_head() == 8);
    auto next = append_sync(*j, events_req("e2", 1, {"y"}));
    REQUIRE(next);
    CHECK(next->first_position == 9);
  }

  TEST_CASE("sequence conflicts and limits") {
    temp_dir d;
    auto o = options_for(d.path);
    o.record_max_bytes = 1000;
    auto j = open_or_die(o);
    REQUIRE(append_sync(*j, events_req("e", 0, {"a"})));
    CHECK(code_of(append_sync(*j, events_req("e", 0, {"b"}))) == storage_errc::sequence_conflict);
    CHECK(code_of(append_sync(*j, events_req("e", 2, {"b"}))) == storage_errc::sequence_conflict);
    CHECK(code_of(append_sync(*j, events_req("e", 1, {std::string(1001, 'x')}))) ==
          storage_errc::record_too_large);
    CHECK(append_sync(*j, events_req("e", 1, {std::string(1000, 'x')})));
    CHECK(code_of(append_sync(*j, events_req("", 0, {"a"}))) == storage_errc::invalid_argument);
    CHECK(code_of(append_sync(*j, events_req(std::string(256, 'e'), 0, {"a"}))) ==
          storage_errc::invalid_argument);
    CHECK(append_sync(*j, events_req(std::string(255, 'e'), 0, {"a"})));
    auto err = append_sync(*j, events_req("e", 7, {"b"}));
    CHECK(describe(err.error()).find("expected seq 7, last is 2") != std::string::npos);
    auto last = j->last_entity_with_prefix("e");
    REQUIRE(last);
    CHECK(**last == std::string(255, 'e'));
    CHECK(!*j->last_entity_with_prefix("zz"));
  }

  TEST_CASE("idempotency: duplicate carries the stored result, retention expires in batches") {
    temp_dir d;
    auto j = open_or_die(options_for(d.path));
    auto r = events_req("e", 0, {"a"});
    r.idempotency.push_back({"", "k1", "result-1"});
    r.idempotency.push_back({"other", "placement", "e"});
    r.now_ms = 1000;
    REQUIRE(append_sync(*j, r));
    CHECK(**j->find_idempotency("e", "k1") == "result-1");
    CHECK(**j->find_idempotency("other", "placement") == "e");
    CHECK(!*j->find_idempotency("e", "k2"));
    auto retry = events_req("e", 1, {"a-again"});
    retry.idempotency.push_back({"", "k1", "result-2"});
    auto dup = append_sync(*j, retry);
    REQUIRE(!dup);
    CHECK(code_of(dup) == storage_errc::duplicate);
    CHECK(*duplicate_result(dup.error()) == "result-1");
    CHECK(*j->last_seq("e") == 1); // nothing written
    for (int i = 0; i < 25; ++i) {
      auto q = events_req("e", 1 + i, {"x"});
      q.idempotency.push_back({"", fmt::format("t{}", i), "r"});
      q.now_ms = 2000 + i;
      REQUIRE(append_sync(*j, q));
    }
    CHECK(*j->expire_idempotency(1000) == 0);
    CHECK(*j->expire_idempotency(2010, 5) == 5); // k1, placement, t0..t2
    CHECK(*j->expire_idempotency(2010, 100) == 7);
    CHECK(!*j->find_idempotency("e", "k1"));
    CHECK(!*j->find_idempotency("e", "t9"));
    CHECK(*j->find_idempotency("e", "t10"));
    auto rep = verify(d.path);
    REQUIRE(rep);
    CHECK(rep->ok());
  }

  TEST_CASE("snapshots: atomic with events, standalone, keep the newest") {
    temp_dir d;
    auto j = open_or_die(options_for(d.path));
    CHECK(!*j->load_snapshot("e"));
    auto r = events_req("e", 0, {"a", "b"});
    r.snapshot = snapshot_write{2, "state@2"};
    REQUIRE(append_sync(*j, r));
    CHECK((*j->load_snapshot("e"))->seq == 2);
    CHECK((*j->load_snapshot("e"))->bytes == "state@2");
    auto beyond = events_req("e", 2, {"c"});
    beyond.snapshot = snapshot_write{4, "bad"};
    CHECK(code_of(append_sync(*j, beyond)) == storage_errc::invalid_argument);
    CHECK(*j->last_seq("e") == 2);
    REQUIRE(append_sync(*j, events_req("e", 2, {"c"})));
    CHECK(!j->save_snapshot("e", 3, "state@3"));
    CHECK((*j->load_snapshot("e"))->bytes == "state@3");
    CHECK(!j->save_snapshot("e", 1, "old")); // older: ignored
    CHECK((*j->load_snapshot("e"))->seq == 3);
    CHECK(code_of(j->save_snapshot("e", 9, "x")) == storage_errc::invalid_argument);
  }

  // Feed retention writes the snapshots of many entities in one transaction: all or none.
  TEST_CASE("save_snapshots: several in one transaction, older ones skipped, all or none") {
    temp_dir d;
    auto j = open_or_die(options_for(d.path));
    for (int i = 0; i < 6; ++i)
      REQUIRE(append_sync(*j, events_req(fmt::format("e{}", i % 2), static_cast<uint64_t>(i / 2),
                                         {fmt::format("p{}", i)})));
    using entry = journal::snapshot_entry;
    auto n = j->save_snapshots({entry{"e0", 3, "e0@3"}, entry{"e1", 2, "e1@2"}});
    REQUIRE(n);
    CHECK(*n == 2);
    CHECK((*j->load_snapshot("e0"))->bytes == "e0@3");
    CHECK((*j->load_snapshot("e1"))->seq == 2);
    n = j->save_snapshots({entry{"e0", 2, "older"}, entry{"e1", 2, "same"}});
    REQUIRE(n);
    CHECK(*n == 0); // nothing newer: nothing written
    CHECK((*j->load_snapshot("e1"))->bytes == "e1@2");
    // One bad entry (seq beyond the history) fails the batch; the good one is not written.
    n = j->save_snapshots({entry{"e1", 3, "e1@3"}, entry{"e0", 9, "x"}});
    CHECK(code_of(n.error()) == storage_errc::invalid_argument);
    CHECK((*j->load_snapshot("e1"))->seq == 2);
    CHECK(*j->save_snapshots({}) == 0);
  }

  TEST_CASE("feed: read from any offset, consumer offsets, truncation") {
    temp_dir d;
    auto j = open_or_die(options_for(d.path));
    for (int i = 0; i < 10; ++i)
      REQUIRE(append_sync(*j, events_req(fmt::format("e{}", i % 3), static_cast<uint64_t>(i / 3),
                                         {fmt::format("p{}", i)})));
    std::vector<uint64_t> pos;
    std::vector<std::string> payloads;
    auto collect = [&](uint64_t after, size_t max) {
      pos.clear();
      payloads.clear();
      return j->read_feed(after, max,
                          [&](uint64_t p, std::string_view, uint64_t, std::string_view b) {
                            pos.push_back(p);
                            payloads.emplace_back(b);
                            return true;
                          });
    };
    CHECK(!collect(0, 100));
    REQUIRE(pos.size() == 10);
    CHECK(pos.front() == 1);
    CHECK(payloads[9] == "p9");
    CHECK(!collect(7, 2));
    CHECK(pos == std::vector<uint64_t>{8, 9});
    CHECK(!collect(10, 5));
    CHECK(pos.empty());
    CHECK(!collect(99, 5));
    CHECK(pos.empty());
    // Feed records carry entity and seq.
    std::string ent;
    uint64_t sq = 0;
    CHECK(!j->read_feed(4, 1, [&](uint64_t, std::string_view e, uint64_t s, std::string_view) {
      ent = e;
      sq = s;
      return true;
    }));
    CHECK(ent == "e1");
    CHECK(sq == 2);

    CHECK(!*j->load_offset("mailer"));
    CHECK(!j->save_offset("mailer", 6));
    CHECK(**j->load_offset("mailer") == 6);
    CHECK(!j->save_offset("mailer", 8));
    CHECK(**j->load_offset("mailer") == 8);
    CHECK(!j->save_offset("consumer/b", 3));
    CHECK(!j->save_offset("consumer/a", 5));
    CHECK(!j->save_offset("consumes", 1)); // shares the prefix's first letters only
    auto listed = j->list_offsets("consumer/");
    REQUIRE(listed);
    CHECK(*listed ==
          std::vector<std::pair<std::string, uint64_t>>{{"consumer/a", 5}, {"consumer/b", 3}});
    REQUIRE(j->list_offsets(""));
    CHECK(j->list_offsets("")->size() == 4);
    CHECK(*j->delete_offset("consumer/a"));
    CHECK(!*j->delete_offset("consumer/a")); // gone already
    CHECK(!*j->load_offset("consumer/a"));
    CHECK(j->list_offsets("consumer/")->size() == 1);
    CHECK(code_of(j->delete_offset("").error()) == storage_errc::invalid_argument);

    auto before = j->feed_bounds();
    REQUIRE(before);
    CHECK(before->low_water == 0);
    CHECK(before->truncate_cursor == 0);
    CHECK(before->head == 10);
    // Snapshot e0 at seq 3 (positions 1, 4, 7 = seqs 1..3; 10 = seq 4).
    CHECK(!j->save_snapshot("e0", 3, "s"));
    auto t = j->truncate_feed(6);
    REQUIRE(t);
    CHECK(t->low_water == 6);
    auto after = j->feed_bounds();
    REQUIRE(after);
    CHECK(after->low_water == 6);
    CHECK(after->truncate_cursor == 6);
    CHECK(after->head == 10);
    CHECK(t->removed == 2); // e0 seqs 1, 2 (positions 1, 4)
    CHECK(t->kept == 4);
    CHECK(t->done);
    CHECK(code_of(collect(5, 10)) == storage_errc::truncated);
    CHECK(!collect(6, 10));
    CHECK(pos == std::vector<uint64_t>{7, 8, 9, 10});
    caf::error err;
    history(*j, "e0", 1, &err);
    CHECK(code_of(err) == storage_errc::truncated);
    auto tail = history(*j, "e0", 3, &err);
    CHECK(!err);
    CHECK(tail.size() == 2);
    CHECK(history(*j, "e1").size() == 3); // no snapshot: history kept
    REQUIRE(append_sync(*j, events_req("e0", 4, {"after"})));
    // The feed head can be truncated too; positions are never reused.
    auto all = j->truncate_feed(1000, 2);
    REQUIRE(all);
    CHECK(!all->done);
    while (!all->done)
      all = j->truncate_feed(1000, 2);
    CHECK(all->low_water == 11);
    REQUIRE(append_sync(*j, events_req("e0", 5, {"later"})));
    CHECK(!collect(11, 10));
    CHECK(pos == std::vector<uint64_t>{12});
    auto rep = verify(d.path);
    REQUIRE(rep);
    for (auto& p : rep->problems)
      MESSAGE(p);
    CHECK(rep->ok());
  }

  TEST_CASE("timers: due order, cancel, replace, survive restart") {
    temp_dir d;
    auto o = options_for(d.path);
    {
      auto j = open_or_die(o);
      auto r = events_req("a", 0, {"ev"});
      r.timer_schedules = {{"t1", 300, "a-t1"}, {"t2", 100, "a-t2"}};
      REQUIRE(append_sync(*j, r));
      auto r2 = events_req("b", 0, {});
      r2.timer_schedules = {{"t1", 200, "b-t1"}, {"t9", 50, "b-t9"}};
      REQUIRE(append_sync(*j, r2));
      auto r3 = events_req("b", 0, {});
      r3.timer_cancels = {"t9", "never-scheduled"};
      r3.timer_schedules = {{"t1", 250, "b-t1'"}}; // replace
      REQUIRE(append_sync(*j, r3));
    }
    auto j = open_or_die(o);
    std::vector<std::string> fired;
    auto due = [&](uint64_t now, size_t max) {
      fired.clear();
      REQUIRE(!j->due_timers(
          now, max,
          [&](std::string_view e, std::string_view id, uint64_t ms, std::string_view payload) {
            fired.push_back(fmt::format("{}/{}@{}={}", e, id, ms, payload));
            return true;
          }));
    };
    due(99, 10);
    CHECK(fired.empty());
    due(1000, 10);
    CHECK(fired == std::vector<std::string>{"a/t2@100=a-t2", "b/t1@250=b-t1'", "a/t1@300=a-t1"});
    due(1000, 1);
    CHECK(fired.size() == 1);
    auto c = events_req("a", 1, {"fired"});
    c.timer_cancels = {"t2"};
    REQUIRE(append_sync(*j, c));
    due(1000, 10);
    CHECK(fired.size() == 2);
    j->close(); // verify reads LMDB, which holds the log's tail once the journal is closed
    auto rep = verify(d.path);
    REQUIRE(rep);
    CHECK(rep->ok());
    CHECK(rep->timers == 2);
  }

  TEST_CASE("a store written by a newer format version is refused with a clear message") {
    temp_dir d;
    auto o = options_for(d.path);
    { open_or_die(o); }
    // Rewrite the format record as version 99, sealed correctly.
    MDB_env* env = nullptr;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, 16);
    mdb_env_set_mapsize(env, o.map_size_bytes);
    REQUIRE(mdb_env_open(env, d.path.c_str(), 0, 0644) == 0);
    MDB_txn* t = nullptr;
    mdb_txn_begin(env, nullptr, 0, &t);
    MDB_dbi meta;
    REQUIRE(mdb_dbi_open(t, "meta", 0, &meta) == 0);
    std::string body;
    codec::put_u32(body, 99);
    auto v = codec::seal("format_version", body);
    MDB_val k{14, const_cast<char*>("format_version")}, mv{v.size(), v.data()};
    REQUIRE(mdb_put(t, meta, &k, &mv, 0) == 0);
    REQUIRE(mdb_txn_commit(t) == 0);
    mdb_env_close(env);
    auto j = journal::open(o);
    REQUIRE(!j);
    CHECK(code_of(j) == storage_errc::format_too_new);
    CHECK(describe(j.error()).find("format version 99") != std::string::npos);
    MESSAGE(describe(j.error()));
  }

  TEST_CASE("submit refusals: overloaded queue, closed journal") {
    temp_dir d;
    auto o = options_for(d.path);
    o.queue_max_requests = 4;
    o.batch_max_requests = 1;
    auto j = open_or_die(o);
    std::atomic<int> done{0};
    int refused = 0;
    for (int i = 0; i < 200; ++i) {
      auto err = j->submit(events_req(fmt::format("e{}", i), 0, {"x"}),
                           [&](caf::expected<append_result>) { ++done; });
      if (err) {
        CHECK(code_of(err) == storage_errc::overloaded);
        ++refused;
      }
    }
    j->close();
    CHECK(refused > 0);
    CHECK(done.load() == 200 - refused);
    CHECK(code_of(j->submit(events_req("z", 0, {"x"}), [](auto) {})) == storage_errc::closed);
    MESSAGE("refused ", refused, " of 200 with queue_max_requests=4");
  }

} // TEST_SUITE
