// The golden store, read three ways — the golden event stream folded by the pure domain, the
// store's snapshots and events read through storage and the domain's decoders, and the
// runtime's own load path — must each give every entity the state hash recorded once in
// state_hashes.txt. Every test works on a fresh copy of the store.
#include <map>
#include <set>

#include <doctest/doctest.h>

#include "ordo/runtime.hpp"
#include "domain/envelope.hpp"
#include "domain/inventory.hpp"
#include "domain/order.hpp"
#include "domain/snapshot.hpp"
#include "golden_files.hpp"
#include "store_files.hpp"
#include "store_workload.hpp"
#include "support/fresh_dir.hpp"

using namespace ordo;
using namespace ordo::golden;

namespace {

std::vector<recorded_state> recorded() {
  auto r = parse_state_hashes(read_golden("state_hashes.txt"));
  REQUIRE(r.size() == 7 + 2); // seven orders, two SKUs
  return r;
}

v1::Envelope event_of(std::string_view bytes) {
  auto r = domain::read_event(bytes);
  if (auto* e = std::get_if<domain::event_read_error>(&r)) FAIL(e->message);
  return std::get<v1::Envelope>(r);
}

void check_state(const recorded_state& want, uint64_t last_sequence, const std::string& hash,
                 const char* path) {
  INFO(std::string{path}, ": ", want.kind, " ", want.id);
  CHECK(last_sequence == want.last_sequence);
  CHECK(hash == want.hash);
}

// The entity's state from its stored snapshot (if any) and the events after it.
template <class State>
State load(const storage::journal& j, const std::string& key, bool& from_snapshot) {
  State s;
  uint64_t seq = 0;
  auto snap = j.load_snapshot(key);
  REQUIRE(snap);
  if (*snap) {
    domain::snapshot_result<State> r;
    if constexpr (std::is_same_v<State, v1::OrderState>)
      r = domain::decode_order_snapshot((*snap)->bytes);
    else
      r = domain::decode_inventory_snapshot((*snap)->bytes);
    if (auto* e = std::get_if<domain::snapshot_error>(&r)) FAIL(key << ": " << e->message);
    s = std::get<domain::decoded_snapshot<State>>(std::move(r)).state;
    REQUIRE(s.last_sequence() == (*snap)->seq);
    seq = (*snap)->seq;
    from_snapshot = true;
  }
  auto err = j.read_events(key, seq + 1, [&](uint64_t, std::string_view bytes) {
    auto env = event_of(bytes);
    if constexpr (std::is_same_v<State, v1::OrderState>)
      s = domain::evolve(std::move(s), env.order_event());
    else
      s = domain::evolve(std::move(s), env.inventory_event());
    return true;
  });
  REQUIRE_MESSAGE(!err, key, ": ", storage::describe(err));
  return s;
}

} // namespace

TEST_SUITE("golden_store") {

  TEST_CASE("the golden event stream folded by the pure domain gives the recorded states") {
    std::map<std::string, v1::OrderState> orders;
    std::map<std::string, v1::InventoryState> skus;
    for (const auto& bytes : undelimited(read_golden("stream.bin"))) {
      const auto env = event_of(bytes);
      if (env.has_order_event())
        orders[env.entity_id()] =
            domain::evolve(std::move(orders[env.entity_id()]), env.order_event());
      else
        skus[env.entity_id()] =
            domain::evolve(std::move(skus[env.entity_id()]), env.inventory_event());
    }
    const auto want = recorded();
    CHECK(orders.size() + skus.size() == want.size());
    for (const auto& r : want) {
      if (r.kind == "order") {
        REQUIRE(orders.contains(r.id));
        check_state(r, orders[r.id].last_sequence(), state_hash(orders[r.id]), "stream");
      } else {
        REQUIRE(skus.contains(r.id));
        check_state(r, skus[r.id].last_sequence(), state_hash(skus[r.id]), "stream");
      }
    }
  }

  TEST_CASE("the golden store opens, replays its log tail, and reads back the recorded states") {
    const auto dir = test::fresh_dir("golden-store");
    copy_golden_store(dir);
    auto j = open_store(dir);
    CHECK(j->stats().tail_records > 0); // recovery replayed frames LMDB did not have
    const auto stream = undelimited(read_golden("stream.bin"));
    CHECK(feed_records(*j) == stream); // the feed is the golden stream, byte for byte
    int from_snapshots = 0;
    for (const auto& r : recorded()) {
      bool from_snapshot = false;
      if (r.kind == "order") {
        const auto s = load<v1::OrderState>(*j, "o/" + r.id, from_snapshot);
        check_state(r, s.last_sequence(), state_hash(s), "storage");
      } else {
        const auto s = load<v1::InventoryState>(*j, "i/" + r.id, from_snapshot);
        check_state(r, s.last_sequence(), state_hash(s), "storage");
      }
      from_snapshots += from_snapshot ? 1 : 0;
    }
    CHECK(from_snapshots >= 3); // o1, GOLD-A and GOLD-B crossed the snapshot interval
    j->close();
    auto report = storage::verify(dir);
    REQUIRE(report);
    CHECK_MESSAGE(report->ok(), (report->problems.empty() ? "" : report->problems.front()));
  }

  TEST_CASE("the runtime started on the golden store reads back the recorded states") {
    const auto dir = test::fresh_dir("golden-runtime");
    copy_golden_store(dir);
    auto rt = runtime::start(store_config(dir));
    REQUIRE(rt);
    for (const auto& r : recorded())
      CHECK_MESSAGE(runtime_state(**rt, r.kind, r.id) ==
                        fmt::format("{} {}", r.last_sequence, r.hash),
                    "runtime: ", r.kind, " ", r.id);
    (*rt)->stop();
  }

} // TEST_SUITE
