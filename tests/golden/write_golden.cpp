// The one explicit step that writes golden files: runs only with ORDO_WRITE_GOLDEN=1, writes
// each missing file and never replaces one that exists (golden_files.hpp). Everything but
// the historical shapes comes from the golden store, which the real runtime writes
// (store_workload.hpp); the historical shapes are the current bytes with the fields removed
// that did not exist then — exactly what an older build wrote.
#include <cstdlib>
#include <map>

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

bool writing() {
  return std::getenv("ORDO_WRITE_GOLDEN") != nullptr;
}

std::string kind_name(const v1::Envelope& e) {
  if (e.has_order_event())
    return "order/" +
           v1::OrderEvent::descriptor()->FindFieldByNumber(e.order_event().kind_case())->name();
  return "inventory/" + v1::InventoryEvent::descriptor()
                            ->FindFieldByNumber(e.inventory_event().kind_case())
                            ->name();
}

// The first stored event of every kind, as the log holds it, and the historical OrderRejected.
void write_events(const std::vector<std::string>& feed) {
  std::map<std::string, std::string> first;
  for (const auto& bytes : feed) {
    v1::Envelope e;
    REQUIRE(e.ParseFromString(bytes));
    first.emplace(kind_name(e), bytes);
  }
  CHECK(first.size() == 16 + 7);
  for (const auto& [kind, bytes] : first)
    write_golden_once("events/" + kind + ".bin", bytes);
  v1::Envelope old;
  REQUIRE(old.ParseFromString(first.at("order/order_rejected")));
  old.mutable_order_event()->mutable_order_rejected()->clear_code(); // before codes: sku only
  old.mutable_order_event()->mutable_order_rejected()->clear_detail();
  write_golden_once("events/order/order_rejected.before_codes.bin", old.SerializeAsString());
}

template <class State>
State replayed(const std::vector<std::string>& feed, const std::string& entity) {
  State s;
  for (const auto& bytes : feed) {
    v1::Envelope e;
    REQUIRE(e.ParseFromString(bytes));
    if (e.entity_id() != entity) continue;
    if constexpr (std::is_same_v<State, v1::OrderState>)
      s = domain::evolve(std::move(s), e.order_event());
    else
      s = domain::evolve(std::move(s), e.inventory_event());
  }
  return s;
}

std::string entity_of_first(const std::vector<std::string>& feed, const std::string& kind) {
  for (const auto& bytes : feed) {
    v1::Envelope e;
    REQUIRE(e.ParseFromString(bytes));
    if (kind_name(e) == kind) return e.entity_id();
  }
  FAIL("no " << kind << " event in the golden store");
  return {};
}

void write_snapshots(const storage::journal& j, const std::vector<std::string>& feed) {
  const auto o1 = entity_of_first(feed, "order/order_placed");
  auto order = j.load_snapshot("o/" + o1);
  auto sku = j.load_snapshot(std::string{"i/"} + sku_a);
  REQUIRE((order && *order && sku && *sku));
  write_golden_once("snapshots/order.bare.bin", (*order)->bytes);
  write_golden_once("snapshots/inventory.bare.bin", (*sku)->bytes);
  v1::OrderState o;
  v1::InventoryState i;
  REQUIRE((o.ParseFromString((*order)->bytes) && i.ParseFromString((*sku)->bytes)));
  write_golden_once("snapshots/order.v1.bin", domain::encode_snapshot(o));
  write_golden_once("snapshots/inventory.v1.bin", domain::encode_snapshot(i));
  // Historical shapes: a rejected order before close_code; a SKU before committed_order
  // (and before the price and owner fields that came later still).
  auto rejected = replayed<v1::OrderState>(feed, entity_of_first(feed, "order/order_rejected"));
  rejected.clear_close_code();
  write_golden_once("snapshots/order.before_close_code.bin", rejected.SerializeAsString());
  auto sold = replayed<v1::InventoryState>(feed, sku_a); // holds a commit
  REQUIRE(sold.committed_size() > 0);
  sold.clear_committed_order();
  sold.clear_price();
  sold.clear_merchant_id();
  write_golden_once("snapshots/inventory.before_committed_order.bin", sold.SerializeAsString());
}

void write_idempotency(const storage::journal& j, const std::vector<std::string>& feed) {
  const auto o1 = entity_of_first(feed, "order/order_placed");
  const auto o2 = entity_of_first(feed, "order/order_rejected");
  auto accepted = j.find_idempotency("o/" + o1, "o1-place");
  auto rejected = j.find_idempotency("o/" + o2, "o2-cancel");
  REQUIRE((accepted && *accepted && rejected && *rejected));
  write_golden_once("idempotency/accepted.bin", **accepted);
  write_golden_once("idempotency/rejected.bin", **rejected);
  v1::IdempotencyRecord with_key;
  REQUIRE(with_key.ParseFromString(**accepted));
  with_key.set_key("o1-place"); // records were first stored with their key
  write_golden_once("idempotency/accepted.with_key.bin", with_key.SerializeAsString());
}

// The state of every entity of the stream as the runtime reads it back (snapshot + events).
void write_state_hashes(const std::string& dir, const std::vector<std::string>& feed) {
  copy_golden_store(dir);
  auto rt = runtime::start(store_config(dir));
  REQUIRE(rt);
  std::map<std::pair<std::string, std::string>, std::string> lines;
  for (const auto& bytes : feed) {
    v1::Envelope e;
    REQUIRE(e.ParseFromString(bytes));
    const std::string kind = e.has_order_event() ? "order" : "inventory";
    auto& line = lines[{kind, e.entity_id()}];
    if (line.empty()) line = runtime_state(**rt, kind, e.entity_id());
  }
  (*rt)->stop();
  std::string text = "# kind id last_sequence state_hash (tests/golden/golden_files.hpp)\n";
  for (const auto& [key, line] : lines)
    text += fmt::format("{} {} {}\n", key.first, key.second, line);
  write_golden_once("state_hashes.txt", text);
}

} // namespace

TEST_SUITE("golden_write") {

  TEST_CASE("write the missing golden files (ORDO_WRITE_GOLDEN=1)" * doctest::skip(!writing())) {
    const auto work = test::fresh_dir("golden-write");
    make_golden_store(work + "/live", work);
    save_golden_store(work + "/live", work);
    copy_golden_store(work + "/read");
    auto j = open_store(work + "/read");
    CHECK_MESSAGE(j->stats().tail_records > 0, "the golden store's log holds no tail");
    const auto feed = feed_records(*j);
    write_golden_once("stream.bin", delimited(feed));
    write_events(feed);
    write_snapshots(*j, feed);
    write_idempotency(*j, feed);
    j->close();
    write_state_hashes(work + "/runtime", feed);
  }

} // TEST_SUITE
