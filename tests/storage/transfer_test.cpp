// Shard transfer: export_records / import_records / drop_timers. Imported histories read like
// local ones, stay out of the importing store's feed, chain with later appends, re-import
// idempotently, refuse a store that is ahead, and survive truncation and verify().

#include <doctest/doctest.h>

#include <lmdb.h>

#include <map>
#include <set>

#include "raw_lmdb.hpp"
#include "storage/codec.hpp"
#include "test_util.hpp"

using namespace ordo::storage;
using namespace ordo::storage::test;

namespace {

constexpr uint64_t import_first = uint64_t{1} << 63;

export_selector select_entities(std::set<std::string> names) {
  export_selector s;
  s.entity = [names = std::move(names)](std::string_view e) {
    return names.count(std::string(e)) > 0;
  };
  return s;
}

/// Every batch of one export, in order (fails the test on an error or a runaway loop).
std::vector<export_batch> export_all(const journal& j, const export_selector& s,
                                     size_t max_bytes = size_t{1} << 20) {
  std::vector<export_batch> out;
  std::string resume;
  for (int i = 0; i < 10'000; ++i) {
    auto b = j.export_records(s, resume, max_bytes);
    REQUIRE_MESSAGE(b, describe(b.error()));
    out.push_back(std::move(*b));
    if (out.back().done) return out;
    resume = out.back().resume;
  }
  FAIL("export never finished");
  return out;
}

std::vector<entity_records> flatten(const std::vector<export_batch>& batches) {
  std::vector<entity_records> out;
  for (const auto& b : batches)
    out.insert(out.end(), b.entities.begin(), b.entities.end());
  return out;
}

/// What the journal answers about one entity, rendered for comparison and readable diffs.
std::string state_of(const journal& j, const std::string& entity,
                     const std::vector<std::string>& keys, uint64_t from = 1) {
  std::string s = fmt::format("last {}\n", *j.last_seq(entity));
  caf::error err;
  for (const auto& [seq, bytes] : history(j, entity, from, &err))
    s += fmt::format("event {} {}\n", seq, bytes);
  if (err) s += "read error " + describe(err) + "\n";
  if (auto snap = *j.load_snapshot(entity))
    s += fmt::format("snap {} {}\n", snap->seq, snap->bytes);
  for (const auto& k : keys)
    if (auto r = *j.find_idempotency(entity, k)) s += fmt::format("idem {} {}\n", k, *r);
  CHECK(!j.due_timers(UINT64_MAX, 100'000, [&](auto e, auto id, uint64_t due, auto payload) {
    if (e == entity) s += fmt::format("timer {} {} {}\n", id, due, payload);
    return true;
  }));
  return s;
}

std::vector<std::string> feed_of(const journal& j, uint64_t after = 0) {
  std::vector<std::string> out;
  auto err = j.read_feed(after, 100'000, [&](uint64_t pos, auto entity, uint64_t seq, auto) {
    out.push_back(fmt::format("{}:{}/{}", pos, entity, seq));
    return true;
  });
  REQUIRE_MESSAGE(!err, describe(err));
  return out;
}

/// Imported event records, from the raw store (journal closed): all in import_log, at import
/// positions; none in the feed's table.
size_t import_records_in(const std::string& dir) {
  raw_store s(dir, true);
  std::vector<std::pair<std::string, std::string>> log, imported;
  REQUIRE(s.dump_table("log", log) == 0);
  REQUIRE(s.dump_table("import_log", imported) == 0);
  for (const auto& [k, v] : log)
    CHECK(codec::get_u64(k, 0) < import_first);
  for (const auto& [k, v] : imported)
    CHECK(codec::get_u64(k, 0) >= import_first);
  return imported.size();
}

/// Runs `f(txn, dbi)` on one table of a closed store in a write transaction, then commits.
template <class F>
int with_raw_table(const std::string& dir, const char* table, F&& f) {
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_maxdbs(env, 16);
  mdb_env_set_mapsize(env, size_t{1} << 30);
  int rc = mdb_env_open(env, dir.c_str(), 0, 0644);
  MDB_txn* t = nullptr;
  MDB_dbi d = 0;
  if (rc == 0) rc = mdb_txn_begin(env, nullptr, 0, &t);
  if (rc == 0) rc = mdb_dbi_open(t, table, 0, &d);
  if (rc == 0) rc = f(t, d);
  if (rc == 0) {
    rc = mdb_txn_commit(t);
  } else if (t != nullptr) {
    mdb_txn_abort(t);
  }
  mdb_env_close(env);
  return rc;
}

