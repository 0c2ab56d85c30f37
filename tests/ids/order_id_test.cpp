// Order ids: text round trip, shard extraction, ordering, uniqueness under concurrency and
// safety when the clock steps backwards.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "domain/order_id.hpp"
#include "support/seed.hpp"

using namespace ordo::domain;

TEST_SUITE("order_id_format") {
  TEST_CASE("text round trip keeps every field, for random ids") {
    std::mt19937_64 rng{ordo::test::seed_for("order_id text round trip")};
    for (int i = 0; i < 10000; ++i) {
      auto id = make_order_id(rng() & order_id::time_ms_max, static_cast<uint16_t>(rng()),
                              static_cast<uint16_t>(rng()), rng() & order_id::counter_max);
      auto text = id.to_string();
      REQUIRE(text.size() == 26);
      auto back = parse_order_id(text);
      REQUIRE(back.has_value());
      CHECK(*back == id);
      CHECK(shard_of(text) == id.shard());
    }
  }

  TEST_CASE("text order equals id order") {
    std::mt19937_64 rng{ordo::test::seed_for("order_id text order")};
    for (int i = 0; i < 10000; ++i) {
      auto a = make_order_id(rng() & order_id::time_ms_max, static_cast<uint16_t>(rng()), 1,
                             rng() & 0xFFFF);
      auto b = make_order_id(rng() & order_id::time_ms_max, static_cast<uint16_t>(rng()), 1,
                             rng() & 0xFFFF);
      CHECK((a < b) == (a.to_string() < b.to_string()));
    }
  }

  TEST_CASE("extremes encode and decode") {
    auto lo = make_order_id(0, 0, 0, 0);
    auto hi = make_order_id(order_id::time_ms_max, 0xFFFF, 0xFFFF, order_id::counter_max);
    CHECK(lo.to_string() == std::string(26, '0'));
    CHECK(hi.to_string() == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ");
    CHECK(parse_order_id(hi.to_string()) == hi);
  }

  TEST_CASE("parsing rejects bad text with a precise reason") {
    std::string why;
    CHECK_FALSE(parse_order_id("", &why));
    CHECK(why == "order id must be 26 characters, got 0");
    CHECK_FALSE(parse_order_id("0000000000000000000000000U", &why));
    CHECK(why == "order id has invalid character at position 25");
    CHECK_FALSE(parse_order_id("8ZZZZZZZZZZZZZZZZZZZZZZZZZ", &why));
    CHECK(why.find("out of range") != std::string::npos);
    CHECK_FALSE(shard_of("not-an-id"));
    // Lower case is accepted (Crockford), and means the same id.
    auto id = make_order_id(123456789, 42, 7, 99);
    std::string lower = id.to_string();
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    CHECK(parse_order_id(lower) == id);
  }
}

TEST_SUITE("order_id_generation") {
  TEST_CASE("ids are increasing and carry shard, node and time") {
    order_id_generator gen{7};
    order_id prev{};
    for (uint64_t t = 1000; t < 1100; ++t) {
      for (uint16_t s = 0; s < 5; ++s) {
        auto id = gen.next(s, t);
        CHECK(id.shard() == s);
        CHECK(id.node() == 7);
        CHECK(id.time_ms() == t);
        // Same millisecond: ordering comes from the shard field and counter; across
        // milliseconds the time dominates.
        if (s == 0) CHECK(prev < id);
        prev = id;
      }
    }
    CHECK(gen.last_ms() == 1099);
  }

  TEST_CASE("a clock stepping backwards never yields a duplicate or an older id") {
    order_id_generator gen{1};
    std::set<order_id> seen;
    order_id prev = gen.next(3, 5000);
    seen.insert(prev);
    // Clock jumps back 2 s, stays there, then recovers.
    for (uint64_t t : {3000, 3000, 3001, 4999, 5000, 5000, 5001, 2000, 6000}) {
      auto id = gen.next(3, t);
      CHECK(prev < id);
      CHECK(id.time_ms() >= 5000);
      CHECK(seen.insert(id).second);
      prev = id;
    }
  }

  TEST_CASE("the floor survives restarts with a clock that went back") {
    order_id_generator before{2};
    auto last = before.next(0, 10'000);
    // Restart with the clock 5 s behind; the runtime passes newest stored time + 1.
    order_id_generator after{2, last.time_ms() + 1};
    auto first = after.next(0, 5'000);
    CHECK(last < first);
    CHECK(first.time_ms() == 10'001);
  }

  TEST_CASE("uniqueness under concurrency: 4 threads on one generator, 2 nodes") {
    order_id_generator node_a{1};
    order_id_generator node_b{2};
    constexpr int per_thread = 50'000;
    std::vector<std::vector<order_id>> out(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        auto& gen = (t % 2 == 0) ? node_a : node_b;
        // A coarse fake clock shared by the threads so many ids fall in one millisecond.
        for (int i = 0; i < per_thread; ++i)
          out[static_cast<size_t>(t)].push_back(
              gen.next(static_cast<uint16_t>(i % 64), 1'000'000 + static_cast<uint64_t>(i / 1000)));
      });
    }
    for (auto& th : threads)
      th.join();
    std::set<order_id> all;
    for (auto& v : out) {
      // Each thread sees its own ids strictly increasing in (time, counter) order.
      for (size_t i = 1; i < v.size(); ++i)
        CHECK(std::make_pair(v[i - 1].time_ms(), v[i - 1].counter()) <
              std::make_pair(v[i].time_ms(), v[i].counter()));
      all.insert(v.begin(), v.end());
    }
    CHECK(all.size() == 4 * per_thread);
  }

  TEST_CASE("counter exhaustion borrows the next millisecond instead of wrapping") {
    id_clock full{77, order_id::counter_max, true};
    CHECK(advance(full, 77) == id_clock{78, 0, true});
    CHECK(advance(full, 10) == id_clock{78, 0, true}); // clock behind: still moves forward
    CHECK(advance(id_clock{77, 5, true}, 77) == id_clock{77, 6, true});
    CHECK(advance(id_clock{77, 5, true}, 80) == id_clock{80, 0, true});
    CHECK(advance(id_clock{500, 0, false}, 100) == id_clock{500, 0, true}); // floor holds
  }
}
