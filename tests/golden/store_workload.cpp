// The golden store's workload (see store_workload.hpp).
#include "store_workload.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "golden_files.hpp"

namespace ordo::golden {

namespace {

// Runs inside a forked child: a failure prints and ends the child with exit code 1.
class session {
public:
  session(const std::string& dir, int64_t now_ms) {
    auto cfg = store_config(dir);
    cfg.worker_threads = 1;
    cfg.limits.snapshot_every_events = snapshot_every_events;
    cfg.clock = [now_ms] { return now_ms; };
    auto rt = runtime::start(cfg);
    if (!rt) die(fmt::format("runtime did not start: {}", to_string(rt.error())));
    rt_ = std::move(*rt);
  }

  std::unique_ptr<runtime>& rt() { return rt_; }

  /// Submits an order command with key `key`; `want` "" means accepted, else the rejection.
  std::string order(v1::OrderCommand c, const std::string& key, const std::string& want = "") {
    return expect(rt_->submit_order(c, key).get(), key, want);
  }
  std::string inventory(v1::InventoryCommand c, const std::string& key) {
    return expect(rt_->submit_inventory(c, key).get(), key, "");
  }

  [[noreturn]] static void die(const std::string& why) {
    fmt::print(stderr, "golden workload: {}\n", why);
    ::_exit(1);
  }

private:
  static std::string expect(const outcome& o, const std::string& key, const std::string& want) {
    const bool ok = want.empty() ? o.ok() : o.status == outcome_status::rejected && o.code == want;
    if (!ok)
      die(fmt::format("{}: wanted {}, got code '{}' {}", key, want.empty() ? "ok" : want, o.code,
                      o.message));
    return o.entity_id;
  }
  std::unique_ptr<runtime> rt_;
};

v1::Money eur(int64_t minor) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency("EUR");
  return m;
}

v1::OrderLine line(const char* sku, int64_t qty, int64_t price) {
  v1::OrderLine l;
  l.set_sku(sku);
  l.set_quantity(qty);
  *l.mutable_unit_price() = eur(price);
  return l;
}

v1::OrderCommand place(const char* sku, int64_t qty, int64_t price) {
  v1::OrderCommand c;
  auto* p = c.mutable_place_order();
  p->set_customer_id(customer);
  p->set_currency("EUR");
  *p->add_lines() = line(sku, qty, price);
  auto* a = p->mutable_shipping_address();
  a->set_name("Golden Customer");
  a->set_line1("1 Golden Street");
  a->set_city("Goldtown");
  a->set_postal_code("10115");
  a->set_country("DE");
  return c;
}

v1::OrderCommand to(const std::string& id) {
  v1::OrderCommand c;
  c.set_order_id(id);
  return c;
}

v1::InventoryCommand sku(const char* s) {
  v1::InventoryCommand c;
  c.set_sku(s);
  return c;
}

v1::OrderCommand authorize(const std::string& id, const std::string& payment, int64_t minor,
                           bool start_fulfilment = false) {
  auto c = to(id);
  auto* a = c.mutable_payment_authorized();
  a->set_payment_id(payment);
  *a->mutable_amount() = eur(minor);
  a->set_start_fulfilment(start_fulfilment);
  return c;
}

void stock(session& s) {
  auto c = sku(sku_a);
  *c.mutable_set_price()->mutable_price() = eur(1500);
  s.inventory(c, "a-price");
  c = sku(sku_a);
  c.mutable_restock()->set_quantity(10);
  s.inventory(c, "a-restock");
  c = sku(sku_a);
  c.mutable_adjust()->set_delta(-1);
  c.mutable_adjust()->set_reason("counted 9");
  s.inventory(c, "a-adjust");
  c = sku(sku_b);
  c.mutable_assign_owner()->set_merchant_id(merchant_b);
  s.inventory(c, "b-owner");
  c = sku(sku_b);
  *c.mutable_set_price()->mutable_price() = eur(700);
  s.inventory(c, "b-price");
  c = sku(sku_b);
  c.mutable_restock()->set_quantity(5);
  s.inventory(c, "b-restock");
}

// o1: the whole happy path up to shipment (delivery and refund follow in phase 2).
std::string shipped_order(session& s) {
  const auto o1 = s.order(place(sku_a, 2, 1500), "o1-place");
  auto r = sku(sku_a);
  r.mutable_reserve()->set_order_id(o1);
  r.mutable_reserve()->set_quantity(2);
  *r.mutable_reserve()->mutable_unit_price() = eur(1500);
  s.inventory(r, "a-reserve-o1");
  auto c = to(o1);
  c.mutable_confirm_stock_reserved();
  s.order(c, "o1-stock");
  s.order(authorize(o1, "pay-o1", 3000), "o1-pay");
  c = to(o1);
  c.mutable_start_fulfilment();
  s.order(c, "o1-fulfil");
  c = to(o1);
  c.mutable_mark_shipped()->set_carrier("DHL");
  c.mutable_mark_shipped()->set_tracking_number("TRACK-1");
  s.order(c, "o1-ship");
  auto k = sku(sku_a);
  k.mutable_commit()->set_order_id(o1);
  s.inventory(k, "a-commit-o1");
  return o1;
}

// o2..o6: a rejection, a decline, a timeout, a cancellation, a one-step authorization.
void other_orders(session& s) {
  const auto o2 = s.order(place(sku_b, 9, 700), "o2-place");
  auto c = to(o2);
  c.mutable_reject_out_of_stock()->set_sku(sku_b);
  c.mutable_reject_out_of_stock()->set_code(v1::REJECTION_CODE_INSUFFICIENT_STOCK);
  c.mutable_reject_out_of_stock()->set_detail("GOLD-B: 9 wanted, 5 available");
  s.order(c, "o2-reject");
  c = to(o2);
  c.mutable_cancel_order()->set_reason("too late");
  s.order(c, "o2-cancel", "REJECTION_CODE_ORDER_CLOSED"); // a stored rejection record

  const auto o3 = s.order(place(sku_b, 1, 700), "o3-place");
  auto r = sku(sku_b);
  r.mutable_reserve()->set_order_id(o3);
  r.mutable_reserve()->set_quantity(1);
  *r.mutable_reserve()->mutable_unit_price() = eur(700);
  s.inventory(r, "b-reserve-o3");
  c = to(o3);
  c.mutable_confirm_stock_reserved();
  s.order(c, "o3-stock");
  c = to(o3);
  c.mutable_payment_declined()->set_reason("card declined");
  s.order(c, "o3-decline");
  auto rel = sku(sku_b);
  rel.mutable_release()->set_order_id(o3);
  s.inventory(rel, "b-release-o3");

  const auto o4 = s.order(place(sku_a, 1, 1500), "o4-place");
  c = to(o4);
  c.mutable_confirm_stock_reserved();
  s.order(c, "o4-stock");
  c = to(o4);
  c.mutable_payment_timed_out();
  s.order(c, "o4-timeout");

  const auto o5 = s.order(place(sku_a, 1, 1500), "o5-place");
  c = to(o5);
  c.mutable_confirm_stock_reserved();
  s.order(c, "o5-stock");
  s.order(authorize(o5, "pay-o5", 1500), "o5-pay");
  c = to(o5);
  c.mutable_cancel_order()->set_reason("changed my mind");
  s.order(c, "o5-cancel");

  const auto o6 = s.order(place(sku_b, 1, 700), "o6-place");
  c = to(o6);
  c.mutable_confirm_stock_reserved();
  s.order(c, "o6-stock");
  s.order(authorize(o6, "pay-o6", 700, /*start_fulfilment=*/true), "o6-pay");
}

void phase1(const std::string& dir, const std::string& o1_file) {
  session s{dir, phase1_ms};
  stock(s);
  const auto o1 = shipped_order(s);
  other_orders(s);
  std::ofstream{o1_file} << o1;
  s.rt()->stop();
}

// Commits that stay in the log: the process ends right after their acknowledgements.
[[noreturn]] void phase2(const std::string& dir, const std::string& o1_file) {
  std::string o1;
  std::ifstream{o1_file} >> o1;
  session s{dir, phase2_ms};
  auto c = to(o1);
  c.mutable_mark_delivered();
  s.order(c, "o1-deliver");
  c = to(o1);
  auto* refund = c.mutable_refund_order();
  *refund->mutable_amount() = eur(1500);
  refund->set_reason("damaged");
  refund->set_restock(true);
  *refund->add_restock_lines() = line(sku_a, 1, 1500);
  s.order(c, "o1-refund");
  auto r = sku(sku_a);
  r.mutable_restock()->set_quantity(1);
  s.inventory(r, "a-return-o1");
  s.order(place(sku_a, 1, 1500), "o7-place");
  ::_exit(0); // no stop(): no checkpoint of this phase's commits
}

template <class F>
void in_child(const char* what, F&& body) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0), what, " failed (status ", status,
                  "); its stderr says why");
}

} // namespace

runtime_config store_config(const std::string& dir) {
  runtime_config cfg;
  cfg.data_dir = dir;
  cfg.shard_count = 4;
  cfg.saga.enabled = false;
  return cfg;
}

std::string runtime_state(runtime& rt, const std::string& kind, const std::string& id) {
  auto line = [](const auto& s) { return fmt::format("{} {}", s.last_sequence(), state_hash(s)); };
  if (kind == "order") {
    auto s = rt.order(id);
    REQUIRE_MESSAGE(static_cast<bool>(s), "order ", id, ": ", (s ? "" : to_string(s.error())));
    return line(*s);
  }
  auto s = rt.inventory(id);
  REQUIRE_MESSAGE(static_cast<bool>(s), "sku ", id, ": ", (s ? "" : to_string(s.error())));
  return line(*s);
}

void make_golden_store(const std::string& store_dir, const std::string& work_dir) {
  const auto o1_file = work_dir + "/o1.txt";
  in_child("phase 1", [&] { phase1(store_dir, o1_file); });
  in_child("phase 2", [&] { phase2(store_dir, o1_file); });
}

} // namespace ordo::golden