void check_verified(const std::string& dir) {
  auto rep = verify(dir);
  REQUIRE(rep);
  std::string all;
  for (const auto& p : rep->problems)
    all += p + "\n";
  CHECK_MESSAGE(rep->ok(), all);
}

// A source store: o/1 (3 events, snapshot, idempotency, 2 timers), o/2 (2 events, a timer),
// o/3 (not moved), placement records under "p", and "q" with idempotency records only.
void populate(journal& j) {
  auto r = events_req("o/1", 0, {"created", "paid"});
  r.idempotency.push_back({"", "k1", "result-1"});
  r.idempotency.push_back({"p", "c1", "o/1"});
  r.idempotency.push_back({"q", "only", "idem-only"});
  r.timer_schedules.push_back({"expire", 9000, "expire-payload"});
  r.timer_schedules.push_back({"remind", 5000, "remind-payload"});
  r.now_ms = 1000;
  REQUIRE(append_sync(j, r));
  r = events_req("o/1", 2, {"shipped"});
  r.idempotency.push_back({"", "k2", "result-2"});
  r.snapshot = snapshot_write{2, "state@2"};
  r.now_ms = 1100;
  REQUIRE(append_sync(j, r));
  r = events_req("o/2", 0, {"created", "cancelled"});
  r.idempotency.push_back({"p", "c2", "o/2"});
  r.timer_schedules.push_back({"expire", 7000, "x"});
  r.now_ms = 1200;
  REQUIRE(append_sync(j, r));
  r = events_req("o/3", 0, {"created"});
  r.idempotency.push_back({"p", "c3", "o/3"});
  r.timer_schedules.push_back({"expire", 6000, "y"});
  r.now_ms = 1300;
  REQUIRE(append_sync(j, r));
}

const std::vector<std::string> keys = {"k1", "k2", "c1", "c2", "c3", "only"};

} // namespace

