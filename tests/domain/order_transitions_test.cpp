// Every (state, command kind) cell of the order machine, against an expectation written
// here independently of domain/order_machine.cpp, on states reached by real commands.
#include <cstdio>
#include <optional>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "order_fixtures.hpp"

namespace {

using namespace ordo;
using namespace ordo::test;
using K = order_command_kind;
using S = order_state;
using EK = domain::order_event_kind;

struct expectation {
  std::optional<EK> event;                                 // accepted: primary event
  std::optional<S> next;                                   // accepted: resulting state
  v1::RejectionCode code = v1::REJECTION_CODE_UNSPECIFIED; // rejected: code
};

expectation accept(EK e, S next) {
  return {e, next, v1::REJECTION_CODE_UNSPECIFIED};
}
expectation refuse(v1::RejectionCode c) {
  return {std::nullopt, std::nullopt, c};
}

// The lifecycle, stated as rules rather than as a grid.
expectation expected(S s, K k) {
  if (s == S::rejected || s == S::cancelled || s == S::refunded)
    return refuse(v1::REJECTION_CODE_ORDER_CLOSED);
  if (k == K::place_order)
    return s == S::none ? accept(EK::order_placed, S::placed)
                        : refuse(v1::REJECTION_CODE_ALREADY_EXISTS);
  if (s == S::none) return refuse(v1::REJECTION_CODE_NOT_FOUND);
  if (k == K::cancel_order)
    return (s == S::shipped || s == S::delivered) ? refuse(v1::REJECTION_CODE_TOO_LATE_TO_CANCEL)
                                                  : accept(EK::order_cancelled, S::cancelled);
  if (s == S::placed && k == K::confirm_stock_reserved)
    return accept(EK::stock_reserved, S::stock_reserved);
  if (s == S::placed && k == K::reject_out_of_stock) return accept(EK::order_rejected, S::rejected);
  if (s == S::stock_reserved && k == K::payment_authorized)
    return accept(EK::payment_authorized, S::payment_authorized);
  if (s == S::stock_reserved && k == K::payment_declined)
    return accept(EK::payment_declined, S::cancelled);
  if (s == S::stock_reserved && k == K::payment_timed_out)
    return accept(EK::payment_timed_out, S::cancelled);
  if (s == S::payment_authorized && k == K::start_fulfilment)
    return accept(EK::fulfilment_started, S::fulfilling);
  if (s == S::fulfilling && k == K::mark_shipped) return accept(EK::order_shipped, S::shipped);
  if (s == S::shipped && k == K::mark_delivered) return accept(EK::order_delivered, S::delivered);
  // valid_command() refunds everything that is refundable, so this refund is a full one.
  if (s == S::delivered && k == K::refund_order) return accept(EK::refund_issued, S::refunded);
  return refuse(v1::REJECTION_CODE_INVALID_TRANSITION);
}

std::vector<EK> kinds(const std::vector<v1::OrderEvent>& events) {
  std::vector<EK> out;
  for (const auto& e : events)
    out.push_back(*domain::event_kind_of(e));
  return out;
}

} // namespace

