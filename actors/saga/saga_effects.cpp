// What each order event means to the saga. Keys: "s:<order>:<event seq>:<step>", so the same
// event always produces the same keys (see docs/saga.md, "Idempotency keys").
#include <map>
#include <vector>

#include <fmt/core.h>

#include "actors/runtime/internals.hpp"
#include "ordo/runtime.hpp"
#include "actors/saga/saga_dispatcher.hpp"
#include "domain/limits.hpp"
#include "domain/saga_reaction.hpp"

namespace ordo::saga {

namespace {

std::string key(const std::string& id, uint64_t seq, std::string_view step) {
  return fmt::format("s:{}:{}:{}", id, seq, step);
}

v1::OrderCommand for_order(const std::string& id) {
  v1::OrderCommand c;
  c.set_order_id(id);
  return c;
}

// One SKU's share of an order: its lines summed (inventory holds one reservation per (sku,
// order)) and their unit price (validation makes the lines of one SKU agree on it).
struct sku_lines {
  std::string sku;
  int64_t quantity = 0;
  v1::Money unit_price;
};

std::vector<sku_lines>
per_sku_lines(const google::protobuf::RepeatedPtrField<v1::OrderLine>& lines) {
  std::vector<sku_lines> out;
  for (const auto& l : lines) {
    auto it = std::find_if(out.begin(), out.end(), [&](auto& p) { return p.sku == l.sku(); });
    if (it == out.end())
      out.push_back({l.sku(), l.quantity(), l.unit_price()});
    else
      it->quantity += l.quantity();
  }
  return out;
}

// The reserve's refusal as the order records it: INSUFFICIENT_STOCK, PRICE_MISMATCH, ...
v1::RejectionCode rejection_code(const outcome& o) {
  v1::RejectionCode code = v1::REJECTION_CODE_UNSPECIFIED;
  if (o.status == outcome_status::rejected) v1::RejectionCode_Parse(o.code, &code);
  return code;
}

} // namespace

// The order's state wherever it is: after a shard moved to another node, this node's feed
// may still hold its events, and the saga keeps driving it from here (docs/cluster.md).
std::optional<bool> dispatcher::order_in(const std::string& id, v1::OrderStatus status,
                                         v1::OrderState* out) {
  auto st = runtime_internals::order_anywhere(rt_, id);
  if (!st) return std::nullopt; // unknown now (the shard is moving, its owner unreachable)
  bool in = st->status() == status;
  if (out) *out = std::move(*st);
  return in;
}

void dispatcher::on_event(uint64_t pos, const v1::Envelope& e) {
  if (cfg_.testing.hold_event && cfg_.testing.hold_event(e)) {
    hold(pos); // parked for this run: the offset stays before it
    return;
  }
  {
    std::lock_guard<std::mutex> g{stats_mu_};
    ++stats_.events;
  }
  const auto& ev = e.order_event();
  const auto& id = e.entity_id();
  const uint64_t seq = e.sequence();
  // Which step follows is the domain's table (domain/saga_reaction.hpp); here it is carried
  // out, with keys made from the event.
  using S = domain::saga_step;
  switch (domain::react(ev)) {
  case S::none:
    break;
  case S::reserve_stock:
    reserve_lines(pos, id, seq, ev.order_placed().lines());
    break;
  case S::authorize_payment:
    authorize(pos, id, seq);
    break;
  case S::start_fulfilment: {
    auto c = for_order(id);
    c.mutable_start_fulfilment();
    order_command(pos, std::move(c), key(id, seq, "ful"));
    break;
  }
  case S::ship:
    ship(pos, id, key(id, seq, "ship"));
    break;
  case S::deliver:
    deliver(pos, id, key(id, seq, "dlv"));
    break;
  case S::capture_payment: {
    payment_request r{key(id, seq, "cap"), id, ev.payment_captured().payment_id(),
                      ev.payment_captured().amount()};
    pay(pos, pay_op::capture, std::move(r), {});
    break;
  }
  case S::commit_stock:
    per_sku(pos, id, seq, "c", ev.stock_commit_requested().lines());
    break;
  case S::release_stock:
    per_sku(pos, id, seq, "l", ev.stock_release_requested().lines());
    break;
  case S::restock:
    per_sku(pos, id, seq, "rs", ev.restock_requested().lines());
    break;
  case S::void_payment: {
    payment_request r{key(id, seq, "void"), id, ev.payment_void_requested().payment_id(), {}};
    pay(pos, pay_op::void_payment, std::move(r), {});
    break;
  }
  case S::refund_payment:
    refund(pos, id, seq, ev.refund_issued().amount());
    break;
  }
}

// Reserves every SKU of the order at once (they live on different inventory shards); when
// all have answered: all reserved → ConfirmStockReserved; else release what was reserved and
// RejectOutOfStock. If the order refuses the confirmation (the customer cancelled meanwhile),
// the reservations are released: a cancel's own release may have run before our reserve.
void dispatcher::reserve_lines(uint64_t pos, const std::string& id, uint64_t seq,
                               const google::protobuf::RepeatedPtrField<v1::OrderLine>& lines) {
  struct progress {
    std::vector<sku_lines> skus;
    std::vector<bool> reserved;
    size_t left = 0;
    std::string short_sku; // the first SKU that refused, and why
    v1::RejectionCode code = v1::REJECTION_CODE_UNSPECIFIED;
    std::string detail;
  };
  auto p = std::make_shared<progress>();
  p->skus = per_sku_lines(lines);
  p->reserved.assign(p->skus.size(), false);
  p->left = p->skus.size();
  auto release_reserved = [this, p, pos, id, seq](const char* tag) {
    for (size_t i = 0; i < p->skus.size(); ++i) {
      if (!p->reserved[i]) continue;
      v1::InventoryCommand c;
      c.set_sku(p->skus[i].sku);
      c.mutable_release()->set_order_id(id);
      inventory_command(pos, std::move(c), key(id, seq, fmt::format("{}{}", tag, i)));
    }
  };
  for (size_t i = 0; i < p->skus.size(); ++i) {
    v1::InventoryCommand c;
    c.set_sku(p->skus[i].sku);
    c.mutable_reserve()->set_order_id(id);
    c.mutable_reserve()->set_quantity(p->skus[i].quantity);
    *c.mutable_reserve()->mutable_unit_price() = p->skus[i].unit_price;
    inventory_command(pos, std::move(c), key(id, seq, fmt::format("r{}", i)),
                      [this, p, i, pos, id, seq, release_reserved](const outcome& o) {
                        if (o.ok()) {
                          p->reserved[i] = true;
                        } else if (p->short_sku.empty()) {
                          p->short_sku = p->skus[i].sku;
                          p->code = rejection_code(o);
                          p->detail = o.message.substr(0, domain::limits::text_bytes_max);
                        }
                        if (--p->left > 0) return;
                        if (p->short_sku.empty()) {
                          auto c = for_order(id);
                          c.mutable_confirm_stock_reserved();
                          order_command(pos, std::move(c), key(id, seq, "ok"),
                                        [release_reserved](const outcome& a) {
                                          if (!a.ok()) release_reserved("cr");
                                        });
                          return;
                        }
                        release_reserved("rl");
                        auto c = for_order(id);
                        auto* r = c.mutable_reject_out_of_stock();
                        r->set_sku(p->short_sku);
                        r->set_code(p->code);
                        r->set_detail(p->detail);
                        order_command(pos, std::move(c), key(id, seq, "oos"));
                      });
  }
}

// Authorizes the order total. The answer becomes ConfirmPaymentAuthorized or DeclinePayment
// (one key: the order keeps the first answer). If the order refuses an authorization (it was
// cancelled or timed out meanwhile), the authorization is voided at the gateway.
void dispatcher::authorize(uint64_t pos, const std::string& id, uint64_t seq, int attempt) {
  v1::OrderState st;
  auto in = order_in(id, v1::ORDER_STATUS_STOCK_RESERVED, &st);
  if (!in) {
    retry_unreadable(pos, attempt, "authorization of " + id,
                     [this, pos, id, seq](int next) { authorize(pos, id, seq, next); });
    return;
  }
  unparked_read(attempt, "authorization of", id);
  if (!*in) return; // moved on already
  payment_request r;
  r.idempotency_key = key(id, seq, "auth");
  r.order_id = id;
  r.amount.set_amount_minor(st.total_minor());
  r.amount.set_currency(st.currency());
  auto amount = r.amount;
  pay(
      pos, pay_op::authorize, std::move(r),
      [this, pos, id, seq, amount](const payment_result& res) {
        auto c = for_order(id);
        if (res.status == payment_status::approved) {
          c.mutable_payment_authorized()->set_payment_id(res.payment_id);
          *c.mutable_payment_authorized()->mutable_amount() = amount;
          // The next step carries no decision: one transition instead of two.
          c.mutable_payment_authorized()->set_start_fulfilment(true);
        } else {
          c.mutable_payment_declined()->set_reason(res.reason.empty() ? "declined" : res.reason);
        }
        bool approved = res.status == payment_status::approved;
        auto payment_id = res.payment_id;
        order_command(pos, std::move(c), key(id, seq, "pay"),
                      [this, pos, id, seq, approved, payment_id](const outcome& o) {
                        if (o.ok() || !approved) return;
                        payment_request v{key(id, seq, "lv"), id, payment_id, {}};
                        pay(pos, pay_op::void_payment, std::move(v), {});
                      });
      },
      // Unknown (unreadable now) counts as still needed: the call is idempotent per key.
      [this, id] { return order_in(id, v1::ORDER_STATUS_STOCK_RESERVED).value_or(true); });
}

// Refunds at the gateway; the order (any status) gives the payment id.
void dispatcher::refund(uint64_t pos, const std::string& id, uint64_t seq, v1::Money amount,
                        int attempt) {
  v1::OrderState st;
  if (!order_in(id, v1::ORDER_STATUS_DELIVERED, &st)) {
    retry_unreadable(pos, attempt, "refund of " + id, [this, pos, id, seq, amount](int next) {
      refund(pos, id, seq, amount, next);
    });
    return;
  }
  unparked_read(attempt, "refund of", id);
  payment_request r{key(id, seq, "ref"), id, st.payment_id(), std::move(amount)};
  pay(pos, pay_op::refund, std::move(r), {});
}

// An order's state is unreadable now (its shard is between owners, or the owner is down):
// `again(attempt + 1)` later, with the long budget of a refused command; beyond it the
// effect is parked (its position held; tried again every parked_retry_every, or by the next
// start).
void dispatcher::retry_unreadable(uint64_t pos, int attempt, const std::string& what,
                                  std::function<void(int)> again) {
  hold(pos);
  if (attempt >= cfg_.overloaded_retries_max) {
    // Parked once (counted at the limit); the effect calls unparked_read() when it reads.
    bool parked = attempt > cfg_.overloaded_retries_max;
    park(parked, pos, what, "the order's state stayed unreadable",
         [this, pos, attempt, again = std::move(again)] {
           again(attempt + 1);
           release(pos);
         });
    return;
  }
  after(backoff(attempt), [this, pos, attempt, again = std::move(again)] {
    again(attempt + 1);
    release(pos);
  });
}

void dispatcher::unparked_read(int attempt, const char* what, const std::string& id) {
  bool parked = attempt > cfg_.overloaded_retries_max;
  unpark(parked, [&] { return fmt::format("{} {}", what, id); });
}

// One inventory command per SKU of the event's lines: commit ("c"), release ("l") or
// restock ("rs"). Commit/release are idempotent per order in the domain as well.
void dispatcher::per_sku(uint64_t pos, const std::string& id, uint64_t seq, const char* tag,
                         const google::protobuf::RepeatedPtrField<v1::OrderLine>& lines) {
  auto skus = per_sku_lines(lines);
  for (size_t i = 0; i < skus.size(); ++i) {
    std::string t = tag;
    if (t == "l" && !holds_stock(skus[i].sku, id)) continue;
    v1::InventoryCommand c;
    c.set_sku(skus[i].sku);
    if (t == "c")
      c.mutable_commit()->set_order_id(id);
    else if (t == "l")
      c.mutable_release()->set_order_id(id);
    else
      c.mutable_restock()->set_quantity(skus[i].quantity);
    inventory_command(pos, std::move(c), key(id, seq, fmt::format("{}{}", tag, i)),
                      [this, t, id](const outcome& o) {
                        if (o.ok()) return;
                        std::lock_guard<std::mutex> g{stats_mu_};
                        ++stats_.unexpected;
                        fmt::print(stderr,
                                   "[warn] saga: inventory {} for order {} refused: {} {}\n", t, id,
                                   o.code, o.message);
                      });
  }
}

// A release is skipped when the SKU holds nothing for the order: most releases of a sold-out
// flash sale (the order's only reserve was refused). Safe against a reserve still in flight:
// the saga sends ConfirmStockReserved after its reserves, and when the closed order refuses
// it, the saga releases what it reserved (reserve_lines). A failed read sends the release —
// so does a SKU of another node's shard (cluster), which runtime::inventory answers not_owner.
bool dispatcher::holds_stock(const std::string& sku, const std::string& order_id) {
  auto st = rt_.inventory(sku);
  return !st || st->reservations().count(order_id) > 0;
}

// The warehouse's steps (include/ordo/warehouse.hpp): its report becomes the order's command,
// under the same key. The event's position is held until the command is answered. With
// external fulfilment nobody is asked: the reports come through the node's HTTP API.
void dispatcher::ship(uint64_t pos, const std::string& id, std::string k) {
  if (cfg_.external_fulfilment || !cfg_.warehouse) return;
  hold(pos);
  cfg_.warehouse->ship(id, k, [this, mb = mailbox(), pos, id, k](shipment s) {
    mb([this, pos, id, k, s = std::move(s)] {
      auto c = for_order(id);
      c.mutable_mark_shipped()->set_carrier(s.carrier);
      c.mutable_mark_shipped()->set_tracking_number(s.tracking_number);
      order_command(pos, std::move(c), k);
      release(pos);
    });
  });
}

void dispatcher::deliver(uint64_t pos, const std::string& id, std::string k) {
  if (cfg_.external_fulfilment || !cfg_.warehouse) return;
  hold(pos);
  cfg_.warehouse->deliver(id, k, [this, mb = mailbox(), pos, id, k] {
    mb([this, pos, id, k] {
      auto c = for_order(id);
      c.mutable_mark_delivered();
      order_command(pos, std::move(c), k);
      release(pos);
    });
  });
}

} // namespace ordo::saga
