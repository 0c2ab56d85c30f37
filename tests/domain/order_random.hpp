#pragma once
// Random order command sequences for the property suites. Biased toward the happy path so
// deep states (shipped, delivered, partially refunded) are reached often, with cancels,
// failures, wrong amounts and out-of-place commands mixed in.
#include <random>
#include <string>

#include "domain/limits.hpp"
#include "order_fixtures.hpp"

namespace ordo::test {

struct order_gen {
  std::mt19937_64 rng;

  explicit order_gen(uint64_t seed) : rng(seed) {}

  int64_t between(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng); }

  v1::PlaceOrder place() {
    v1::PlaceOrder p = valid_place_order();
    p.clear_lines();
    const int n = static_cast<int>(between(1, 5));
    for (int i = 0; i < n; ++i) {
      auto* l = p.add_lines();
      l->set_sku(fmt::format("sku-{}", between(0, 9)));
      l->set_quantity(between(1, chance(0.1) ? 10'000 : 5));
      l->mutable_unit_price()->set_amount_minor(between(1, chance(0.1) ? 1'000'000'000 : 10'000));
      l->mutable_unit_price()->set_currency("EUR");
    }
    if (chance(0.3)) p.set_merchant_id(fmt::format("m-{}", between(0, 99)));
    return p;
  }

  // The command that moves `s` forward along the happy path (refund once delivered).
  order_command_kind next_happy(order_state s) {
    using K = order_command_kind;
    switch (s) {
    case order_state::none:
      return K::place_order;
    case order_state::placed:
      return K::confirm_stock_reserved;
    case order_state::stock_reserved:
      return K::payment_authorized;
    case order_state::payment_authorized:
      return K::start_fulfilment;
    case order_state::fulfilling:
      return K::mark_shipped;
    case order_state::shipped:
      return K::mark_delivered;
    default:
      return K::refund_order;
    }
  }

  /// A field-valid command (data may still be wrong: amounts, refund size).
  v1::OrderCommand command(const v1::OrderState& s) {
    const auto st = domain::state_of(s);
    order_command_kind k = next_happy(st);
    const double roll = std::uniform_real_distribution<double>(0, 1)(rng);
    if (roll > 0.85)
      k = static_cast<order_command_kind>(between(0, domain::order_command_kind_count - 1));
    else if (roll > 0.80)
      k = order_command_kind::cancel_order;
    else if (roll > 0.77 && st == order_state::stock_reserved)
      k = chance(0.5) ? order_command_kind::payment_declined
                      : order_command_kind::payment_timed_out;
    auto c = valid_command(k, s);
    if (k == order_command_kind::place_order) *c.mutable_place_order() = place();
    if (k == order_command_kind::payment_authorized && chance(0.05))
      c.mutable_payment_authorized()->mutable_amount()->set_amount_minor(s.total_minor() + 1);
    if (k == order_command_kind::refund_order) {
      const int64_t refundable = s.captured_minor() - s.refunded_minor();
      auto* r = c.mutable_refund_order();
      r->mutable_amount()->set_amount_minor(
          chance(0.2) ? refundable + between(1, 10)
                      : between(1, std::max<int64_t>(1, refundable / 2 + 2)));
      r->set_restock(chance(0.3));
    }
    return c;
  }

  /// Corrupts exactly one field of `c` (or replaces `c` by a corrupted command of another
  /// kind) so that field validation must refuse it, whatever the state.
  void corrupt(v1::OrderCommand& c) {
    const std::string too_long(domain::limits::text_bytes_max + 1, 'x');
    switch (between(0, 11)) {
    case 0:
      c.set_order_id(std::string(65, 'x'));
      return;
    case 1:
      c.set_order_id("bad id");
      return;
    case 2:
      c.set_order_id("");
      return;
    case 3:
      c.mutable_cancel_order()->set_reason(too_long);
      return;
    case 4:
      c.mutable_payment_declined()->set_reason(too_long);
      return;
    case 5:
      c.mutable_mark_shipped()->set_carrier("");
      return;
    case 6:
      c.mutable_reject_out_of_stock()->set_sku("sku with space");
      return;
    case 7: {
      auto* p = c.mutable_payment_authorized();
      p->set_payment_id("pay-1");
      p->mutable_amount()->set_amount_minor(between(-5, 0));
      p->mutable_amount()->set_currency("EUR");
      return;
    }
    case 8: {
      auto* r = c.mutable_refund_order();
      r->mutable_amount()->set_amount_minor(between(-5, 0));
      r->mutable_amount()->set_currency("EUR");
      return;
    }
    default:
      break;
    }
    auto p = place();
    switch (between(0, 4)) {
    case 0:
      p.mutable_lines(0)->set_quantity(chance(0.5) ? 0 : 10'001);
      break;
    case 1:
      p.mutable_lines(0)->mutable_unit_price()->set_amount_minor(0);
      break;
    case 2:
      p.set_currency("eur");
      break;
    case 3:
      p.mutable_shipping_address()->set_city(too_long);
      break;
    default:
      p.clear_lines();
      break;
    }
    *c.mutable_place_order() = p;
  }
};

} // namespace ordo::test
