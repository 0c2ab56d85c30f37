// Many threads race appends with conflicting expected sequences: exactly one winner per
// (entity, seq), contiguous sequences, no gaps, no duplicates, feed and index agree.

#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support/seed.hpp"
#include "test_util.hpp"

using namespace ordo::storage;
using namespace ordo::storage::test;

TEST_SUITE("storage_concurrency") {

  TEST_CASE("one winner per (entity, seq) under racing submitters") {
    temp_dir d;
    auto o = options_for(d.path);
    o.batch_max_wait_us = 300; // gather racing requests into the same batch
    auto j = open_or_die(o);
    const uint64_t seed = ordo::test::seed_for("storage_concurrency");
    constexpr int threads_n = 8, attempts = 300, entities_n = 4;
    std::mutex mu;
    std::map<std::pair<std::string, uint64_t>, std::string> winners;
    int duplicates = 0, conflicts = 0, other_errors = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937_64 rng(seed + t);
        for (int a = 0; a < attempts; ++a) {
          auto entity = fmt::format("ent-{}", rng() % entities_n);
          auto last = j->last_seq(entity);
          REQUIRE(last);
          size_t n = 1 + rng() % 3;
          std::vector<std::string> evs;
          for (size_t i = 0; i < n; ++i)
            evs.push_back(fmt::format("t{}-a{}-i{}", t, a, i));
          auto res = append_sync(*j, events_req(entity, *last, evs));
          std::lock_guard<std::mutex> g{mu};
          if (res) {
            for (uint64_t s = res->first_seq; s <= res->last_seq; ++s)
              if (!winners.emplace(std::pair{entity, s}, evs[s - res->first_seq]).second)
                ++duplicates;
          } else if (code_of(res) == storage_errc::sequence_conflict) {
            ++conflicts;
          } else {
            ++other_errors;
          }
        }
      });
    }
    for (auto& th : threads)
      th.join();
    CHECK(duplicates == 0);
    CHECK(other_errors == 0);
    MESSAGE("winners (events) ", winners.size(), ", conflicts ", conflicts);
    CHECK(conflicts > 0); // the race really happened
    size_t total = 0;
    for (int e = 0; e < entities_n; ++e) {
      auto entity = fmt::format("ent-{}", e);
      auto h = history(*j, entity);
      total += h.size();
      for (size_t i = 0; i < h.size(); ++i) {
        CHECK(h[i].first == i + 1);
        auto it = winners.find({entity, h[i].first});
        REQUIRE(it != winners.end());
        CHECK(it->second == h[i].second);
      }
    }
    CHECK(total == winners.size());
    CHECK(*j->feed_head() == total);
    j->close();
    auto rep = verify(d.path);
    REQUIRE(rep);
    CHECK(rep->ok());
  }

  TEST_CASE("same expected_seq twice inside one batch: the first wins, the second conflicts") {
    temp_dir d;
    auto o = options_for(d.path);
    o.batch_max_wait_us = 200'000; // both land in one batch
    o.batch_max_requests = 2;
    auto j = open_or_die(o);
    std::promise<caf::expected<append_result>> p1, p2;
    REQUIRE(!j->submit(events_req("e", 0, {"first"}), [&](auto r) { p1.set_value(std::move(r)); }));
    REQUIRE(
        !j->submit(events_req("e", 0, {"second"}), [&](auto r) { p2.set_value(std::move(r)); }));
    auto r1 = p1.get_future().get();
    auto r2 = p2.get_future().get();
    CHECK(r1);
    CHECK(code_of(r2) == storage_errc::sequence_conflict);
    auto h = history(*j, "e");
    REQUIRE(h.size() == 1);
    CHECK(h[0].second == "first");
  }

} // TEST_SUITE