TEST_SUITE("storage_transfer") {

  TEST_CASE("round trip: the imported entities read the same, stay out of the feed, chain on") {
    temp_dir src_dir, dst_dir;
    auto src = open_or_die(options_for(src_dir.path));
    populate(*src);
    auto dst = open_or_die(options_for(dst_dir.path));
    REQUIRE(append_sync(*dst, events_req("x/1", 0, {"local-a", "local-b"})));
    const auto feed_before = feed_of(*dst);
    const uint64_t head = *dst->feed_head();

    auto batches = export_all(*src, select_entities({"o/1", "o/2", "q"}));
    REQUIRE(batches.size() == 1);
    auto records = flatten(batches);
    REQUIRE(records.size() == 3); // o/1, o/2, q in entity-key order (length first)
    CHECK(records[0].entity == "q");
    CHECK(records[0].events.empty());
    REQUIRE(records[0].idempotency.size() == 1);
    CHECK(records[0].idempotency[0].created_ms == 1000);
    CHECK(records[1].entity == "o/1");
    CHECK(records[1].events.size() == 3);
    CHECK(records[1].timers.size() == 2);
    CHECK(records[1].idempotency.size() == 2);
    REQUIRE(!dst->import_records(records));

    for (const char* e : {"o/1", "o/2", "q"})
      CHECK(state_of(*dst, e, keys) == state_of(*src, e, keys));
    CHECK(*dst->last_seq("o/3") == 0);
    CHECK(!*dst->find_idempotency("p", "c1")); // not selected
    CHECK(feed_of(*dst) == feed_before);       // imported events are not in the feed
    CHECK(*dst->feed_head() == head);
    CHECK(*dst->last_entity_with_prefix("o/") == std::string("o/2"));

    // Appends continue the imported history and its checksum chain, on the feed.
    for (uint64_t i = 0; i < 20; ++i) {
      auto r = append_sync(*dst, events_req("o/1", 3 + i, {fmt::format("later-{}", i)}));
      REQUIRE(r);
      CHECK(r->first_position == head + 1 + i);
    }
    CHECK(history(*dst, "o/1").size() == 23);
    CHECK(feed_of(*dst, head).size() == 20);
    REQUIRE(append_sync(*dst, events_req("x/1", 2, {"local-c"})));
    src.reset();
    dst.reset();
    check_verified(src_dir.path);
    check_verified(dst_dir.path);
    CHECK(import_records_in(dst_dir.path) == 5);
    CHECK(import_records_in(src_dir.path) == 0);
  }

  TEST_CASE("importing the same batch twice changes nothing") {
    temp_dir src_dir, dst_dir;
    auto src = open_or_die(options_for(src_dir.path));
    populate(*src);
    auto records = flatten(export_all(*src, select_entities({"o/1", "o/2", "q"})));
    std::map<std::string, std::map<std::string, std::string>> once, twice;
    std::vector<std::pair<std::string, std::string>> imported_once, imported_twice;
    {
      auto dst = open_or_die(options_for(dst_dir.path));
      REQUIRE(!dst->import_records(records));
    }
    REQUIRE(dump_store(dst_dir.path, once) == 0);
    REQUIRE(raw_store(dst_dir.path, true).dump_table("import_log", imported_once) == 0);
    {
      auto dst = open_or_die(options_for(dst_dir.path));
      REQUIRE(!dst->import_records(records));
      REQUIRE(!dst->import_records(records));
    }
    REQUIRE(dump_store(dst_dir.path, twice) == 0);
    REQUIRE(raw_store(dst_dir.path, true).dump_table("import_log", imported_twice) == 0);
    CHECK(once == twice);
    CHECK(imported_once == imported_twice);
    CHECK(import_records_in(dst_dir.path) == 5);
  }

  TEST_CASE("a longer history imports only the events the store lacks, both ways") {
    temp_dir a_dir, b_dir;
    auto a = open_or_die(options_for(a_dir.path));
    auto b = open_or_die(options_for(b_dir.path));
    populate(*a);
    const auto sel = select_entities({"o/1"});
    REQUIRE(!b->import_records(flatten(export_all(*a, sel))));
    // a goes on: two more events, another key, the timers change.
    auto r = events_req("o/1", 3, {"delivered", "closed"});
    r.idempotency.push_back({"", "k3", "result-3"});
    r.timer_cancels.push_back("remind");
    r.timer_schedules.push_back({"archive", 20000, "z"});
    r.snapshot = snapshot_write{5, "state@5"};
    r.now_ms = 2000;
    REQUIRE(append_sync(*a, r));
    REQUIRE(!b->import_records(flatten(export_all(*a, sel))));
    auto k = keys;
    k.push_back("k3");
    CHECK(state_of(*b, "o/1", k) == state_of(*a, "o/1", k));
    CHECK(state_of(*b, "o/1", k).find("remind") == std::string::npos);

    // The shard goes back: b appended meanwhile, a (which has 1..5 in its feed) takes 6..7.
    REQUIRE(append_sync(*b, events_req("o/1", 5, {"reopened", "closed-again"})));
    const uint64_t a_head = *a->feed_head();
    REQUIRE(!a->import_records(flatten(export_all(*b, sel))));
    CHECK(state_of(*a, "o/1", k) == state_of(*b, "o/1", k));
    CHECK(*a->feed_head() == a_head);
    REQUIRE(append_sync(*a, events_req("o/1", 7, {"after-return"})));
    CHECK(history(*a, "o/1").size() == 8);
    a.reset();
    b.reset();
    check_verified(a_dir.path);
    check_verified(b_dir.path);
    CHECK(import_records_in(a_dir.path) == 2);
    CHECK(import_records_in(b_dir.path) == 5);
  }

  TEST_CASE("conflicts: a store ahead of the batch, a gap, a diverged history; nothing written") {
    temp_dir src_dir, dst_dir;
    auto src = open_or_die(options_for(src_dir.path));
    populate(*src);
    auto old_batch = flatten(export_all(*src, select_entities({"o/2", "o/1"})));
    auto dst = open_or_die(options_for(dst_dir.path));
    REQUIRE(!dst->import_records(old_batch));
    REQUIRE(append_sync(*dst, events_req("o/1", 3, {"dst-only"})));
    REQUIRE(append_sync(*src, events_req("o/2", 2, {"src-more"})));
    // o/2 alone would import fine; o/1 is ahead here: the whole batch is refused.
    auto batch = flatten(export_all(*src, select_entities({"o/2", "o/1"})));
    auto err = dst->import_records(batch);
    CHECK(code_of(err) == storage_errc::sequence_conflict);
    CHECK_MESSAGE(describe(err).find("o/1") != std::string::npos, describe(err));
    CHECK(*dst->last_seq("o/2") == 2);
    CHECK(*dst->last_seq("o/1") == 4);

    // A gap: the batch starts after the local last seq + 1.
    entity_records gap;
    gap.entity = "o/2";
    gap.events = {{4, "four"}, {5, "five"}};
    gap.latest_snapshot = snapshot{3, "state@3"};
    CHECK(code_of(dst->import_records({gap})) == storage_errc::sequence_conflict);
    // A diverged history: same seqs, other bytes.
    entity_records diverged;
    diverged.entity = "o/2";
    diverged.events = {{2, "something-else"}, {3, "three"}};
    err = dst->import_records({diverged});
    CHECK(code_of(err) == storage_errc::sequence_conflict);
    CHECK(describe(err).find("diverged") != std::string::npos);
    CHECK(*dst->last_seq("o/2") == 2);
    dst.reset();
    CHECK(import_records_in(dst_dir.path) == 5);
    check_verified(dst_dir.path);
  }

  TEST_CASE("malformed batches are refused before anything is written") {
    temp_dir d;
    auto o = options_for(d.path);
    o.record_max_bytes = 100;
    auto j = open_or_die(o);
    auto with = [](auto change) {
      entity_records e;
      e.entity = "e";
      e.events = {{1, "a"}, {2, "b"}};
      change(e);
      return std::vector<entity_records>{e};
    };
    auto invalid = storage_errc::invalid_argument;
    CHECK(code_of(j->import_records(with([](auto& e) { e.entity = ""; }))) == invalid);
    CHECK(code_of(j->import_records(with([](auto& e) { e.entity = std::string(256, 'e'); }))) ==
          invalid);
    CHECK(code_of(j->import_records(with([](auto& e) { e.events[1].seq = 3; }))) == invalid);
    CHECK(code_of(j->import_records(with([](auto& e) { e.events[0].seq = 0; }))) == invalid);
    CHECK(code_of(j->import_records(with([](auto& e) {
            e.idempotency.push_back({"", 1, "r"});
          }))) == invalid);
    CHECK(code_of(j->import_records(with([](auto& e) {
            e.idempotency.push_back({std::string(201, 'k'), 1, "r"});
          }))) == invalid);
    CHECK(code_of(j->import_records(with([](auto& e) {
            e.timers.push_back({std::string(201, 't'), 1, "p"});
          }))) == invalid);
    CHECK(code_of(j->import_records(with([](auto& e) { e.events[0].bytes.assign(101, 'x'); }))) ==
          storage_errc::record_too_large);
    CHECK(code_of(j->import_records(with([](auto& e) {
            e.latest_snapshot = snapshot{3, "beyond"};
          }))) == invalid);
    CHECK(code_of(j->import_records(with([](auto& e) {
            e.events = {{5, "e"}, {6, "f"}}; // truncated history without a covering snapshot
            e.latest_snapshot = snapshot{3, "too-old"};
          }))) == invalid);
    CHECK(*j->last_seq("e") == 0);
    CHECK(!j->import_records({}));
    CHECK(code_of(j->export_records({}, "Zjunk", 100)) == invalid);
    CHECK(code_of(j->export_records({}, "E", 100)) == invalid);
    j->close();
    CHECK(code_of(j->import_records(with([](auto&) {}))) == storage_errc::closed);
    CHECK(code_of(j->drop_timers(select_entities({"e"}))) == storage_errc::closed);
    CHECK(code_of(j->export_records(select_entities({"e"}), "", 100)) == storage_errc::closed);
  }

  TEST_CASE("single idempotency records of unselected entities (placement records)") {
    temp_dir src_dir, dst_dir;
    auto src = open_or_die(options_for(src_dir.path));
    populate(*src);
    for (int i = 4; i <= 9; ++i) {
      auto r = events_req("p", static_cast<uint64_t>(i - 4), {"placement-log"});
      r.idempotency.push_back({"", fmt::format("c{}", i), fmt::format("o/{}", i)});
      r.now_ms = static_cast<uint64_t>(3000 + i);
      REQUIRE(append_sync(*src, r));
    }
    auto sel = select_entities({"o/1"});
    // Placement records of even clients; c1 belongs to o/1, which is exported whole anyway.
    sel.idempotency_record = [](std::string_view e, std::string_view k) {
      return e == "p" && (k == "c1" || k == "c4" || k == "c6" || k == "c8");
    };
    auto records = flatten(export_all(*src, sel));
    REQUIRE(records.size() == 2); // whole entities first, then the single records
    CHECK(records[0].entity == "o/1");
    CHECK(records[1].entity == "p");
    CHECK(records[1].events.empty());
    CHECK(!records[1].latest_snapshot);
    std::vector<std::string> got;
    for (const auto& r : records[1].idempotency)
      got.push_back(r.key + "=" + r.result);
    CHECK(got == std::vector<std::string>{"c1=o/1", "c4=o/4", "c6=o/6", "c8=o/8"});

    auto dst = open_or_die(options_for(dst_dir.path));
    // The importing store's own "p": its events, records and a timer stay.
    auto local = events_req("p", 0, {"dst-placement-log"});
    local.idempotency.push_back({"", "c99", "o/99"});
    local.timer_schedules.push_back({"sweep", 100, "s"});
    REQUIRE(append_sync(*dst, local));
    REQUIRE(!dst->import_records(records));
    CHECK(**dst->find_idempotency("p", "c4") == "o/4");
    CHECK(**dst->find_idempotency("p", "c1") == "o/1");
    CHECK(!*dst->find_idempotency("p", "c5"));
    CHECK(**dst->find_idempotency("p", "c99") == "o/99");
    CHECK(*dst->last_seq("p") == 1);
    CHECK(state_of(*dst, "p", {}).find("timer sweep") != std::string::npos);
    CHECK(state_of(*dst, "o/1", keys) == state_of(*src, "o/1", keys));
    // Only the records: the other way round selects nothing whole.
    export_selector only;
    only.idempotency_record = [](std::string_view e, std::string_view) { return e == "p"; };
    auto just = flatten(export_all(*src, only));
    REQUIRE(just.size() == 1);
    CHECK(just[0].idempotency.size() == 9); // c1..c9
    CHECK(flatten(export_all(*src, export_selector{})).empty());
    dst.reset();
    check_verified(dst_dir.path);
  }

  TEST_CASE("export_named: the named entities whole and the named records, nothing else") {
    temp_dir src_dir, dst_dir;
    auto src = open_or_die(options_for(src_dir.path));
    populate(*src);
    auto named = src->export_named({"o/1", "o/never-stored"}, {{"p", "c2"}, {"p", "absent"}});
    REQUIRE_MESSAGE(named, describe(named.error()));
    REQUIRE(named->size() == 2);
    // The same records export_records gives for o/1.
    auto whole = flatten(export_all(*src, select_entities({"o/1"})));
    REQUIRE(whole.size() == 1);
    CHECK((*named)[0].entity == "o/1");
    CHECK((*named)[0].events.size() == whole[0].events.size());
    CHECK((*named)[0].timers.size() == whole[0].timers.size());
    CHECK((*named)[0].idempotency.size() == whole[0].idempotency.size());
    CHECK((*named)[1].entity == "p");
    REQUIRE((*named)[1].idempotency.size() == 1);
    CHECK((*named)[1].idempotency[0].key == "c2");
    auto dst = open_or_die(options_for(dst_dir.path));
    REQUIRE(!dst->import_records(*named));
    CHECK(state_of(*dst, "o/1", keys) == state_of(*src, "o/1", keys));
    CHECK(**dst->find_idempotency("p", "c2") == "o/2");
    CHECK(!*dst->find_idempotency("p", "c1"));
    CHECK(*dst->last_seq("o/2") == 0);
    // The delta after more appends: import extends what the first import wrote.
    REQUIRE(append_sync(*src, events_req("o/1", 3, {"delivered"})));
    auto delta = src->export_named({"o/1"}, {});
    REQUIRE(delta);
    REQUIRE(!dst->import_records(*delta));
    CHECK(state_of(*dst, "o/1", keys) == state_of(*src, "o/1", keys));
    CHECK(!src->export_named({std::string(256, 'x')}, {}));
    dst.reset();
    check_verified(dst_dir.path);
  }

  TEST_CASE("small batches cover every selected entity and record exactly once") {
    temp_dir src_dir, dst_dir;
    auto src = open_or_die(options_for(src_dir.path));
    std::set<std::string> chosen;
    for (int i = 0; i < 60; ++i) {
      auto name = fmt::format("o/{:03}", i);
      std::vector<std::string> evs;
      for (int k = 0; k <= i % 4; ++k)
        evs.push_back(std::string(static_cast<size_t>(20 + 7 * i), static_cast<char>('a' + k)));
      auto r = events_req(name, 0, evs);
      r.idempotency.push_back({"p", fmt::format("client-{:03}", i), name});
      r.now_ms = 1000;
      REQUIRE(append_sync(*src, r));
      if (i % 3 != 0) chosen.insert(name);
    }
    auto sel = select_entities(chosen);
    sel.idempotency_record = [](std::string_view e, std::string_view k) {
      return e == "p" && k.back() % 2 == 0;
    };
    for (size_t max_bytes : {size_t{0}, size_t{100}, size_t{700}, size_t{1} << 20}) {
      CAPTURE(max_bytes);
      auto batches = export_all(*src, sel, max_bytes);
      std::map<std::string, int> whole;
      std::map<std::string, int> placements;
      for (size_t i = 0; i < batches.size(); ++i) {
        const auto& b = batches[i];
        CHECK(!b.entities.empty());
        CHECK(b.done == (i + 1 == batches.size()));
        size_t bytes = 0;
        for (const auto& e : b.entities) {
          if (e.entity == "p") {
            for (const auto& r : e.idempotency)
              ++placements[r.key];
            bytes += e.idempotency.size() * 20;
          } else {
            ++whole[e.entity];
            for (const auto& ev : e.events)
              bytes += ev.bytes.size();
          }
        }
        if (b.entities.size() > 1) CHECK(bytes <= max_bytes);
      }
      CHECK(whole.size() == chosen.size());
      for (const auto& [name, n] : whole)
        CHECK_MESSAGE(n == 1, name);
      CHECK(placements.size() == 30);
      for (const auto& [key, n] : placements)
        CHECK_MESSAGE(n == 1, key);
      if (max_bytes == 100) {
        auto dst = open_or_die(options_for(dst_dir.path));
        for (const auto& b : batches)
          REQUIRE(!dst->import_records(b.entities));
        for (const auto& name : chosen)
          CHECK(state_of(*dst, name, {}) == state_of(*src, name, {}));
        CHECK(**dst->find_idempotency("p", "client-002") == "o/002");
        CHECK(!*dst->find_idempotency("p", "client-001"));
      }
    }
  }

  TEST_CASE("drop_timers removes the timers of the selected entities only") {
    temp_dir d;
    auto j = open_or_die(options_for(d.path));
    for (const char* e : {"a", "b", "c"}) {
      auto r = events_req(e, 0, {"x"});
      r.timer_schedules.push_back({"t1", 100, "p1"});
      r.timer_schedules.push_back({"t2", 200, "p2"});
      REQUIRE(append_sync(*j, r));
    }
    CHECK(*j->drop_timers(export_selector{}) == 0);
    CHECK(*j->drop_timers(select_entities({"a", "c", "nobody"})) == 4);
    std::vector<std::string> left;
    CHECK(!j->due_timers(UINT64_MAX, 100, [&](auto e, auto id, uint64_t, auto) {
      left.push_back(fmt::format("{}/{}", e, id));
      return true;
    }));
    CHECK(left == std::vector<std::string>{"b/t1", "b/t2"});
    CHECK(*j->drop_timers(select_entities({"a"})) == 0);
    CHECK(*j->last_seq("a") == 1); // only the timers went
    j.reset();
    check_verified(d.path);
  }

  TEST_CASE("a truncated history exports from its first kept event and imports") {
    temp_dir src_dir, dst_dir, old_dir;
    auto src = open_or_die(options_for(src_dir.path));
    auto old_copy = open_or_die(options_for(old_dir.path));
    REQUIRE(append_sync(*src, events_req("o/1", 0, {"e1", "e2", "e3"})));
    REQUIRE(!old_copy->import_records(flatten(export_all(*src, select_entities({"o/1"})))));
    auto r = events_req("o/1", 3, {"e4", "e5", "e6"});
    r.snapshot = snapshot_write{4, "state@4"};
    REQUIRE(append_sync(*src, r));
    auto t = src->truncate_feed(*src->feed_head());
    REQUIRE(t);
    CHECK(t->removed == 4);
    auto records = flatten(export_all(*src, select_entities({"o/1"})));
    REQUIRE(records.size() == 1);
    REQUIRE(records[0].events.size() == 2);
    CHECK(records[0].events[0].seq == 5);
    CHECK(records[0].latest_snapshot->seq == 4);

    auto dst = open_or_die(options_for(dst_dir.path));
    REQUIRE(!dst->import_records(records));
    CHECK(*dst->last_seq("o/1") == 6);
    CHECK(state_of(*dst, "o/1", {}, 5) == state_of(*src, "o/1", {}, 5));
    caf::error err;
    history(*dst, "o/1", 1, &err);
    CHECK(code_of(err) == storage_errc::truncated);
    REQUIRE(append_sync(*dst, events_req("o/1", 6, {"e7"})));
    CHECK(history(*dst, "o/1", 5).size() == 3);
    // A store holding 1..3 lacks 4, which the batch no longer has: a gap.
    CHECK(code_of(old_copy->import_records(records)) == storage_errc::sequence_conflict);
    src.reset();
    dst.reset();
    old_copy.reset();
    check_verified(src_dir.path);
    check_verified(dst_dir.path);
  }

  TEST_CASE("a damaged import-range record is caught by reads, export and verify") {
    temp_dir src_dir, dst_dir;
    {
      auto src = open_or_die(options_for(src_dir.path));
      populate(*src);
      auto dst = open_or_die(options_for(dst_dir.path));
      REQUIRE(!dst->import_records(flatten(export_all(*src, select_entities({"o/1"})))));
    }
    std::vector<std::pair<std::string, std::string>> log;
    {
      raw_store s(dst_dir.path);
      REQUIRE(s.dump_table("import_log", log) == 0);
    }
    REQUIRE(log.size() == 3);
    for (const auto& [key, value] : log) {
      const uint64_t pos = codec::get_u64(key, 0);
      REQUIRE(pos >= import_first);
      auto seq = codec::decode_log(key, value)->seq;
      for (size_t at : {size_t{2}, size_t{9}, value.size() - 1}) {
        auto bad = value;
        bad[at] = static_cast<char>(bad[at] ^ 0x40);
        {
          raw_store s(dst_dir.path);
          REQUIRE(s.put("import_log", key, bad) == 0);
        }
        {
          auto j = open_or_die(options_for(dst_dir.path));
          caf::error err;
          history(*j, "o/1", 1, &err);
          CHECK(code_of(err) == storage_errc::corrupted);
          auto msg = describe(err);
          CHECK_MESSAGE(msg.find(fmt::format("seq {}", seq)) != std::string::npos, msg);
          CHECK_MESSAGE(msg.find("import position") != std::string::npos, msg);
          CHECK(code_of(j->export_records(select_entities({"o/1"}), "", 1000)) ==
                storage_errc::corrupted);
          CHECK(feed_of(*j).empty()); // the feed never reads them
        }
        auto rep = verify(dst_dir.path);
        REQUIRE(rep);
        CHECK(!rep->ok());
        raw_store s(dst_dir.path);
        REQUIRE(s.put("import_log", key, value) == 0);
      }
    }
    check_verified(dst_dir.path);
  }

  TEST_CASE("read_feed and truncate_feed never touch imported records") {
    temp_dir src_dir, dst_dir;
    auto src = open_or_die(options_for(src_dir.path));
    populate(*src);
    auto dst = open_or_die(options_for(dst_dir.path));
    REQUIRE(append_sync(*dst, events_req("x", 0, {"x1", "x2", "x3"})));
    REQUIRE(!dst->import_records(flatten(export_all(*src, select_entities({"o/1"})))));
    auto r = events_req("o/1", 3, {"local-4", "local-5", "local-6"});
    r.snapshot = snapshot_write{6, "state@6"};
    REQUIRE(append_sync(*dst, r));
    REQUIRE(!dst->save_snapshot("x", 3, "x@3"));
    const uint64_t head = *dst->feed_head();
    CHECK(head == 6);
    CHECK(feed_of(*dst).size() == 6);
    CHECK(feed_of(*dst, head).empty());
    CHECK(feed_of(*dst, import_first - 1).empty());
    CHECK(feed_of(*dst, UINT64_MAX).empty());
    auto t = dst->truncate_feed(head, 2); // in bounded steps
    REQUIRE(t);
    while (!t->done) {
      t = dst->truncate_feed(head, 2);
      REQUIRE(t);
    }
    // x loses x1, x2; o/1 keeps local-4, -5: its imported 1..3 are still stored before them.
    CHECK(history(*dst, "o/1").size() == 6);
    CHECK(history(*dst, "x", 3).size() == 1);
    CHECK(code_of(dst->read_feed(0, 10, [](auto...) { return true; })) == storage_errc::truncated);
    CHECK(feed_of(*dst, head).empty());
    REQUIRE(append_sync(*dst, events_req("o/1", 6, {"local-7"})));
    CHECK(feed_of(*dst, head).size() == 1);
    dst.reset();
    CHECK(import_records_in(dst_dir.path) == 3);
    check_verified(dst_dir.path);
  }

  TEST_CASE("truncate_feed removes only a prefix of an entity's history") {
    // Regression: events kept by an earlier call (no snapshot then) used to stay while later
    // ones went, leaving a gap that read_events and verify report as corruption.
    temp_dir d;
    auto j = open_or_die(options_for(d.path));
    REQUIRE(append_sync(*j, events_req("e", 0, {"1", "2", "3", "4"})));
    CHECK(j->truncate_feed(4)->kept == 4);
    REQUIRE(append_sync(*j, events_req("e", 4, {"5", "6", "7", "8"})));
    REQUIRE(!j->save_snapshot("e", 8, "s@8"));
    REQUIRE(j->truncate_feed(8));
    caf::error err;
    CHECK(history(*j, "e", 1, &err).size() == 8);
    CHECK(!err);
    j.reset();
    check_verified(d.path);
  }
  TEST_CASE("imported records leave the feed's pages packed (the writer keeps MDB_APPEND)") {
    temp_dir d;
    auto o = options_for(d.path);
    o.mode = durability::no_sync;
    auto j = open_or_die(o);
    entity_records e;
    e.entity = "imported";
    for (uint64_t s = 1; s <= 200; ++s)
      e.events.push_back({s, std::string(300, 'i')});
    REQUIRE(!j->import_records({e}));
    for (int i = 0; i < 100; ++i)
      REQUIRE(append_sync(*j, events_req(fmt::format("e{:03}", i), 0,
                                         std::vector<std::string>(20, std::string(300, 'x')))));
    j.reset();
    MDB_stat st{};
    REQUIRE(with_raw_table(d.path, "log",
                           [&](MDB_txn* t, MDB_dbi dbi) { return mdb_stat(t, dbi, &st); }) == 0);
    CHECK(st.ms_entries == 2000);
    // 11 records of ~330 bytes fit a 4 KiB page; mid-page splits would leave about 7.
    CHECK_MESSAGE(st.ms_leaf_pages <= 2000 / 10, st.ms_leaf_pages);
    check_verified(d.path);
  }

  TEST_CASE("a store without an import table (older build) verifies, opens and imports") {
    temp_dir d;
    {
      auto j = open_or_die(options_for(d.path));
      REQUIRE(append_sync(*j, events_req("e", 0, {"a"})));
    }
    REQUIRE(with_raw_table(d.path, "import_log",
                           [](MDB_txn* t, MDB_dbi dbi) { return mdb_drop(t, dbi, 1); }) == 0);
    check_verified(d.path);
    auto j = open_or_die(options_for(d.path));
    entity_records e;
    e.entity = "moved";
    e.events = {{1, "m1"}};
    REQUIRE(!j->import_records({e}));
    CHECK(history(*j, "moved").size() == 1);
    j.reset();
    check_verified(d.path);
  }

  TEST_CASE("a store of an older format is marked current when this build opens it") {
    temp_dir d;
    auto format_of = [&] {
      raw_store raw{d.path, true};
      std::vector<std::pair<std::string, std::string>> meta;
      REQUIRE(raw.dump_table("meta", meta) == 0);
      for (const auto& [k, v] : meta)
        if (k == "format_version") return codec::get_u32(*codec::unseal(k, v), 0);
      FAIL("no format record");
      return uint32_t{0};
    };
    auto set_format = [&](uint32_t version) {
      std::string body;
      codec::put_u32(body, version);
      auto v = codec::seal("format_version", body);
      REQUIRE(with_raw_table(d.path, "meta", [&](MDB_txn* t, MDB_dbi dbi) {
                MDB_val k{14, const_cast<char*>("format_version")}, mv{v.size(), v.data()};
                return mdb_put(t, dbi, &k, &mv, 0);
              }) == 0);
    };
    { open_or_die(options_for(d.path)); }
    CHECK(format_of() == format_version);
    for (uint32_t older : {1u, 2u}) {
      set_format(older); // as an older build wrote it
      { open_or_die(options_for(d.path)); }
      // Opening marks it current: acknowledged data may now live in the shard log alone,
      // which an older build would not read, so such a build must refuse the store.
      CHECK(format_of() == format_version);
    }
  }

  TEST_CASE("verify: import records beyond the counter or missing are reported") {
    temp_dir src_dir, dst_dir;
    {
      auto src = open_or_die(options_for(src_dir.path));
      populate(*src);
      auto dst = open_or_die(options_for(dst_dir.path));
      REQUIRE(!dst->import_records(flatten(export_all(*src, select_entities({"o/2"})))));
    }
    std::vector<std::pair<std::string, std::string>> log;
    REQUIRE(raw_store(dst_dir.path, true).dump_table("import_log", log) == 0);
    REQUIRE(log.size() == 2);
    const auto [key, value] = log.back();
    REQUIRE(with_raw_table(dst_dir.path, "import_log", [&](MDB_txn* t, MDB_dbi dbi) {
              MDB_val k{key.size(), const_cast<char*>(key.data())};
              return mdb_del(t, dbi, &k, nullptr);
            }) == 0);
    auto rep = verify(dst_dir.path);
    REQUIRE(rep);
    CHECK(!rep->ok());
    {
      auto j = open_or_die(options_for(dst_dir.path));
      caf::error err;
      history(*j, "o/2", 1, &err);
      CHECK(code_of(err) == storage_errc::corrupted);
      CHECK(describe(err).find("seq 2") != std::string::npos);
    }
    raw_store(dst_dir.path).put("import_log", key, value);
    check_verified(dst_dir.path);
    auto beyond = codec::u64_key(codec::get_u64(key, 0) + 1);
    raw_store(dst_dir.path).put("import_log", beyond, value);
    rep = verify(dst_dir.path);
    REQUIRE(rep);
    CHECK(!rep->ok());
  }
}
