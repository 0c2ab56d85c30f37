// Corruption: damaged record bytes are always reported as `corrupted` naming entity and seq;
// random byte flips in the pages of a stopped store are never silently accepted.

#include <doctest/doctest.h>

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string_view>

#include "raw_lmdb.hpp"
#include "storage/codec.hpp"
#include "support/seed.hpp"
#include "test_util.hpp"

using namespace ordo::storage;
using namespace ordo::storage::test;

namespace {

// A store with every kind of record: events, idempotency, snapshots, timers, offsets.
void populate(const std::string& dir, int entities, int events_each) {
  auto j = open_or_die(options_for(dir));
  for (int e = 0; e < entities; ++e) {
    auto name = fmt::format("ent-{:04}", e);
    for (int s = 0; s < events_each; s += 2) {
      auto r = events_req(name, static_cast<uint64_t>(s),
                          {fmt::format("{}-ev{}-{}", name, s + 1, std::string(100, 'p')),
                           fmt::format("{}-ev{}-{}", name, s + 2, std::string(150, 'q'))});
      r.idempotency.push_back({"", fmt::format("key{}", s), "res"});
      r.now_ms = static_cast<uint64_t>(1000 + s);
      if (s == 2) r.snapshot = snapshot_write{4, "snapshot-" + name};
      if (s == 0) r.timer_schedules.push_back({"t", static_cast<uint64_t>(5000 + e), "payload"});
      REQUIRE(append_sync(*j, r));
    }
  }
  REQUIRE(!j->save_offset("consumer", 5));
}

std::string hex_of(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes)
    out += fmt::format("{:02x}", c);
  return out;
}

std::string flip(std::string v, size_t at, unsigned char mask) {
  v[at] = static_cast<char>(static_cast<unsigned char>(v[at]) ^ mask);
  return v;
}

} // namespace

