// Golden snapshots and idempotency records: the bare layout the runtime writes and the
// versioned one (domain/snapshot.hpp) decode to the same state; historical shapes are upcast
// (domain/upcast.hpp); a newer snapshot version is a typed refusal.
#include <google/protobuf/util/message_differencer.h>

#include <doctest/doctest.h>

#include "domain/envelope.hpp"
#include "domain/inventory.hpp"
#include "domain/limits.hpp"
#include "domain/order.hpp"
#include "domain/snapshot.hpp"
#include "domain/upcast.hpp"
#include "golden_files.hpp"
#include "ordo/v1/snapshot.pb.h"
#include "store_workload.hpp"

using namespace ordo;
using namespace ordo::golden;
using google::protobuf::util::MessageDifferencer;

namespace {

template <class State, class Decode>
domain::decoded_snapshot<State> decode_golden(const std::string& rel, Decode decode) {
  auto r = decode(read_golden(rel));
  if (auto* e = std::get_if<domain::snapshot_error>(&r)) FAIL(rel << ": " << e->message);
  return std::get<domain::decoded_snapshot<State>>(r);
}

auto order_snapshot(const std::string& rel) {
  return decode_golden<v1::OrderState>(rel, domain::decode_order_snapshot);
}
auto inventory_snapshot(const std::string& rel) {
  return decode_golden<v1::InventoryState>(rel, domain::decode_inventory_snapshot);
}

// Rewrites a versioned snapshot's header version.
std::string with_version(const std::string& versioned, uint32_t version) {
  v1::Snapshot s;
  REQUIRE(s.ParseFromString(versioned.substr(1)));
  s.set_schema_version(version);
  return std::string(1, domain::snapshot_versioned_marker) + s.SerializeAsString();
}

} // namespace

