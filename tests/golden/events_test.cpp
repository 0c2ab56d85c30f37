// Golden events and envelopes: every event kind as the log stores it (an Envelope at schema
// version 1, the only one there has been) decodes through domain::read_event into the fields
// the workload wrote (store_workload.cpp); the historical OrderRejected is upcast; versions
// and cases this build does not know are refused as typed errors.
#include <functional>
#include <map>

#include <doctest/doctest.h>

#include "domain/envelope.hpp"
#include "domain/order.hpp"
#include "domain/order_id.hpp"
#include "golden_files.hpp"
#include "store_workload.hpp"

using namespace ordo;
using namespace ordo::golden;

namespace {

v1::Envelope read_golden_event(const std::string& rel) {
  auto r = domain::read_event(read_golden(rel));
  if (auto* e = std::get_if<domain::event_read_error>(&r)) FAIL(rel << ": " << e->message);
  return std::get<v1::Envelope>(r);
}

void check_money(const v1::Money& m, int64_t minor) {
  CHECK(m.amount_minor() == minor);
  CHECK(m.currency() == "EUR");
}

void check_line(const v1::OrderLine& l, const char* sku, int64_t qty) {
  CHECK(l.sku() == sku);
  CHECK(l.quantity() == qty);
}

using check_fn = std::function<void(const v1::OrderEvent&)>;
using inventory_check_fn = std::function<void(const v1::InventoryEvent&)>;

// What the workload wrote into the first event of each kind.
const std::map<std::string, check_fn>& order_checks() {
  static const std::map<std::string, check_fn> checks{
      {"order_placed",
       [](const v1::OrderEvent& e) {
         const auto& p = e.order_placed();
         CHECK(p.customer_id() == customer);
         CHECK(!p.has_merchant_id());
         REQUIRE(p.lines_size() == 1);
         check_line(p.lines(0), sku_a, 2);
         check_money(p.lines(0).unit_price(), 1500);
         CHECK(p.currency() == "EUR");
         CHECK(p.total_minor() == 3000);
         CHECK(p.shipping_address().city() == "Goldtown");
         CHECK(p.shipping_address().country() == "DE");
       }},
      {"stock_reserved", [](const v1::OrderEvent& e) { CHECK(e.has_stock_reserved()); }},
      {"order_rejected",
       [](const v1::OrderEvent& e) {
         CHECK(e.order_rejected().sku() == sku_b);
         CHECK(e.order_rejected().code() == v1::REJECTION_CODE_INSUFFICIENT_STOCK);
         CHECK(e.order_rejected().detail() == "GOLD-B: 9 wanted, 5 available");
       }},
      {"payment_authorized",
       [](const v1::OrderEvent& e) {
         CHECK(e.payment_authorized().payment_id() == "pay-o1");
         check_money(e.payment_authorized().amount(), 3000);
         CHECK(!e.payment_authorized().fulfilment_started());
       }},
      {"payment_declined",
       [](const v1::OrderEvent& e) { CHECK(e.payment_declined().reason() == "card declined"); }},
      {"payment_timed_out", [](const v1::OrderEvent& e) { CHECK(e.has_payment_timed_out()); }},
      {"fulfilment_started", [](const v1::OrderEvent& e) { CHECK(e.has_fulfilment_started()); }},
      {"order_shipped",
       [](const v1::OrderEvent& e) {
         CHECK(e.order_shipped().carrier() == "DHL");
         CHECK(e.order_shipped().tracking_number() == "TRACK-1");
       }},
      {"payment_captured",
       [](const v1::OrderEvent& e) {
         CHECK(e.payment_captured().payment_id() == "pay-o1");
         check_money(e.payment_captured().amount(), 3000);
       }},
      {"stock_commit_requested",
       [](const v1::OrderEvent& e) {
         REQUIRE(e.stock_commit_requested().lines_size() == 1);
         check_line(e.stock_commit_requested().lines(0), sku_a, 2);
       }},
      {"order_delivered",
       [](const v1::OrderEvent& e) {
         CHECK(e.has_order_delivered());
         CHECK(e.at_ms() == phase2_ms);
       }},
      {"order_cancelled",
       [](const v1::OrderEvent& e) { CHECK(e.order_cancelled().reason() == "changed my mind"); }},
      {"stock_release_requested",
       [](const v1::OrderEvent& e) {
         REQUIRE(e.stock_release_requested().lines_size() == 1);
         check_line(e.stock_release_requested().lines(0), sku_b, 9);
       }},
      {"payment_void_requested",
       [](const v1::OrderEvent& e) { // o4's payment timeout: void any authorization
         CHECK(e.payment_void_requested().payment_id().empty());
       }},
      {"refund_issued",
       [](const v1::OrderEvent& e) {
         check_money(e.refund_issued().amount(), 1500);
         CHECK(e.refund_issued().reason() == "damaged");
       }},
      {"restock_requested",
       [](const v1::OrderEvent& e) {
         REQUIRE(e.restock_requested().lines_size() == 1);
         check_line(e.restock_requested().lines(0), sku_a, 1);
       }},
  };
  return checks;
}

const std::map<std::string, inventory_check_fn>& inventory_checks() {
  static const std::map<std::string, inventory_check_fn> checks{
      {"price_set",
       [](const v1::InventoryEvent& e) {
         CHECK(e.sku() == sku_a);
         check_money(e.price_set().price(), 1500);
       }},
      {"restocked",
       [](const v1::InventoryEvent& e) {
         CHECK(e.sku() == sku_a);
         CHECK(e.restocked().quantity() == 10);
       }},
      {"adjusted",
       [](const v1::InventoryEvent& e) {
         CHECK(e.adjusted().delta() == -1);
         CHECK(e.adjusted().reason() == "counted 9");
       }},
      {"owner_assigned",
       [](const v1::InventoryEvent& e) {
         CHECK(e.sku() == sku_b);
         CHECK(e.owner_assigned().merchant_id() == merchant_b);
       }},
      {"reserved",
       [](const v1::InventoryEvent& e) {
         CHECK(domain::parse_order_id(e.reserved().order_id()).has_value());
         CHECK(e.reserved().quantity() == 2);
       }},
      {"committed", [](const v1::InventoryEvent& e) { CHECK(e.committed().quantity() == 2); }},
      {"released",
       [](const v1::InventoryEvent& e) {
         CHECK(e.sku() == sku_b);
         CHECK(e.released().quantity() == 1);
       }},
  };
  return checks;
}

// What the runtime puts around every event (actors/runtime/entity_actor.hpp, make_event_envelope).
void check_envelope(const v1::Envelope& env, v1::EntityType type, const std::string& entity) {
  CHECK(env.schema_version() == 1);
  CHECK(env.entity_type() == type);
  CHECK(env.entity_id() == entity);
  CHECK(env.sequence() >= 1);
  CHECK((env.timestamp_ms() == phase1_ms || env.timestamp_ms() == phase2_ms));
  CHECK(!env.idempotency_key().empty());
  CHECK(env.correlation_id() == entity);
  CHECK(env.causation_id() == env.idempotency_key());
}

// Reads events/<dir>/<kind>.bin for every kind of `Event`'s oneof (a kind without a check
// fails), checks its envelope with `unwrap`, which returns the event, then the kind's fields.
template <class Event, class Checks, class Unwrap>
void for_each_kind(const std::string& dir, const Checks& checks, Unwrap unwrap) {
  const auto* kinds = Event::descriptor()->oneof_decl(0);
  CHECK(checks.size() == static_cast<size_t>(kinds->field_count()));
  for (int i = 0; i < kinds->field_count(); ++i) {
    const auto kind = kinds->field(i)->name();
    CAPTURE(kind);
    REQUIRE_MESSAGE(checks.contains(kind), "no check for ", dir, " event kind ", kind);
    const auto env = read_golden_event("events/" + dir + "/" + kind + ".bin");
    const Event e = unwrap(env);
    CHECK(Event::descriptor()->FindFieldByNumber(e.kind_case())->name() == kind);
    CHECK(e.at_ms() == env.timestamp_ms());
    checks.at(kind)(e);
  }
}

} // namespace

