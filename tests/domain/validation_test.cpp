// Boundary tests for every limit in domain/limits.hpp: just inside passes, just outside
// fails with INVALID_ARGUMENT and a message naming the field and the limit.
#include <string>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "domain/envelope.hpp"
#include "domain/inventory.hpp"
#include "domain/limits.hpp"
#include "domain/validation.hpp"
#include "order_fixtures.hpp"

namespace {

using namespace ordo;
using namespace ordo::test;
namespace lim = ordo::domain::limits;

v1::OrderCommand place_cmd(const v1::PlaceOrder& p) {
  v1::OrderCommand c;
  c.set_order_id(fx_order_id);
  *c.mutable_place_order() = p;
  return c;
}

// Passes validation.
template <class Command>
void ok(const Command& c) {
  const auto e = domain::validate(c);
  CHECK_MESSAGE(!e.has_value(), (e ? e->message() : std::string()));
}

// Fails validation, naming `field` and mentioning `limit`.
template <class Command>
void bad(const Command& c, const std::string& field, const std::string& limit) {
  const auto e = domain::validate(c);
  REQUIRE(e.has_value());
  CHECK(e->code() == v1::REJECTION_CODE_INVALID_ARGUMENT);
  CAPTURE(e->message());
  CHECK(e->message().find(field) != std::string::npos);
  CHECK(e->message().find(limit) != std::string::npos);
}

} // namespace

