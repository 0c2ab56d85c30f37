// The smallest host application: embeds the Ordo runtime, stocks a SKU, places an order, lets
// the saga drive it to delivered, reads the committed state and the event feed, and stops
// cleanly. Built and run
// by CI (CTest entry `example_host`). Usage: embed_example [DATA_DIR]
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "ordo/runtime.hpp"

namespace {

// Put stock on the shelf (callback form), then price it (future form).
void stock_and_price(ordo::runtime& runtime) {
  ordo::v1::InventoryCommand restock;
  restock.set_sku("BOOK-1");
  restock.mutable_restock()->set_quantity(10);
  std::atomic<bool> stocked{false};
  runtime.submit_inventory(restock, "example-restock-1", [&](ordo::outcome o) {
    if (!o.ok()) fmt::print(stderr, "restock: {} {}\n", o.code, o.message);
    stocked = true;
  });
  while (!stocked)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  // The price of record: an order line at any other price is rejected when stock is reserved.
  ordo::v1::InventoryCommand price;
  price.set_sku("BOOK-1");
  price.mutable_set_price()->mutable_price()->set_amount_minor(1'500);
  price.mutable_set_price()->mutable_price()->set_currency("EUR");
  if (auto o = runtime.submit_inventory(price, "example-price-1").get(); !o.ok())
    fmt::print(stderr, "price: {} {}\n", o.code, o.message);
}

// The order to place: two books to one address, at the price of record.
ordo::v1::OrderCommand book_order() {
  ordo::v1::OrderCommand place;
  auto* p = place.mutable_place_order();
  p->set_customer_id("customer-42");
  p->set_currency("EUR");
  auto* line = p->add_lines();
  line->set_sku("BOOK-1");
  line->set_quantity(2);
  line->mutable_unit_price()->set_amount_minor(1'500);
  line->mutable_unit_price()->set_currency("EUR");
  auto* a = p->mutable_shipping_address();
  a->set_name("Grace Hopper");
  a->set_line1("1 Harbour Road");
  a->set_city("Arlington");
  a->set_postal_code("22201");
  a->set_country("US");
  return place;
}

// The saga (on by default) drives the order on its own: reserve stock, authorize payment
// with the simulated gateway, fulfil, ship, deliver. Waits (bounded) for it to settle; nullopt
// if the order cannot be read.
std::optional<ordo::v1::OrderState> settled(ordo::runtime& runtime, const std::string& id) {
  ordo::v1::OrderState state;
  for (int i = 0; i < 10'000; ++i) {
    auto s = runtime.order(id);
    if (!s) return std::nullopt;
    state = *s;
    if (state.status() == ordo::v1::ORDER_STATUS_DELIVERED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  fmt::print("order {} is {}: total {} {}, captured {}\n", state.order_id(),
             ordo::v1::OrderStatus_Name(state.status()), state.total_minor(), state.currency(),
             state.captured_minor());
  return state;
}

// Follows the event feed from the beginning; returns how many events it saw (up to 100).
int follow_feed(ordo::runtime& runtime) {
  std::atomic<int> seen{0};
  auto sub = runtime.subscribe(0, [&](const ordo::feed_item& item) {
    fmt::print("feed #{}: {} {} seq {}\n", item.position, item.event.entity_id(),
               item.event.has_order_event() ? "order event" : "event", item.event.sequence());
    return ++seen < 100;
  });
  for (int i = 0; i < 1000 && seen < 6; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  sub.reset();
  return seen;
}

} // namespace

int main(int argc, char** argv) {
  ordo::runtime_config cfg; // every field has a working default
  cfg.data_dir = argc > 1 ? argv[1] : "./example-data";
  std::filesystem::create_directories(cfg.data_dir);
  auto rt = ordo::runtime::start(cfg);
  if (!rt) {
    fmt::print(stderr, "cannot start: {}\n", to_string(rt.error()));
    return 1;
  }
  auto& runtime = **rt;

  // Put stock on the shelf and price it, then place an order (future form).
  // Idempotency keys make retries — and re-running this example on the same data — safe.
  stock_and_price(runtime);

  const ordo::v1::OrderCommand place = book_order();
  auto placed = runtime.submit_order(place, "example-place-1").get();
  if (!placed.ok()) {
    fmt::print(stderr, "placement: {} {}\n", placed.code, placed.message);
    return 1;
  }
  fmt::print("placed order {} (events {}..{}{})\n", placed.entity_id, placed.first_seq,
             placed.last_seq, placed.duplicate ? ", a retry of an earlier run" : "");

  const auto settled_state = settled(runtime, placed.entity_id);
  if (!settled_state) return 1;
  const ordo::v1::OrderState& state = *settled_state;
  auto stock = runtime.inventory("BOOK-1");
  if (stock)
    fmt::print("BOOK-1: {} on hand, {} reserved\n", stock->on_hand(), stock->reserved_total());

  const int seen = follow_feed(runtime);
  runtime.stop();
  bool passed = seen >= 6 && state.status() == ordo::v1::ORDER_STATUS_DELIVERED &&
                state.captured_minor() == state.total_minor();
  fmt::print("{}\n", passed ? "example host: ok" : "example host: FAILED");
  return passed ? 0 : 1;
}