TEST_SUITE("order_transitions") {

  TEST_CASE("every (state, command) cell has exactly the expected outcome") {
    int cells = 0;
    for (std::size_t si = 0; si < domain::order_state_count; ++si) {
      const auto s = static_cast<S>(si);
      const auto state = drive(path_to(s));
      REQUIRE(domain::state_of(state) == s);
      for (std::size_t ki = 0; ki < domain::order_command_kind_count; ++ki) {
        const auto k = static_cast<K>(ki);
        const auto want = expected(s, k);
        const auto& cell = domain::order_table(s, k);
        const auto got = domain::decide(state, valid_command(k, state), 5000);
        const auto where = fmt::format("({}, {})", domain::name(s), domain::name(k));
        CAPTURE(where);
        // The table and the live decision both agree with the expectation.
        CHECK(cell.accepted == want.event.has_value());
        CHECK(got.accepted() == want.event.has_value());
        if (want.event) {
          CHECK(cell.event == *want.event);
          REQUIRE(!got.events.empty());
          CHECK(domain::event_kind_of(got.events.front()) == want.event);
          const auto next = domain::replay(got.events, state);
          CHECK(domain::state_of(next) == *want.next);
        } else {
          CHECK(cell.rejection == want.code);
          REQUIRE(got.rejection.has_value());
          CHECK(got.rejection->code() == want.code);
          CHECK(got.events.empty());
          CHECK(got.rejection->message().find(domain::name(k)) != std::string::npos);
        }
        ++cells;
      }
    }
    CHECK(cells == 110);
  }

  TEST_CASE("terminal states reject every command with ORDER_CLOSED") {
    for (auto s : {S::rejected, S::cancelled, S::refunded}) {
      CHECK(domain::is_terminal(s));
      const auto state = drive(path_to(s));
      for (std::size_t ki = 0; ki < domain::order_command_kind_count; ++ki) {
        const auto d = domain::decide(state, valid_command(static_cast<K>(ki), state), 9000);
        REQUIRE(d.rejection.has_value());
        CHECK(d.rejection->code() == v1::REJECTION_CODE_ORDER_CLOSED);
        CHECK(d.events.empty());
      }
    }
    for (auto s : {S::none, S::placed, S::stock_reserved, S::payment_authorized, S::fulfilling,
                   S::shipped, S::delivered})
      CHECK_FALSE(domain::is_terminal(s));
  }

  TEST_CASE("cancellation emits exactly the compensations it needs") {
    const std::vector<std::pair<S, std::vector<EK>>> cases = {
        {S::placed, {EK::order_cancelled, EK::stock_release_requested}},
        {S::stock_reserved,
         {EK::order_cancelled, EK::stock_release_requested, EK::payment_void_requested}},
        {S::payment_authorized,
         {EK::order_cancelled, EK::stock_release_requested, EK::payment_void_requested}},
        {S::fulfilling,
         {EK::order_cancelled, EK::stock_release_requested, EK::payment_void_requested}},
    };
    for (const auto& [s, want] : cases) {
      CAPTURE(domain::name(s));
      const auto state = drive(path_to(s));
      const auto d = domain::decide(state, valid_command(K::cancel_order, state), 9000);
      REQUIRE(d.accepted());
      CHECK(kinds(d.events) == want);
      for (const auto& e : d.events) {
        if (e.has_payment_void_requested())
          CHECK(e.payment_void_requested().payment_id() == (s == S::stock_reserved ? "" : "pay-1"));
        if (e.has_stock_release_requested())
          CHECK(e.stock_release_requested().lines_size() == state.lines_size());
      }
    }
  }

  TEST_CASE("payment failures release stock; a timeout also voids a late authorization") {
    const auto state = drive(path_to(S::stock_reserved));
    auto declined = domain::decide(state, valid_command(K::payment_declined, state), 9000);
    CHECK(kinds(declined.events) == std::vector{EK::payment_declined, EK::stock_release_requested});
    auto timed_out = domain::decide(state, valid_command(K::payment_timed_out, state), 9000);
    CHECK(kinds(timed_out.events) == std::vector{EK::payment_timed_out, EK::stock_release_requested,
                                                 EK::payment_void_requested});
    const auto placed = drive(path_to(S::placed));
    auto oos = domain::decide(placed, valid_command(K::reject_out_of_stock, placed), 9000);
    CHECK(kinds(oos.events) == std::vector{EK::order_rejected, EK::stock_release_requested});
  }

  TEST_CASE("an authorization may start fulfilment in the same transition") {
    const auto state = drive(path_to(S::stock_reserved));
    auto plain = domain::decide(state, valid_command(K::payment_authorized, state), 9000);
    REQUIRE(kinds(plain.events) == std::vector{EK::payment_authorized});
    CHECK_FALSE(plain.events[0].payment_authorized().fulfilment_started());
    auto cmd = valid_command(K::payment_authorized, state);
    cmd.mutable_payment_authorized()->set_start_fulfilment(true);
    auto both = domain::decide(state, cmd, 9000);
    REQUIRE(kinds(both.events) == std::vector{EK::payment_authorized, EK::fulfilment_started});
    CHECK(both.events[0].payment_authorized().fulfilment_started());
    const auto after = domain::replay(both.events, state);
    CHECK(after.status() == v1::ORDER_STATUS_FULFILLING);
    CHECK(after.authorized_minor() == state.total_minor());
    // A wrong amount is refused whole: no fulfilment either.
    cmd.mutable_payment_authorized()->mutable_amount()->set_amount_minor(1);
    CHECK(domain::decide(state, cmd, 9000).events.empty());
  }

  TEST_CASE("capture happens at shipment, for the authorized amount") {
    const auto state = drive(path_to(S::fulfilling));
    const auto d = domain::decide(state, valid_command(K::mark_shipped, state), 9000);
    REQUIRE(kinds(d.events) ==
            std::vector{EK::order_shipped, EK::payment_captured, EK::stock_commit_requested});
    CHECK(d.events[1].payment_captured().amount().amount_minor() == state.authorized_minor());
    const auto shipped = domain::replay(d.events, state);
    CHECK(shipped.captured_minor() == state.total_minor());
  }

  TEST_CASE("partial refunds stay delivered; the refund reaching captured closes the order") {
    auto s = drive(path_to(S::delivered));
    const int64_t captured = s.captured_minor();
    auto cmd = valid_command(K::refund_order, s);
    cmd.mutable_refund_order()->mutable_amount()->set_amount_minor(captured - 1);
    auto d = domain::decide(s, cmd, 9000);
    REQUIRE(d.accepted());
    s = domain::replay(d.events, s);
    CHECK(domain::state_of(s) == S::delivered);
    cmd.mutable_refund_order()->mutable_amount()->set_amount_minor(2);
    d = domain::decide(s, cmd, 9001);
    REQUIRE(d.rejection.has_value());
    CHECK(d.rejection->code() == v1::REJECTION_CODE_REFUND_EXCEEDS_CAPTURED);
    cmd.mutable_refund_order()->mutable_amount()->set_amount_minor(1);
    cmd.mutable_refund_order()->set_restock(true);
    d = domain::decide(s, cmd, 9002);
    REQUIRE(kinds(d.events) == std::vector{EK::refund_issued, EK::restock_requested});
    s = domain::replay(d.events, s);
    CHECK(domain::state_of(s) == S::refunded);
    CHECK(s.refunded_minor() == captured);
  }

  TEST_CASE("wrong order id and unset command kind are refused") {
    const auto s = drive(path_to(S::placed));
    auto cmd = valid_command(K::confirm_stock_reserved, s);
    cmd.set_order_id("order-2");
    CHECK(domain::decide(s, cmd, 1).rejection->code() == v1::REJECTION_CODE_WRONG_ENTITY);
    v1::OrderCommand empty;
    empty.set_order_id(fx_order_id);
    CHECK(domain::decide(s, empty, 1).rejection->code() == v1::REJECTION_CODE_UNKNOWN_COMMAND);
  }

  TEST_CASE("event time never runs backwards within an order") {
    auto s = drive(path_to(S::placed), 50'000);
    const auto d = domain::decide(s, valid_command(K::confirm_stock_reserved, s), 10);
    REQUIRE(d.accepted());
    CHECK(d.events.front().at_ms() == s.updated_at_ms());
  }

} // TEST_SUITE

namespace {

// The transition table as markdown, exactly as docs/domain.md shows it.
std::string render_table() {
  std::string out = "| state \\ command |";
  for (std::size_t k = 0; k < domain::order_command_kind_count; ++k)
    out += fmt::format(" {} |", domain::name(static_cast<K>(k)));
  out += "\n|---|";
  for (std::size_t k = 0; k < domain::order_command_kind_count; ++k)
    out += "---|";
  out += "\n";
  for (std::size_t s = 0; s < domain::order_state_count; ++s) {
    out += fmt::format("| **{}** |", domain::name(static_cast<S>(s)));
    for (std::size_t k = 0; k < domain::order_command_kind_count; ++k) {
      const auto& cell = domain::order_table(static_cast<S>(s), static_cast<K>(k));
      if (cell.accepted) {
        out += fmt::format(" {} |", domain::name(cell.event));
      } else {
        std::string code = v1::RejectionCode_Name(cell.rejection);
        code = code.substr(std::string("REJECTION_CODE_").size());
        out += fmt::format(" *{}* |", code);
      }
    }
    out += "\n";
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return {};
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;)
    text.append(buf, n);
  std::fclose(f);
  return text;
}

} // namespace

TEST_SUITE("order_transitions") {

  TEST_CASE("docs/domain.md shows the table the code uses") {
    const auto table = render_table();
    const auto doc = read_file(std::string(ORDO_SOURCE_DIR) + "/docs/domain.md");
    REQUIRE_MESSAGE(!doc.empty(), "docs/domain.md not found under " ORDO_SOURCE_DIR);
    CHECK_MESSAGE(doc.find(table) != std::string::npos,
                  "docs/domain.md is out of date; the table should read:\n", table);
  }

} // TEST_SUITE
