// Randomised properties of the order core. Every failure names ORDO_SEED to replay it:
//   ORDO_SEED=<n> ./domain_tests --test-suite=order_properties
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <google/protobuf/util/message_differencer.h>

#include "domain/idempotency.hpp"
#include "order_random.hpp"
#include "support/seed.hpp"

namespace {

using namespace ordo;
using namespace ordo::test;
using google::protobuf::util::MessageDifferencer;

constexpr int steps_max = 14;

struct run_result {
  v1::OrderState live;
  std::vector<v1::OrderEvent> events;
};

// One random sequence, applying every accepted decision live.
run_result random_run(order_gen& g) {
  run_result r;
  const int steps = static_cast<int>(g.between(1, steps_max));
  int64_t now = g.between(0, 1'000'000);
  for (int i = 0; i < steps; ++i) {
    now += g.between(-50, 1000); // the caller's clock may step back
    const auto d = domain::decide(r.live, g.command(r.live), now);
    for (const auto& e : d.events) {
      r.live = domain::evolve(std::move(r.live), e);
      r.events.push_back(e);
    }
  }
  return r;
}

} // namespace

TEST_SUITE("order_properties") {

  TEST_CASE("replaying the events reproduces the live state") {
    const uint64_t seed = seed_for("order_properties/replay");
    order_gen g(seed);
    const int runs = runs_or(10'000);
    for (int run = 0; run < runs; ++run) {
      const auto r = random_run(g);
      const auto replayed = domain::replay(r.events);
      REQUIRE_MESSAGE(MessageDifferencer::Equals(replayed, r.live),
                      fmt::format("ORDO_SEED={} run {}", seed, run));
      REQUIRE_MESSAGE(replayed.last_sequence() == r.events.size(),
                      fmt::format("ORDO_SEED={} run {}", seed, run));
    }
  }

  TEST_CASE("snapshot bytes plus tail replay equals full replay") {
    const uint64_t seed = seed_for("order_properties/snapshot");
    order_gen g(seed);
    const int runs = runs_or(10'000);
    for (int run = 0; run < runs; ++run) {
      const auto r = random_run(g);
      const auto cut =
          static_cast<std::size_t>(g.between(0, static_cast<int64_t>(r.events.size())));
      const std::vector<v1::OrderEvent> head(r.events.begin(), r.events.begin() + cut);
      const std::vector<v1::OrderEvent> tail(r.events.begin() + cut, r.events.end());
      std::string bytes;
      REQUIRE(domain::replay(head).SerializeToString(&bytes));
      v1::OrderState snapshot;
      REQUIRE(snapshot.ParseFromString(bytes));
      const auto restored = domain::replay(tail, snapshot);
      REQUIRE_MESSAGE(MessageDifferencer::Equals(restored, r.live),
                      fmt::format("ORDO_SEED={} run {} cut {}", seed, run, cut));
    }
  }

  TEST_CASE("a repeated command (same idempotency key) yields no new events") {
    const uint64_t seed = seed_for("order_properties/idempotency");
    order_gen g(seed);
    const int runs = runs_or(10'000);
    int repeats = 0, would_have_emitted = 0;
    for (int run = 0; run < runs; ++run) {
      domain::idempotency_memory seen;
      std::vector<std::pair<std::string, v1::OrderCommand>> sent;
      v1::OrderState s;
      int64_t now = 1000;
      for (int i = 0; i < steps_max; ++i) {
        const bool retry = !sent.empty() && g.chance(0.35);
        const auto [key, cmd] = retry ? sent[static_cast<std::size_t>(
                                            g.between(0, static_cast<int64_t>(sent.size()) - 1))]
                                      : std::pair{fmt::format("k-{}", i), g.command(s)};
        const auto out = domain::decide_once(s, cmd, key, ++now, seen.lookup_fn());
        const auto where = fmt::format("ORDO_SEED={} run {} step {} key {}", seed, run, i, key);
        REQUIRE_MESSAGE(out.duplicate == retry, where);
        if (retry) {
          ++repeats;
          REQUIRE_MESSAGE(out.result.events.empty(), where);
          // Negative control: without the ledger, some repeats would emit again.
          if (!domain::decide(s, cmd, now).events.empty()) ++would_have_emitted;
          continue;
        }
        seen.remember(out.record);
        sent.emplace_back(key, cmd);
        s = domain::replay(out.result.events, std::move(s));
      }
    }
    MESSAGE(fmt::format("{} repeats, {} would have emitted without deduplication", repeats,
                        would_have_emitted));
    CHECK(repeats > 0);
    CHECK(would_have_emitted > 0); // the property is not vacuous
  }

  TEST_CASE("refunded never exceeds captured") {
    const uint64_t seed = seed_for("order_properties/refunds");
    order_gen g(seed);
    const int runs = runs_or(10'000);
    int over_refunds_refused = 0, refunds = 0;
    for (int run = 0; run < runs; ++run) {
      v1::OrderState s;
      int64_t now = 0;
      for (int i = 0; i < steps_max + 6; ++i) {
        const auto cmd = g.command(s);
        const auto d = domain::decide(s, cmd, ++now);
        if (d.rejection && d.rejection->code() == v1::REJECTION_CODE_REFUND_EXCEEDS_CAPTURED)
          ++over_refunds_refused;
        if (cmd.has_refund_order() && d.accepted()) ++refunds;
        s = domain::replay(d.events, std::move(s));
        REQUIRE_MESSAGE(s.refunded_minor() <= s.captured_minor(),
                        fmt::format("ORDO_SEED={} run {} step {}", seed, run, i));
      }
    }
    MESSAGE(
        fmt::format("{} refunds accepted, {} over-refunds refused", refunds, over_refunds_refused));
    CHECK(refunds > 0);
    CHECK(over_refunds_refused > 0);
  }

  TEST_CASE("validation rejections produce no events and change nothing") {
    const uint64_t seed = seed_for("order_properties/validation");
    order_gen g(seed);
    const int runs = runs_or(10'000);
    for (int run = 0; run < runs; ++run) {
      auto r = random_run(g);
      auto cmd = g.command(r.live);
      g.corrupt(cmd);
      const auto d = domain::decide(r.live, cmd, 1'000'000'000);
      const auto where = fmt::format("ORDO_SEED={} run {}", seed, run);
      REQUIRE_MESSAGE(d.rejection.has_value(), where);
      REQUIRE_MESSAGE(d.rejection->code() == v1::REJECTION_CODE_INVALID_ARGUMENT, where);
      REQUIRE_MESSAGE(d.events.empty(), where);
    }
  }

  TEST_CASE("decide_once: rejections are remembered, an empty key never deduplicates") {
    domain::idempotency_memory seen;
    const auto s = drive(path_to(order_state::placed));
    const auto ship = valid_command(order_command_kind::mark_shipped, s); // not allowed yet
    auto first = domain::decide_once(s, ship, "k-1", 10, seen.lookup_fn());
    REQUIRE(first.result.rejection.has_value());
    CHECK_FALSE(first.duplicate);
    seen.remember(first.record);
    auto again = domain::decide_once(s, ship, "k-1", 11, seen.lookup_fn());
    CHECK(again.duplicate);
    REQUIRE(again.result.rejection.has_value());
    CHECK(again.result.rejection->code() == first.result.rejection->code());

    const auto confirm = valid_command(order_command_kind::confirm_stock_reserved, s);
    auto fresh = domain::decide_once(s, confirm, "", 12, seen.lookup_fn());
    seen.remember(fresh.record); // ignored: no key
    CHECK(seen.size() == 1);
    auto unkeyed = domain::decide_once(s, confirm, "", 13, seen.lookup_fn());
    CHECK_FALSE(unkeyed.duplicate);
    CHECK(unkeyed.result.events.size() == 1);
    CHECK(fresh.record.accepted().first_sequence() == s.last_sequence() + 1);
    CHECK(fresh.record.accepted().event_count() == 1);
  }

} // TEST_SUITE
