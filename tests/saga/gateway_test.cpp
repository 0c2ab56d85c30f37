// The simulated payment gateway every node uses: idempotent per key, and bounded — it
// remembers only its most recent keys and orders, so its memory does not grow with every
// order a node ever took (the outsider's finding: per-order maps kept forever).
#include "saga_support.hpp"
#include "actors/testing/simulated_gateway.hpp"

using namespace ordo;
using namespace ordo::test;

namespace {

saga::payment_request auth_request(int i) {
  saga::payment_request r;
  r.idempotency_key = fmt::format("s:o-{}:3:auth", i);
  r.order_id = fmt::format("o-{}", i);
  r.amount = eur(1000);
  return r;
}

saga::payment_result authorize(saga::simulated_gateway& gw, int i) {
  saga::payment_result got;
  gw.authorize(auth_request(i), [&](saga::payment_result r) { got = std::move(r); });
  return got; // no latency: answered inline
}

} // namespace

TEST_SUITE("saga_gateway") {
  TEST_CASE("memory is bounded: the most recent keys and orders only, recent repeats deduped") {
    saga::simulated_gateway_options o;
    o.keys_remembered_max = 100;
    saga::simulated_gateway gw{o};
    for (int i = 0; i < 1'000; ++i)
      REQUIRE(authorize(gw, i).status == saga::payment_status::approved);
    CHECK(gw.keys_remembered() == 100);
    CHECK(gw.orders_remembered() == 100);
    CHECK(gw.counts().executed == 1'000);
    // A recent key repeats as the same operation: nothing executed again.
    auto again = authorize(gw, 999);
    CHECK(again.payment_id == "pay-o-999");
    CHECK(gw.counts().executed == 1'000);
    CHECK(gw.authorizations_of("o-999") == 1);
    CHECK(gw.calls("s:o-999:3:auth") == 2);
    // A forgotten key is a new operation, as past a real provider's key retention.
    authorize(gw, 0);
    CHECK(gw.counts().executed == 1'001);
    CHECK(gw.keys_remembered() == 100);
  }
}