TEST_SUITE("golden_files") {

  TEST_CASE("every order event kind decodes to the fields it was written with") {
    for_each_kind<v1::OrderEvent>("order", order_checks(), [](const v1::Envelope& env) {
      REQUIRE(env.has_order_event());
      const auto& e = env.order_event();
      CHECK(domain::parse_order_id(e.order_id()).has_value());
      check_envelope(env, v1::ENTITY_TYPE_ORDER, e.order_id());
      if (e.has_order_placed()) CHECK(env.sequence() == 1);
      return e;
    });
  }

  TEST_CASE("every inventory event kind decodes to the fields it was written with") {
    for_each_kind<v1::InventoryEvent>("inventory", inventory_checks(), [](const v1::Envelope& env) {
      REQUIRE(env.has_inventory_event());
      check_envelope(env, v1::ENTITY_TYPE_INVENTORY, env.inventory_event().sku());
      return env.inventory_event();
    });
  }

  TEST_CASE("an OrderRejected written before rejection codes reads as out of stock") {
    const auto bytes = read_golden("events/order/order_rejected.before_codes.bin");
    v1::Envelope raw;
    REQUIRE(raw.ParseFromString(bytes));
    REQUIRE(raw.order_event().order_rejected().code() == v1::REJECTION_CODE_UNSPECIFIED);
    const auto env = read_golden_event("events/order/order_rejected.before_codes.bin");
    const auto& rejected = env.order_event().order_rejected();
    CHECK(rejected.code() == v1::REJECTION_CODE_INSUFFICIENT_STOCK);
    CHECK(rejected.sku() == sku_b);
    CHECK(rejected.detail().empty()); // not invented: the reason is made from the sku
    // Placed, then the old rejection: the state is that of an out-of-stock rejection.
    auto placed = read_golden_event("events/order/order_placed.bin").order_event();
    placed.set_order_id(env.order_event().order_id());
    auto s = domain::evolve(domain::evolve({}, placed), env.order_event());
    CHECK(s.status() == v1::ORDER_STATUS_REJECTED);
    CHECK(s.close_code() == v1::REJECTION_CODE_INSUFFICIENT_STOCK);
    CHECK(s.close_reason() == "out of stock: GOLD-B");
  }

  TEST_CASE("an event of a newer schema version or an unknown kind is a typed refusal") {
    v1::Envelope env;
    REQUIRE(env.ParseFromString(read_golden("events/order/order_placed.bin")));
    env.set_schema_version(domain::schema_version_current + 1);
    auto r = domain::read_event(env.SerializeAsString());
    REQUIRE(std::holds_alternative<domain::event_read_error>(r));
    CHECK(std::get<domain::event_read_error>(r).code == domain::event_read_errc::schema_too_new);

    env.set_schema_version(domain::schema_version_current);
    env.mutable_order_event()->clear_kind(); // what a case added later parses as
    r = domain::read_event(env.SerializeAsString());
    REQUIRE(std::holds_alternative<domain::event_read_error>(r));
    CHECK(std::get<domain::event_read_error>(r).code == domain::event_read_errc::schema_too_new);

    r = domain::read_event("\xff\xff not an envelope");
    REQUIRE(std::holds_alternative<domain::event_read_error>(r));
    CHECK(std::get<domain::event_read_error>(r).code == domain::event_read_errc::malformed);
  }

} // TEST_SUITE
