// The errors of the public API (include/ordo/runtime.hpp, ERRORS): each documented failure of
// start() and of the reads carries its outcome code, read with ordo::error_code().
#include <fstream>
#include <future>
#include <string>

#include <caf/sec.hpp>

#include "actors/runtime/internals.hpp"
#include "domain/envelope.hpp"
#include "test_runtime.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {
// Appends one order event straight to the store, as an older or newer build wrote it.
void store_event(runtime& rt, const std::string& entity, const v1::Envelope& e) {
  storage::append_request req;
  req.entity = entity;
  req.expected_seq = e.sequence() - 1;
  req.events.push_back(e.SerializeAsString());
  std::promise<bool> done;
  auto err = runtime_internals::journal(rt).submit(
      std::move(req), [&](caf::expected<storage::append_result> r) { done.set_value(bool(r)); });
  REQUIRE(!err);
  REQUIRE(done.get_future().get());
}

// The code of `err` and that describe() starts with its name.
void check_code(const caf::error& err, outcome_code want) {
  REQUIRE(err);
  CAPTURE(describe(err));
  CHECK(error_code(err) == want);
  CHECK(describe(err).rfind(std::string(row_of(want).name) + ":", 0) == 0);
}
} // namespace

TEST_SUITE("runtime_errors") {
  TEST_CASE("start() names a bad setting and a data directory held by another runtime") {
    temp_dir d;
    auto cfg = config_in(d);
    cfg.shard_count = 0;
    auto none = runtime::start(cfg);
    REQUIRE(!none);
    check_code(none.error(), outcome_code::invalid_argument);

    auto first = start(config_in(d));
    auto second = runtime::start(config_in(d));
    REQUIRE(!second);
    check_code(second.error(), outcome_code::locked);
  }

  TEST_CASE("start() on a data_dir that cannot be created answers a storage code, not internal") {
    temp_dir d;
    const auto file = d.path + "/a-file";
    { std::ofstream(file) << "x"; }
    auto cfg = config_in(d);
    cfg.data_dir = file + "/data"; // a directory inside a regular file
    auto rt = runtime::start(cfg);
    REQUIRE(!rt);
    CAPTURE(describe(rt.error()));
    const auto code = error_code(rt.error());
    CHECK((code == outcome_code::lmdb_error || code == outcome_code::io_error));
  }

  TEST_CASE("reads name a bad id, and every read after stop() answers closed") {
    temp_dir d;
    auto rt = start(config_in(d));
    auto order = rt->order("not-an-order-id");
    REQUIRE(!order);
    check_code(order.error(), outcome_code::invalid_order_id);
    auto sku = rt->inventory(std::string(300, 'x'));
    REQUIRE(!sku);
    check_code(sku.error(), outcome_code::invalid_sku);

    auto placed = rt->submit_order(place(), "k-1").get();
    REQUIRE(placed.ok());
    CHECK(rt->order(placed.entity_id)); // a valid id reads while the runtime runs
    rt->stop();
    auto after = rt->order(placed.entity_id);
    REQUIRE(!after);
    check_code(after.error(), outcome_code::closed);
    auto feed = rt->read_feed(0, 10);
    REQUIRE(!feed);
    check_code(feed.error(), outcome_code::closed);
  }

  TEST_CASE("an error without a code of the table reads as internal") {
    CHECK(error_code(caf::make_error(caf::sec::runtime_error, "no code here")) ==
          outcome_code::internal);
    CHECK(error_code(caf::make_error(caf::sec::runtime_error, "nonsense: text")) ==
          outcome_code::internal);
    CHECK(error_code(caf::make_error(caf::sec::unexpected_message)) == outcome_code::internal);
  }

  TEST_CASE("the feed reads an old event upcast and refuses one a newer schema wrote") {
    temp_dir d;
    auto cfg = config_in(d);
    auto rt = start(cfg);
    v1::Envelope old_rejection; // before rejection codes: read as out of stock
    old_rejection.set_schema_version(domain::schema_version_current);
    old_rejection.set_entity_type(v1::ENTITY_TYPE_ORDER);
    old_rejection.set_entity_id("o-1");
    old_rejection.set_sequence(1);
    old_rejection.mutable_order_event()->mutable_order_rejected()->set_sku("SKU-1");
    store_event(*rt, "o/o-1", old_rejection);
    auto items = rt->read_feed(0, 10);
    REQUIRE(items);
    REQUIRE(items->size() == 1);
    CHECK(items->at(0).event.order_event().order_rejected().code() ==
          v1::REJECTION_CODE_INSUFFICIENT_STOCK);

    auto newer = old_rejection;
    newer.set_schema_version(domain::schema_version_current + 1);
    newer.set_sequence(2);
    store_event(*rt, "o/o-1", newer);
    auto refused = rt->read_feed(0, 10);
    REQUIRE(!refused);
    check_code(refused.error(), outcome_code::schema_too_new);
  }
}