TEST_SUITE("validation") {

  TEST_CASE("ids: 1..64 bytes of [A-Za-z0-9._:-]") {
    auto c = place_cmd(valid_place_order());
    c.set_order_id(std::string(lim::id_bytes_max, 'a'));
    ok(c);
    c.set_order_id("A.b_c:d-9");
    ok(c);
    c.set_order_id(std::string(lim::id_bytes_max + 1, 'a'));
    bad(c, "order_id", "1..64");
    c.set_order_id("");
    bad(c, "order_id", "1..64");
    c.set_order_id("has space");
    bad(c, "order_id", "[A-Za-z0-9._:-]");
    c.set_order_id(fx_order_id);
    c.mutable_place_order()->set_customer_id(std::string(65, 'c'));
    bad(c, "place_order.customer_id", "1..64");
    c.mutable_place_order()->set_customer_id("c");
    ok(c);
    c.mutable_place_order()->set_merchant_id("");
    bad(c, "place_order.merchant_id", "1..64");
    c.mutable_place_order()->mutable_lines(1)->set_sku("sku/b");
    c.mutable_place_order()->set_merchant_id("m");
    bad(c, "place_order.lines[1].sku", "[A-Za-z0-9._:-]");
  }

  TEST_CASE("line quantity: 1..10000") {
    auto p = valid_place_order();
    for (int64_t q : {lim::quantity_min, lim::quantity_max}) {
      p.mutable_lines(0)->set_quantity(q);
      ok(place_cmd(p));
    }
    for (int64_t q : {lim::quantity_min - 1, lim::quantity_max + 1, int64_t{-5}}) {
      p.mutable_lines(0)->set_quantity(q);
      bad(place_cmd(p), "place_order.lines[0].quantity", "1..10000");
    }
  }

  TEST_CASE("line count: 1..100") {
    auto p = valid_place_order();
    const auto line = p.lines(0);
    p.clear_lines();
    bad(place_cmd(p), "place_order.lines", "1..100");
    for (int i = 0; i < lim::lines_max; ++i)
      *p.add_lines() = line;
    ok(place_cmd(p));
    *p.add_lines() = line;
    bad(place_cmd(p), "place_order.lines", "1..100");
  }

  TEST_CASE("unit price: 1..10^9 minor units") {
    auto p = valid_place_order();
    for (int64_t v : {lim::unit_price_min_minor, lim::unit_price_max_minor}) {
      p.mutable_lines(1)->mutable_unit_price()->set_amount_minor(v);
      ok(place_cmd(p));
    }
    for (int64_t v : {int64_t{0}, int64_t{-1}, lim::unit_price_max_minor + 1}) {
      p.mutable_lines(1)->mutable_unit_price()->set_amount_minor(v);
      bad(place_cmd(p), "place_order.lines[1].unit_price.amount_minor", "1..1000000000");
    }
  }

  TEST_CASE("largest possible order total does not overflow") {
    auto p = valid_place_order();
    auto line = p.lines(0);
    line.set_quantity(lim::quantity_max);
    line.mutable_unit_price()->set_amount_minor(lim::unit_price_max_minor);
    p.clear_lines();
    for (int i = 0; i < lim::lines_max; ++i)
      *p.add_lines() = line;
    const auto d = domain::decide({}, place_cmd(p), 1);
    REQUIRE(d.accepted());
    CHECK(d.events[0].order_placed().total_minor() == int64_t{1'000'000'000'000'000});
  }

  TEST_CASE("currency: three uppercase letters, the same on every line") {
    auto p = valid_place_order();
    for (const char* cur : {"eur", "EU", "EURO", "E1R", ""}) {
      p.set_currency(cur);
      bad(place_cmd(p), "place_order.currency", "3 uppercase letters");
    }
    p = valid_place_order();
    p.mutable_lines(1)->mutable_unit_price()->set_currency("USD");
    bad(place_cmd(p), "place_order.lines[1].unit_price.currency", "EUR");
    p.mutable_lines(1)->mutable_unit_price()->set_currency("usd");
    bad(place_cmd(p), "place_order.lines[1].unit_price.currency", "3 uppercase letters");
  }

  TEST_CASE("text fields: at most 256 bytes; required ones non-empty") {
    auto p = valid_place_order();
    for (const char* f : {"name", "line1", "line2", "city", "postal_code"}) {
      auto q = p;
      auto* a = q.mutable_shipping_address();
      auto* field = a->GetReflection();
      const auto* fd = a->GetDescriptor()->FindFieldByName(f);
      field->SetString(a, fd, std::string(lim::text_bytes_max, 'x'));
      ok(place_cmd(q));
      field->SetString(a, fd, std::string(lim::text_bytes_max + 1, 'x'));
      bad(place_cmd(q), fmt::format("place_order.shipping_address.{}", f), "256");
    }
    for (const char* f : {"name", "line1", "city"}) {
      auto q = p;
      auto* a = q.mutable_shipping_address();
      a->GetReflection()->SetString(a, a->GetDescriptor()->FindFieldByName(f), "");
      bad(place_cmd(q), fmt::format("place_order.shipping_address.{}", f), "must not be empty");
    }
    p.mutable_shipping_address()->set_country("gb");
    bad(place_cmd(p), "place_order.shipping_address.country", "2 uppercase letters");

    v1::OrderCommand c;
    c.set_order_id(fx_order_id);
    c.mutable_cancel_order()->set_reason(std::string(256, 'r'));
    ok(c);
    c.mutable_cancel_order()->set_reason(std::string(257, 'r'));
    bad(c, "cancel_order.reason", "256");
    c.mutable_payment_declined()->set_reason(std::string(257, 'r'));
    bad(c, "payment_declined.reason", "256");
    c.mutable_mark_shipped()->set_carrier(std::string(64, 'c'));
    c.mutable_mark_shipped()->set_tracking_number(std::string(64, 't'));
    ok(c);
    c.mutable_mark_shipped()->set_carrier(std::string(65, 'c'));
    bad(c, "mark_shipped.carrier", "64");
    c.mutable_mark_shipped()->set_carrier("");
    bad(c, "mark_shipped.carrier", "must not be empty");
    c.mutable_mark_shipped()->set_carrier("DHL");
    c.mutable_mark_shipped()->set_tracking_number(std::string(65, 't'));
    bad(c, "mark_shipped.tracking_number", "64");
  }

  TEST_CASE("payment authorization: valid id, positive amount equal to the total") {
    v1::OrderCommand c;
    c.set_order_id(fx_order_id);
    auto* p = c.mutable_payment_authorized();
    p->set_payment_id("pay-1");
    p->mutable_amount()->set_currency("EUR");
    p->mutable_amount()->set_amount_minor(1);
    ok(c);
    p->mutable_amount()->set_amount_minor(0);
    bad(c, "payment_authorized.amount.amount_minor", "outside 1..");
    p->mutable_amount()->set_amount_minor(1);
    p->set_payment_id("");
    bad(c, "payment_authorized.payment_id", "1..64");

    const auto s = drive(path_to(order_state::stock_reserved));
    auto cmd = valid_command(order_command_kind::payment_authorized, s);
    cmd.mutable_payment_authorized()->mutable_amount()->set_amount_minor(s.total_minor() - 1);
    const auto d = domain::decide(s, cmd, 5000);
    REQUIRE(d.rejection.has_value());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_AMOUNT_MISMATCH);
    CHECK(d.rejection->message().find("payment_authorized.amount") != std::string::npos);
  }

  TEST_CASE("refund: amount >= 1, at most captured minus refunded, restock within ordered") {
    v1::OrderCommand c;
    c.set_order_id(fx_order_id);
    auto* r = c.mutable_refund_order();
    r->mutable_amount()->set_currency("EUR");
    r->mutable_amount()->set_amount_minor(lim::refund_min_minor);
    ok(c);
    r->mutable_amount()->set_amount_minor(0);
    bad(c, "refund_order.amount.amount_minor", "outside 1..");
    r->mutable_amount()->set_amount_minor(1);
    r->set_reason(std::string(257, 'r'));
    bad(c, "refund_order.reason", "256");
    r->set_reason("");
    r->add_restock_lines()->set_sku("sku-a");
    r->mutable_restock_lines(0)->set_quantity(1);
    bad(c, "refund_order.restock_lines", "restock is false");
    r->set_restock(true);
    ok(c);
    r->mutable_restock_lines(0)->set_quantity(0);
    bad(c, "refund_order.restock_lines[0].quantity", "1..10000");

    const auto s = drive(path_to(order_state::delivered));
    auto cmd = valid_command(order_command_kind::refund_order, s);
    cmd.mutable_refund_order()->mutable_amount()->set_amount_minor(s.captured_minor());
    CHECK(domain::decide(s, cmd, 9000).accepted());
    cmd.mutable_refund_order()->mutable_amount()->set_amount_minor(s.captured_minor() + 1);
    auto d = domain::decide(s, cmd, 9000);
    REQUIRE(d.rejection.has_value());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_REFUND_EXCEEDS_CAPTURED);
    CHECK(d.rejection->message().find("refund_order.amount") != std::string::npos);
    cmd.mutable_refund_order()->mutable_amount()->set_amount_minor(1);
    cmd.mutable_refund_order()->mutable_amount()->set_currency("USD");
    CHECK(domain::decide(s, cmd, 9000).rejection->code() == v1::REJECTION_CODE_AMOUNT_MISMATCH);
    cmd.mutable_refund_order()->mutable_amount()->set_currency("EUR");
    cmd.mutable_refund_order()->set_restock(true);
    auto* l = cmd.mutable_refund_order()->add_restock_lines();
    l->set_sku("sku-a");
    l->set_quantity(2); // exactly what was ordered
    CHECK(domain::decide(s, cmd, 9000).accepted());
    l->set_quantity(3);
    d = domain::decide(s, cmd, 9000);
    REQUIRE(d.rejection.has_value());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_RESTOCK_EXCEEDS_RETURNABLE);
    CHECK(d.rejection->message().find("refund_order.restock_lines[0]") != std::string::npos);
  }

  TEST_CASE("inventory limits") {
    v1::InventoryCommand c;
    c.set_sku("sku-1");
    c.mutable_reserve()->set_order_id("o-1");
    c.mutable_reserve()->mutable_unit_price()->set_amount_minor(1500);
    c.mutable_reserve()->mutable_unit_price()->set_currency("EUR");
    for (int64_t q : {lim::quantity_min, lim::quantity_max}) {
      c.mutable_reserve()->set_quantity(q);
      ok(c);
    }
    c.mutable_reserve()->mutable_unit_price()->set_amount_minor(0);
    bad(c, "reserve.unit_price.amount_minor", "1..1000000000");
    c.mutable_reserve()->mutable_unit_price()->set_amount_minor(1500);
    c.mutable_reserve()->mutable_unit_price()->set_currency("eur");
    bad(c, "reserve.unit_price.currency", "");
    c.mutable_reserve()->mutable_unit_price()->set_currency("EUR");
    c.mutable_reserve()->set_quantity(0);
    bad(c, "reserve.quantity", "1..10000");
    c.mutable_reserve()->set_quantity(10'001);
    bad(c, "reserve.quantity", "1..10000");
    c.mutable_release()->set_order_id("");
    bad(c, "release.order_id", "1..64");
    c.mutable_commit()->set_order_id(std::string(65, 'o'));
    bad(c, "commit.order_id", "1..64");

    for (int64_t q : {int64_t{1}, lim::restock_quantity_max}) {
      c.mutable_restock()->set_quantity(q);
      ok(c);
    }
    for (int64_t q : {int64_t{0}, lim::restock_quantity_max + 1}) {
      c.mutable_restock()->set_quantity(q);
      bad(c, "restock.quantity", "1..1000000");
    }
    c.mutable_adjust()->set_reason("count");
    for (int64_t dlt : {int64_t{1}, int64_t{-1}, lim::adjust_delta_max, -lim::adjust_delta_max}) {
      c.mutable_adjust()->set_delta(dlt);
      ok(c);
    }
    for (int64_t dlt : {int64_t{0}, lim::adjust_delta_max + 1, -lim::adjust_delta_max - 1}) {
      c.mutable_adjust()->set_delta(dlt);
      bad(c, "adjust.delta", "1000000");
    }
    c.mutable_adjust()->set_delta(1);
    c.mutable_adjust()->set_reason("");
    bad(c, "adjust.reason", "must not be empty");
    c.mutable_adjust()->set_reason(std::string(257, 'r'));
    bad(c, "adjust.reason", "256");
    auto* price = c.mutable_set_price()->mutable_price();
    price->set_currency("EUR");
    for (int64_t a : {lim::unit_price_min_minor, lim::unit_price_max_minor}) {
      price->set_amount_minor(a);
      ok(c);
    }
    for (int64_t a : {int64_t{0}, lim::unit_price_max_minor + 1}) {
      price->set_amount_minor(a);
      bad(c, "set_price.price.amount_minor", "1..1000000000");
    }
    c.mutable_assign_owner()->set_merchant_id("m-1");
    ok(c);
    c.mutable_assign_owner()->set_merchant_id("m 1");
    bad(c, "assign_owner.merchant_id", "");
    c.mutable_assign_owner()->set_merchant_id("m-1");
    c.set_acting_merchant(std::string(65, 'm'));
    bad(c, "acting_merchant", "1..64");
    c.clear_acting_merchant();
    c.set_sku("");
    bad(c, "sku", "1..64");
  }

  TEST_CASE("inventory stock bounds: stock_max and adjust below reserved") {
    v1::InventoryState s;
    v1::InventoryCommand c;
    c.set_sku("sku-1");
    c.mutable_restock()->set_quantity(lim::restock_quantity_max);
    for (int i = 0; i < 1000; ++i)
      s = domain::replay(domain::decide(s, c, i).events, s);
    CHECK(s.on_hand() == lim::stock_max);
    c.mutable_restock()->set_quantity(1);
    auto d = domain::decide(s, c, 2000);
    REQUIRE(d.rejection.has_value());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_STOCK_LIMIT);
    CHECK(d.rejection->message().find("restock.quantity") != std::string::npos);

    v1::InventoryState t;
    c.mutable_restock()->set_quantity(10);
    t = domain::replay(domain::decide(t, c, 1).events, t);
    c.mutable_set_price()->mutable_price()->set_amount_minor(700);
    c.mutable_set_price()->mutable_price()->set_currency("EUR");
    t = domain::replay(domain::decide(t, c, 1).events, t);
    c.mutable_reserve()->mutable_unit_price()->set_amount_minor(700);
    c.mutable_reserve()->mutable_unit_price()->set_currency("EUR");
    c.mutable_reserve()->set_order_id("o-1");
    c.mutable_reserve()->set_quantity(6);
    t = domain::replay(domain::decide(t, c, 2).events, t);
    c.mutable_adjust()->set_reason("breakage");
    c.mutable_adjust()->set_delta(-4); // on_hand 6 == reserved 6: allowed
    CHECK(domain::decide(t, c, 3).accepted());
    c.mutable_adjust()->set_delta(-5);
    d = domain::decide(t, c, 3);
    REQUIRE(d.rejection.has_value());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_BELOW_RESERVED);
    CHECK(d.rejection->message().find("adjust.delta") != std::string::npos);
    c.mutable_reserve()->set_order_id("o-2");
    c.mutable_reserve()->mutable_unit_price()->set_amount_minor(700);
    c.mutable_reserve()->mutable_unit_price()->set_currency("EUR");
    c.mutable_reserve()->set_quantity(4); // exactly the available units
    CHECK(domain::decide(t, c, 3).accepted());
    c.mutable_reserve()->set_quantity(5);
    CHECK(domain::decide(t, c, 3).rejection->code() == v1::REJECTION_CODE_INSUFFICIENT_STOCK);
  }

  TEST_CASE("envelope: schema version window, idempotency key, entity agreement") {
    v1::Envelope env;
    env.set_schema_version(domain::schema_version_current);
    env.set_entity_type(v1::ENTITY_TYPE_ORDER);
    env.set_entity_id(fx_order_id);
    env.set_idempotency_key("k-1");
    *env.mutable_order_command() = valid_command(order_command_kind::place_order, {});
    CHECK_FALSE(domain::check_command_envelope(env).has_value());
    env.set_schema_version(domain::schema_version_current + 1);
    CHECK(domain::check_command_envelope(env)->code() ==
          v1::REJECTION_CODE_UNSUPPORTED_SCHEMA_VERSION);
    env.set_schema_version(0);
    CHECK(domain::check_command_envelope(env)->code() ==
          v1::REJECTION_CODE_UNSUPPORTED_SCHEMA_VERSION);
    env.set_schema_version(domain::schema_version_current);
    env.set_entity_id("order-2");
    CHECK(domain::check_command_envelope(env)->code() == v1::REJECTION_CODE_WRONG_ENTITY);
    env.set_entity_id(fx_order_id);
    env.set_idempotency_key(std::string(65, 'k'));
    CHECK(domain::check_command_envelope(env)->message().find("idempotency_key") !=
          std::string::npos);
    env.set_idempotency_key("k-1");
    env.mutable_order_command()->clear_kind();
    CHECK(domain::check_command_envelope(env)->code() == v1::REJECTION_CODE_UNKNOWN_COMMAND);

    v1::Envelope ev;
    ev.set_schema_version(domain::schema_version_current);
    ev.mutable_order_event()->mutable_order_delivered();
    CHECK(domain::classify_event(ev) == domain::event_disposition::apply);
    ev.set_schema_version(domain::schema_version_current + 1);
    CHECK(domain::classify_event(ev) == domain::event_disposition::hold);
    ev.set_schema_version(domain::schema_version_current);
    ev.mutable_order_event()->clear_kind();
    CHECK(domain::classify_event(ev) == domain::event_disposition::hold);
  }

} // TEST_SUITE
