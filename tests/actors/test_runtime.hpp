#pragma once
// Helpers for tests that drive the real runtime (CAF + LMDB) in a temporary directory.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "storage/journal.hpp"

namespace ordo::test {

/// A fresh temporary data directory, removed when the test ends.
struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/ordo-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

inline runtime_config config_in(const temp_dir& d) {
  runtime_config cfg;
  cfg.data_dir = d.path;
  cfg.shard_count = 8;
  cfg.saga.enabled = false; // these tests play inventory, payment and warehouse by hand
  return cfg;
}

inline std::unique_ptr<runtime> start(const runtime_config& cfg) {
  auto rt = runtime::start(cfg);
  if (!rt) FAIL("runtime did not start: " << to_string(rt.error()));
  return std::move(*rt);
}

inline v1::Money eur(int64_t minor) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency("EUR");
  return m;
}

inline v1::OrderCommand place(const std::string& sku = "SKU-1", int64_t qty = 1,
                              int64_t price = 1000) {
  v1::OrderCommand c;
  auto* p = c.mutable_place_order();
  p->set_customer_id("customer-1");
  p->set_currency("EUR");
  auto* l = p->add_lines();
  l->set_sku(sku);
  l->set_quantity(qty);
  *l->mutable_unit_price() = eur(price);
  auto* a = p->mutable_shipping_address();
  a->set_name("Test");
  a->set_line1("1 Street");
  a->set_city("City");
  a->set_postal_code("12345");
  a->set_country("DE");
  return c;
}

/// The store in `dir` (closed) passes storage::verify: every record, checksum and chain.
inline void check_store_verifies(const std::string& dir) {
  auto report = storage::verify(dir);
  REQUIRE(report);
  CHECK_MESSAGE(report->ok(), (report->problems.empty() ? "" : report->problems.front()));
}

inline v1::OrderCommand for_order(const std::string& id) {
  v1::OrderCommand c;
  c.set_order_id(id);
  return c;
}

inline outcome wait(std::future<outcome> f) {
  REQUIRE(f.wait_for(std::chrono::seconds{30}) == std::future_status::ready);
  return f.get();
}

/// Places an order and walks it to payment authorized; returns its id.
inline std::string placed_and_paid(runtime& rt, const std::string& tag, int64_t total = 1000) {
  auto o = wait(rt.submit_order(place("SKU-1", 1, total), tag + "-place"));
  REQUIRE_MESSAGE(o.ok(), o.code << " " << o.message);
  auto id = o.entity_id;
  auto r = for_order(id);
  r.mutable_confirm_stock_reserved();
  REQUIRE(wait(rt.submit_order(r, tag + "-reserve")).ok());
  auto a = for_order(id);
  a.mutable_payment_authorized()->set_payment_id("pay-" + tag);
  *a.mutable_payment_authorized()->mutable_amount() = eur(total);
  REQUIRE(wait(rt.submit_order(a, tag + "-pay")).ok());
  return id;
}

} // namespace ordo::test