TEST_SUITE("golden_files") {

  TEST_CASE("an order snapshot, bare and versioned, decodes to the order it was") {
    const auto bare = order_snapshot("snapshots/order.bare.bin");
    const auto versioned = order_snapshot("snapshots/order.v1.bin");
    CHECK(!bare.versioned);
    CHECK(versioned.versioned);
    CHECK(bare.schema_version == 1);
    CHECK(versioned.schema_version == 1);
    CHECK(MessageDifferencer::Equals(bare.state, versioned.state));
    const auto& s = bare.state;
    CHECK(s.last_sequence() % snapshot_every_events == 0);
    CHECK(s.last_sequence() >= snapshot_every_events);
    CHECK(s.customer_id() == customer);
    REQUIRE(s.lines_size() == 1);
    CHECK(s.lines(0).sku() == sku_a);
    CHECK(s.lines(0).quantity() == 2);
    CHECK(s.total_minor() == 3000);
    CHECK(s.placed_at_ms() == phase1_ms);
    CHECK(s.status() != v1::ORDER_STATUS_UNSPECIFIED);
    domain::check_invariants(s);
  }

  TEST_CASE("an inventory snapshot, bare and versioned, decodes to the SKU it was") {
    const auto bare = inventory_snapshot("snapshots/inventory.bare.bin");
    const auto versioned = inventory_snapshot("snapshots/inventory.v1.bin");
    CHECK(MessageDifferencer::Equals(bare.state, versioned.state));
    const auto& s = bare.state;
    CHECK(s.sku() == sku_a);
    CHECK(s.last_sequence() % snapshot_every_events == 0);
    CHECK(s.price().amount_minor() == 1500);
    CHECK(s.merchant_id().empty());
    CHECK(s.on_hand() >= 0);
    domain::check_invariants(s, /*deep=*/true);
  }

  TEST_CASE("a rejected order's snapshot from before close_code reads as out of stock") {
    v1::OrderState raw;
    REQUIRE(raw.ParseFromString(read_golden("snapshots/order.before_close_code.bin")));
    REQUIRE(raw.status() == v1::ORDER_STATUS_REJECTED);
    REQUIRE(raw.close_code() == v1::REJECTION_CODE_UNSPECIFIED);
    const auto s = order_snapshot("snapshots/order.before_close_code.bin").state;
    CHECK(s.close_code() == v1::REJECTION_CODE_INSUFFICIENT_STOCK);
    CHECK(s.lines(0).sku() == sku_b);
  }

  TEST_CASE(
      "a SKU snapshot from before committed_order lists its commits and keeps its invariants") {
    v1::InventoryState raw;
    REQUIRE(raw.ParseFromString(read_golden("snapshots/inventory.before_committed_order.bin")));
    REQUIRE(raw.committed_order_size() == 0);
    REQUIRE(raw.committed_size() > 0);
    const auto s = inventory_snapshot("snapshots/inventory.before_committed_order.bin").state;
    CHECK(s.committed_order_size() == static_cast<int>(raw.committed_size()));
    for (const auto& id : s.committed_order())
      CHECK(raw.committed().contains(id));
    domain::check_invariants(s, /*deep=*/true);
  }

  TEST_CASE("a SKU snapshot from before committed_order keeps only the newest commits it may") {
    v1::InventoryState raw;
    REQUIRE(raw.ParseFromString(read_golden("snapshots/inventory.before_committed_order.bin")));
    const auto& [golden_id, quantity] = *raw.committed().begin();
    // Commit memory was unbounded then: order ids below and above the golden one.
    for (int i = 0; i < domain::limits::committed_remembered_max; ++i) {
      (*raw.mutable_committed())[fmt::format("{}-{:05}", golden_id, i)] = 1;
      (*raw.mutable_committed())[fmt::format("00-{:05}", i)] = 1;
    }
    const auto s = domain::decode_inventory_snapshot(raw.SerializeAsString());
    REQUIRE(std::holds_alternative<domain::decoded_snapshot<v1::InventoryState>>(s));
    const auto& state = std::get<domain::decoded_snapshot<v1::InventoryState>>(s).state;
    REQUIRE(state.committed_order_size() == domain::limits::committed_remembered_max);
    CHECK(state.committed_order(0) == golden_id + "-00000");
    CHECK(state.committed_order(state.committed_order_size() - 1) ==
          fmt::format("{}-{:05}", golden_id, domain::limits::committed_remembered_max - 1));
    CHECK(!state.committed().contains(golden_id)); // the oldest beyond the bound are forgotten
    domain::check_invariants(state, /*deep=*/true);
  }

  TEST_CASE("a snapshot of a newer version, the other entity, or garbage is a typed refusal") {
    const auto bytes = read_golden("snapshots/order.v1.bin");
    REQUIRE(bytes.front() == domain::snapshot_versioned_marker);
    auto r = domain::decode_order_snapshot(with_version(bytes, domain::schema_version_current + 1));
    REQUIRE(std::holds_alternative<domain::snapshot_error>(r));
    CHECK(std::get<domain::snapshot_error>(r).code == domain::snapshot_errc::version_too_new);
    CHECK(std::get<domain::snapshot_error>(r).schema_version == domain::schema_version_current + 1);

    auto other = domain::decode_inventory_snapshot(bytes);
    REQUIRE(std::holds_alternative<domain::snapshot_error>(other));
    CHECK(std::get<domain::snapshot_error>(other).code == domain::snapshot_errc::wrong_entity);

    r = domain::decode_order_snapshot(with_version(bytes, 0));
    REQUIRE(std::holds_alternative<domain::snapshot_error>(r));
    CHECK(std::get<domain::snapshot_error>(r).code == domain::snapshot_errc::malformed);
    r = domain::decode_order_snapshot(bytes.substr(0, bytes.size() / 2));
    REQUIRE(std::holds_alternative<domain::snapshot_error>(r));
    CHECK(std::get<domain::snapshot_error>(r).code == domain::snapshot_errc::malformed);
  }

  TEST_CASE("idempotency records of both outcomes, with and without their key, read alike") {
    v1::IdempotencyRecord accepted, rejected, with_key;
    REQUIRE(accepted.ParseFromString(read_golden("idempotency/accepted.bin")));
    REQUIRE(rejected.ParseFromString(read_golden("idempotency/rejected.bin")));
    REQUIRE(with_key.ParseFromString(read_golden("idempotency/accepted.with_key.bin")));
    CHECK(accepted.key().empty()); // stored without it
    CHECK(with_key.key() == "o1-place");
    CHECK(accepted.accepted().first_sequence() == 1);
    CHECK(accepted.accepted().event_count() == 1);
    CHECK(rejected.rejection().code() == v1::REJECTION_CODE_ORDER_CLOSED);
    CHECK(!rejected.rejection().message().empty());
    CHECK(domain::upcast(accepted, "o1-place"));
    CHECK(!domain::upcast(with_key, "o1-place"));
    CHECK(MessageDifferencer::Equals(accepted, with_key));
  }

} // TEST_SUITE
