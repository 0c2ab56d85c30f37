// The saga's reaction table (domain/saga_reaction.hpp): every order event kind against an
// independently written expectation, on real events built for each case of the OrderEvent
// oneof, and docs/saga.md shows the table the code uses.
#include <map>
#include <string>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "domain/saga_reaction.hpp"
#include "support/text_file.hpp"

using namespace ordo;
using domain::saga_step;
using EK = domain::order_event_kind;

namespace {

// Written from docs/saga.md's diagram, not from the code.
const std::map<std::string, saga_step>& expected() {
  static const std::map<std::string, saga_step> m = {
      {"order_placed", saga_step::reserve_stock},
      {"stock_reserved", saga_step::authorize_payment},
      {"order_rejected", saga_step::none},
      {"payment_authorized", saga_step::start_fulfilment},
      {"payment_declined", saga_step::none},
      {"payment_timed_out", saga_step::none},
      {"fulfilment_started", saga_step::ship},
      {"order_shipped", saga_step::deliver},
      {"payment_captured", saga_step::capture_payment},
      {"stock_commit_requested", saga_step::commit_stock},
      {"order_delivered", saga_step::none},
      {"order_cancelled", saga_step::none},
      {"stock_release_requested", saga_step::release_stock},
      {"payment_void_requested", saga_step::void_payment},
      {"refund_issued", saga_step::refund_payment},
      {"restock_requested", saga_step::restock},
  };
  return m;
}

} // namespace

TEST_SUITE("saga_reaction") {
  TEST_CASE("every order event kind has the expected step") {
    CHECK(expected().size() == domain::order_event_kind_count);
    for (size_t i = 0; i < domain::order_event_kind_count; ++i) {
      const auto k = static_cast<EK>(i);
      const std::string n{domain::name(k)};
      CAPTURE(n);
      REQUIRE(expected().count(n) == 1);
      CHECK(domain::saga_step_for(k) == expected().at(n));
    }
  }

  TEST_CASE("react() on a real event of every kind of the oneof") {
    const auto* oneof = v1::OrderEvent::descriptor()->FindOneofByName("kind");
    REQUIRE(oneof != nullptr);
    CHECK(static_cast<size_t>(oneof->field_count()) == domain::order_event_kind_count);
    for (int f = 0; f < oneof->field_count(); ++f) {
      const auto* field = oneof->field(f);
      CAPTURE(field->name());
      v1::OrderEvent e;
      e.GetReflection()->MutableMessage(&e, field); // sets the case, fields empty
      REQUIRE(expected().count(field->name()) == 1);
      CHECK(domain::react(e) == expected().at(field->name()));
    }
    CHECK(domain::react(v1::OrderEvent{}) == saga_step::none); // no kind
  }

  TEST_CASE("an authorization that started fulfilment needs nothing more") {
    v1::OrderEvent e;
    e.mutable_payment_authorized()->set_fulfilment_started(true);
    CHECK(domain::react(e) == saga_step::none);
    e.mutable_payment_authorized()->set_fulfilment_started(false);
    CHECK(domain::react(e) == saga_step::start_fulfilment);
  }

  TEST_CASE("docs/saga.md shows the table the code uses") {
    std::string table = "| order event | the saga's next step |\n|---|---|\n";
    for (size_t i = 0; i < domain::order_event_kind_count; ++i) {
      const auto k = static_cast<EK>(i);
      table += fmt::format("| `{}` | `{}` |\n", domain::name(k),
                           domain::name(domain::saga_step_for(k)));
      if (k == EK::payment_authorized)
        table += fmt::format("| `{}` with `fulfilment_started` | `{}` |\n", domain::name(k),
                             domain::name(domain::saga_step_for(k, true)));
    }
    const auto doc = ordo::test::read_text_file(std::string(ORDO_SOURCE_DIR) + "/docs/saga.md");
    REQUIRE_MESSAGE(!doc.empty(), "docs/saga.md not found under " ORDO_SOURCE_DIR);
    const std::string why = "docs/saga.md must contain this table exactly:\n" + table;
    CHECK_MESSAGE(doc.find(table) != std::string::npos, why);
  }
}