TEST_SUITE("storage_corruption") {

  TEST_CASE("a damaged event record is caught every time, naming entity and seq") {
    std::mt19937_64 rng(ordo::test::seed_for("storage_corruption_records"));
    temp_dir d;
    populate(d.path, 20, 6);
    std::vector<std::pair<std::string, std::string>> log;
    {
      raw_store s(d.path);
      REQUIRE(s.dump_table("log", log) == 0);
    }
    REQUIRE(log.size() == 120);
    int trials = 0;
    for (size_t i = 0; i < log.size(); i += 3) {
      const auto& [key, value] = log[i];
      auto rec = codec::decode_log(key, value);
      REQUIRE(rec);
      std::string entity(rec->entity);
      uint64_t seq = rec->seq, pos = codec::get_u64(key, 0);
      size_t at = rng() % value.size();
      {
        raw_store s(d.path);
        REQUIRE(s.put("log", key, flip(value, at, static_cast<unsigned char>(1 + rng() % 255))) ==
                0);
      }
      {
        auto j = open_or_die(options_for(d.path));
        caf::error err;
        history(*j, entity, 1, &err);
        CHECK(code_of(err) == storage_errc::corrupted);
        auto msg = describe(err);
        CHECK_MESSAGE(msg.find(fmt::format("seq {}", seq)) != std::string::npos, msg);
        CHECK_MESSAGE(msg.find(entity) != std::string::npos, msg);
        auto ferr = j->read_feed(pos - 1, 10, [](auto...) { return true; });
        CHECK(code_of(ferr) == storage_errc::corrupted);
        CHECK(describe(ferr).find(fmt::format("position {}", pos)) != std::string::npos);
        auto rep = verify(d.path);
        REQUIRE(rep);
        CHECK(!rep->ok());
      }
      raw_store s(d.path);
      REQUIRE(s.put("log", key, value) == 0);
      ++trials;
    }
    auto rep = verify(d.path);
    REQUIRE(rep);
    CHECK(rep->ok());
    MESSAGE(trials, " damaged event records, all caught");
  }

  TEST_CASE("damaged index, idempotency, snapshot, timer and offset records are caught") {
    std::mt19937_64 rng(ordo::test::seed_for("storage_corruption_tables"));
    temp_dir d;
    populate(d.path, 5, 6);
    for (const char* table : {"index", "idem", "snap", "timers", "offsets", "meta"}) {
      std::vector<std::pair<std::string, std::string>> kv;
      {
        raw_store s(d.path);
        REQUIRE(s.dump_table(table, kv) == 0);
      }
      REQUIRE(!kv.empty());
      auto [key, value] = kv[rng() % kv.size()];
      {
        raw_store s(d.path);
        REQUIRE(s.put(table, key, flip(value, rng() % value.size(), 0x10)) == 0);
      }
      auto rep = verify(d.path);
      REQUIRE(rep);
      CHECK_MESSAGE(!rep->ok(), table);
      if (std::string(table) != "meta") {
        auto j = open_or_die(options_for(d.path));
        caf::error err;
        auto ent = std::string(table) == "offsets" || std::string(table) == "timers"
                       ? std::string()
                       : std::string(codec::split_pair_key(key)->first);
        if (std::string(table) == "index") history(*j, ent, 1, &err);
        if (std::string(table) == "snap") err = j->load_snapshot(ent).error();
        if (std::string(table) == "idem")
          err = j->find_idempotency(ent, codec::split_pair_key(key)->second).error();
        if (std::string(table) == "offsets") err = j->load_offset(key).error();
        if (std::string(table) == "timers")
          err = j->due_timers(UINT64_MAX, 100, [](auto...) { return true; });
        CHECK_MESSAGE(code_of(err) == storage_errc::corrupted, table);
      }
      raw_store s(d.path);
      REQUIRE(s.put(table, key, value) == 0);
    }
    auto rep = verify(d.path);
    REQUIRE(rep);
    CHECK(rep->ok());
  }

  TEST_CASE("a damaged meta key is caught, not read as an absent record with its default") {
    temp_dir d;
    populate(d.path, 3, 4);
    std::vector<std::pair<std::string, std::string>> kv;
    {
      raw_store s(d.path);
      REQUIRE(s.dump_table("meta", kv) == 0);
    }
    REQUIRE(kv.size() >= 4); // format_version, feed_next, feed_low, log_applied
    for (const auto& [key, value] : kv) {
      const auto damaged = flip(key, key.size() - 1, 0x01);
      {
        raw_store s(d.path);
        REQUIRE(s.del("meta", key) == 0);
        REQUIRE(s.put("meta", damaged, value) == 0);
      }
      auto rep = verify(d.path);
      REQUIRE(rep);
      CHECK_MESSAGE(!rep->ok(), key);
      raw_store s(d.path);
      REQUIRE(s.del("meta", damaged) == 0);
      REQUIRE(s.put("meta", key, value) == 0);
    }
    auto rep = verify(d.path);
    REQUIRE(rep);
    CHECK(rep->ok());
  }

  TEST_CASE("random byte flips in data pages of a stopped store are never silently accepted") {
    const uint64_t seed = ordo::test::seed_for("storage_corruption_pages");
    std::mt19937_64 rng(seed);
    temp_dir base;
    populate(base.path, 150, 8);
    std::map<std::string, std::map<std::string, std::string>> baseline;
    REQUIRE(dump_store(base.path, baseline) == 0);
    const auto file = base.path + "/data.mdb";
    const auto size = std::filesystem::file_size(file);
    const size_t pages = size / 4096;
    REQUIRE(pages > 10);
    int detected = 0, harmless = 0, crashed = 0, silent_change = 0, silent_loss = 0;
    // ORDO_CORRUPTION_TRIALS raises the count for a long run by hand (tests/README.md).
    const char* trials_env = std::getenv("ORDO_CORRUPTION_TRIALS");
    const int trials = trials_env ? std::max(1, std::atoi(trials_env)) : 60;
    for (int trial = 0; trial < trials; ++trial) {
      temp_dir d;
      std::filesystem::copy_file(file, d.path + "/data.mdb");
      const size_t off = (2 + rng() % (pages - 2)) * 4096 + rng() % 4096;
      {
        std::fstream f(d.path + "/data.mdb", std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(off));
        char c = 0;
        f.read(&c, 1);
        c = static_cast<char>(c ^ static_cast<char>(1 + rng() % 255));
        f.seekp(static_cast<std::streamoff>(off));
        f.write(&c, 1);
      }
      // LMDB trusts its page structure; damage there can crash it. Scan in a child.
      int fds[2];
      REQUIRE(pipe(fds) == 0);
      std::fflush(nullptr); // the child must not re-print the parent's buffered output
      pid_t pid = fork();
      if (pid == 0) {
        // Die plainly on a crash: doctest's handlers would report a failed run from the child.
        for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM})
          signal(sig, SIG_DFL);
        close(fds[0]);
        alarm(20);
        char verdict = 'H';
        std::string what; // for a silent change: which record changed, to reproduce it
        auto rep = verify(d.path);
        std::map<std::string, std::map<std::string, std::string>> now;
        bool dumped = dump_store(d.path, now) == 0;
        if (!rep || !rep->ok() || !dumped) {
          verdict = 'D';
        } else if (now != baseline) {
          verdict = 'L';
          for (const auto& [t, kv] : now)
            for (const auto& [k, v] : kv) {
              auto it = baseline[t].find(k);
              if (it == baseline[t].end() || it->second != v) {
                verdict = 'S';
                what += fmt::format(" {}[{}]", t, hex_of(k));
              }
            }
        }
        what = verdict + what;
        auto n = write(fds[1], what.data(), what.size());
        _exit(n == static_cast<ssize_t>(what.size()) ? 0 : 1);
      }
      close(fds[1]);
      char buf[512];
      auto n = read(fds[0], buf, sizeof buf);
      close(fds[0]);
      const char verdict = n > 0 ? buf[0] : 0;
      int st = 0;
      waitpid(pid, &st, 0);
      if (n < 1) {
        ++crashed;
        MESSAGE("trial ", trial, ": verify child died (signal ", WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                ")");
      } else if (verdict == 'D') {
        ++detected;
      } else if (verdict == 'H') {
        ++harmless;
      } else if (verdict == 'L') {
        ++silent_loss;
      } else {
        ++silent_change;
        MESSAGE("trial ", trial, ": byte ", off, " of data.mdb changed these records silently:",
                std::string(buf + 1, static_cast<size_t>(n - 1)));
      }
    }
    MESSAGE("page flips: ", trials, " trials, ", detected, " detected, ", crashed,
            " crashed LMDB (detected, not graceful), ", harmless, " harmless (unused bytes), ",
            silent_loss, " silent loss of whole records, ", silent_change, " SILENT CHANGES");
    CHECK(silent_change == 0);
    CHECK(silent_loss == 0);
    CHECK(detected + crashed > 0);
  }

} // TEST_SUITE
