#include <chrono>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/core.h>

#include "app/scenario/scenario.hpp"
#include "app/scenario/target.hpp"

namespace ordo::scenario {

namespace {

struct context {
  target* t = nullptr;
  std::map<std::string, std::string> orders; // alias -> order id
  std::optional<outcome> last;
  std::string currency = "EUR";
};

std::optional<int64_t> number(const std::string& s) {
  try {
    size_t used = 0;
    auto v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (...) {
  }
  return std::nullopt;
}

// The real order id of an alias; an unknown alias is used as-is (so scenarios can also
// address raw ids, and malformed ids reach the runtime's validation).
std::string order_of(const context& c, const std::string& alias) {
  auto it = c.orders.find(alias);
  return it == c.orders.end() ? alias : it->second;
}

v1::Money money(const context& c, int64_t amount) {
  v1::Money m;
  m.set_amount_minor(amount);
  m.set_currency(c.currency);
  return m;
}

std::string get(const step& s, const std::string& k, std::string fallback = "") {
  auto it = s.named.find(k);
  return it == s.named.end() ? fallback : it->second;
}

// Builds the command of a step; returns an error message if a value is malformed.
std::optional<std::string> build_order(context& c, const step& s, v1::OrderCommand& cmd) {
  const auto& v = s.verb;
  if (v != "place") cmd.set_order_id(order_of(c, s.args[0]));
  if (v == "place") {
    auto* p = cmd.mutable_place_order();
    p->set_customer_id(get(s, "customer", "customer-1"));
    if (s.named.count("merchant")) p->set_merchant_id(get(s, "merchant"));
    c.currency = get(s, "currency", "EUR"); // later steps pay in the last placement's currency
    p->set_currency(c.currency);
    for (const auto& l : s.lines) { // SKU:qty:price
      auto a = l.find(':'), b = l.rfind(':');
      if (a == std::string::npos || a == b) return fmt::format("line={} is not SKU:qty:price", l);
      auto qty = number(l.substr(a + 1, b - a - 1)), price = number(l.substr(b + 1));
      if (!qty || !price) return fmt::format("line={} has a non-numeric qty or price", l);
      auto* line = p->add_lines();
      line->set_sku(l.substr(0, a));
      line->set_quantity(*qty);
      *line->mutable_unit_price() = money(c, *price);
    }
    auto* addr = p->mutable_shipping_address();
    addr->set_name(get(s, "name", "Ada Lovelace"));
    addr->set_line1(get(s, "street", "1 Main Street"));
    addr->set_city(get(s, "city", "London"));
    addr->set_postal_code(get(s, "postal", "N1 9GU"));
    addr->set_country(get(s, "country", "GB"));
  } else if (v == "reserved") {
    cmd.mutable_confirm_stock_reserved();
  } else if (v == "out-of-stock") {
    cmd.mutable_reject_out_of_stock()->set_sku(get(s, "sku"));
  } else if (v == "authorized") {
    auto amount = number(get(s, "amount"));
    if (!amount) return std::string("authorized needs amount=<minor units>");
    auto* a = cmd.mutable_payment_authorized();
    a->set_payment_id(get(s, "payment", "pay-" + s.args[0]));
    *a->mutable_amount() = money(c, *amount);
  } else if (v == "declined") {
    cmd.mutable_payment_declined()->set_reason(get(s, "reason", "declined"));
  } else if (v == "payment-timeout") {
    cmd.mutable_payment_timed_out();
  } else if (v == "fulfil") {
    cmd.mutable_start_fulfilment();
  } else if (v == "ship") {
    cmd.mutable_mark_shipped()->set_carrier(get(s, "carrier", "carrier"));
    cmd.mutable_mark_shipped()->set_tracking_number(get(s, "tracking", "T-1"));
  } else if (v == "deliver") {
    cmd.mutable_mark_delivered();
  } else if (v == "cancel") {
    cmd.mutable_cancel_order()->set_reason(get(s, "reason", "customer request"));
  } else if (v == "refund") {
    auto amount = number(get(s, "amount"));
    if (!amount) return std::string("refund needs amount=<minor units>");
    auto* r = cmd.mutable_refund_order();
    *r->mutable_amount() = money(c, *amount);
    r->set_reason(get(s, "reason", "refund"));
    r->set_restock(!s.flags.empty());
  }
  return std::nullopt;
}

std::optional<std::string> build_inventory(context& c, const step& s, v1::InventoryCommand& cmd) {
  const auto& v = s.verb;
  cmd.set_sku(s.args[0]);
  if (v == "stock") {
    auto qty = number(s.args.size() > 1 ? s.args[1] : "");
    if (!qty) return std::string("stock needs a quantity");
    cmd.mutable_restock()->set_quantity(*qty);
    return std::nullopt;
  }
  if (v == "price") {
    auto amount = number(s.args.size() > 1 ? s.args[1] : "");
    if (!amount) return std::string("price needs an amount in minor units");
    *cmd.mutable_set_price()->mutable_price() = money(c, *amount);
    return std::nullopt;
  }
  auto order = order_of(c, get(s, "order"));
  if (v == "reserve") {
    auto qty = number(get(s, "qty"));
    auto price = number(get(s, "price"));
    if (!qty || !price) return std::string("reserve needs qty=<n> price=<minor units>");
    cmd.mutable_reserve()->set_order_id(order);
    cmd.mutable_reserve()->set_quantity(*qty);
    *cmd.mutable_reserve()->mutable_unit_price() = money(c, *price);
  } else if (v == "release") {
    cmd.mutable_release()->set_order_id(order);
  } else if (v == "commit") {
    cmd.mutable_commit()->set_order_id(order);
  } else if (v == "adjust") {
    auto delta = number(get(s, "delta"));
    if (!delta) return std::string("adjust needs delta=<n>");
    cmd.mutable_adjust()->set_delta(*delta);
    cmd.mutable_adjust()->set_reason(get(s, "reason", "adjustment"));
  }
  return std::nullopt;
}

std::string show(const outcome& o) {
  return fmt::format("{}{}{}{}", to_string(o.status), o.duplicate ? " (duplicate)" : "",
                     o.code.empty() ? "" : " " + o.code, o.message.empty() ? "" : ": " + o.message);
}

std::optional<std::string> check_fields(const step& s, const std::map<std::string, int64_t>& have) {
  for (const auto& [k, want] : s.named) {
    auto it = have.find(k);
    if (it == have.end()) return fmt::format("unknown field '{}'", k);
    auto w = number(want);
    if (!w) return fmt::format("{}={} is not a number", k, want);
    if (*w != it->second) return fmt::format("{} is {}, expected {}", k, it->second, *w);
  }
  return std::nullopt;
}

std::optional<std::string> expect(context& c, const step& s) {
  const auto& what = s.args[0];
  if (what == "state") {
    std::string err;
    auto st = c.t->order(order_of(c, s.args[1]), err);
    if (!st) return fmt::format("reading order failed: {}", err);
    auto status = v1::OrderStatus_Name(st->status()).substr(std::string("ORDER_STATUS_").size());
    if (s.args.size() > 2 && s.args[2] != status)
      return fmt::format("order {} is {}, expected {}", s.args[1], status, s.args[2]);
    return check_fields(s, {{"total", st->total_minor()},
                            {"authorized", st->authorized_minor()},
                            {"captured", st->captured_minor()},
                            {"refunded", st->refunded_minor()},
                            {"seq", static_cast<int64_t>(st->last_sequence())}});
  }
  if (what == "stock") {
    std::string err;
    auto st = c.t->inventory(s.args[1], err);
    if (!st) return fmt::format("reading stock failed: {}", err);
    return check_fields(s, {{"on_hand", st->on_hand()},
                            {"reserved", st->reserved_total()},
                            {"available", st->on_hand() - st->reserved_total()},
                            {"seq", static_cast<int64_t>(st->last_sequence())}});
  }
  if (!c.last) return std::string("no command before this expect");
  const auto& o = *c.last;
  bool match = false;
  if (what == "accepted")
    match = o.status == outcome_status::accepted;
  else if (what == "duplicate")
    match = o.duplicate;
  else if (what == "overloaded")
    match = o.status == outcome_status::overloaded;
  else if (what == "rejected")
    match = o.status == outcome_status::rejected;
  else if (what == "failed")
    match = o.status == outcome_status::failed;
  if (match && s.args.size() > 1) {
    auto code = o.code;
    if (code.rfind("REJECTION_CODE_", 0) == 0) code = code.substr(15);
    match = code == s.args[1];
  }
  if (!match) return fmt::format("got {}", show(o));
  return std::nullopt;
}

// `await A STATUS [ms=N]`: polls the order until it is in STATUS (the saga drives it).
std::optional<std::string> await_status(context& c, const step& s) {
  auto ms = number(get(s, "ms", "10000"));
  if (!ms) return std::string("await needs ms=<milliseconds>");
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds{*ms};
  std::string status;
  for (;;) {
    std::string err;
    auto st = c.t->order(order_of(c, s.args[0]), err);
    if (!st) return fmt::format("reading order failed: {}", err);
    status = v1::OrderStatus_Name(st->status()).substr(std::string("ORDER_STATUS_").size());
    if (status == s.args[1]) return std::nullopt;
    if (std::chrono::steady_clock::now() >= until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  return fmt::format("order {} is {} after {} ms, expected {}", s.args[0], status, *ms, s.args[1]);
}

std::optional<std::string> execute(context& c, const step& s, int index) {
  if (s.verb == "expect") return expect(c, s);
  if (s.verb == "await") return await_status(c, s);
  if (s.verb == "restart" || s.verb == "saga") {
    std::optional<bool> saga;
    if (s.verb == "saga") {
      if (s.args[0] != "on" && s.args[0] != "off") return std::string("saga takes on or off");
      saga = s.args[0] == "on";
    }
    return c.t->restart(saga);
  }
  if (s.verb == "sleep") {
    auto ms = number(s.args[0]);
    if (!ms) return std::string("sleep needs milliseconds");
    std::this_thread::sleep_for(std::chrono::milliseconds{*ms});
    return std::nullopt;
  }
  auto key = c.t->key_prefix() + get(s, "key", fmt::format("scenario-line-{}-{}", s.line, index));
  static const std::set<std::string> inventory_verbs{"stock", "price", "reserve", "release",
                                                     "commit", "adjust"};
  std::optional<outcome> o;
  if (inventory_verbs.count(s.verb) > 0) {
    v1::InventoryCommand cmd;
    if (auto bad = build_inventory(c, s, cmd)) return bad;
    o = c.t->submit_inventory(cmd, key);
  } else {
    v1::OrderCommand cmd;
    if (auto bad = build_order(c, s, cmd)) return bad;
    o = c.t->submit_order(cmd, key);
    if (o && s.verb == "place" && !o->entity_id.empty()) c.orders[s.args[0]] = o->entity_id;
  }
  if (!o) return std::string("no answer within 30 s");
  c.last = std::move(o);
  return std::nullopt;
}

} // namespace

run_report run_on(const std::vector<step>& steps, target& t, bool keep_going) {
  run_report report;
  context c;
  c.t = &t;
  int index = 0;
  for (const auto& s : steps) {
    ++report.steps_run;
    if (auto bad = execute(c, s, index++)) {
      report.failures.push_back(fmt::format("line {}: {}: {}", s.line, s.text, *bad));
      if (!keep_going) break;
    }
  }
  return report;
}

std::optional<std::vector<step>> read_file(const std::string& path, run_report& report) {
  std::ifstream in{path};
  if (!in) {
    report.failures.push_back(fmt::format("cannot read scenario file {}", path));
    return std::nullopt;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  auto parsed = parse(buf.str());
  if (!parsed.errors.empty()) {
    report.failures = parsed.errors;
    return std::nullopt;
  }
  return std::move(parsed.steps);
}

} // namespace ordo::scenario
