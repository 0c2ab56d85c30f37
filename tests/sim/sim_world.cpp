#include "sim_world.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <doctest/doctest.h>
#include <fmt/core.h>

#include "actors/runtime/internals.hpp"

namespace ordo::sim {

namespace {

constexpr int64_t wall_start_ms = 1'800'000'000'000; // virtual wall clock at the first open

v1::Money eur(int64_t minor) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency("EUR");
  return m;
}

std::string describe(const outcome& o) {
  return fmt::format("{}:{}:{}:{}-{}{}", to_string(o.status), o.code, o.entity_id, o.first_seq,
                     o.last_seq, o.duplicate ? ":dup" : "");
}

} // namespace

world::world(uint64_t seed, std::string data_dir, world_options o)
    : seed_(seed), dir_(std::move(data_dir)), opt_(std::move(o)), rng_(seed) {
  saga::simulated_gateway_options g;
  g.seed = seed;
  g.decline_rate = 0.15;
  g.latency = std::chrono::milliseconds{0}; // answers inline: on the saga's own job
  // The provider outlives restarts of the node, as a real one does: it remembers its keys.
  gateway_ = std::make_shared<saga::simulated_gateway>(g);
  open();
}

world::~world() {
  if (rt_) rt_->stop();
}

int64_t world::wall_ms() const {
  int64_t now = 0;
  if (sched_)
    now = std::chrono::duration_cast<std::chrono::milliseconds>(
              sched_->clock().now().time_since_epoch())
              .count();
  return wall_start_ms + elapsed_ms_ + now;
}

void world::open() {
  runtime_config c;
  c.data_dir = dir_;
  c.shard_count = 2;
  c.sync = durability::no_sync; // the simulation tests logic; power-loss tests test syncs
  c.clock = [this] { return wall_ms(); };
  c.limits.snapshot_every_events = 3; // loads mix snapshots and events
  c.limits.passivate_after = std::chrono::milliseconds{500};
  // Both retentions run as actors within a run's virtual time: keys and feed stretches older
  // than these go (the checks allow a retry after idempotency_retention to be new).
  c.idempotency_retention = opt_.idempotency_retention;
  c.feed_retention = std::chrono::seconds{20};
  c.retention_every = std::chrono::seconds{2};
  c.saga.gateway = gateway_;
  c.saga.payment_timeout = std::chrono::milliseconds{1'500};
  c.saga.gateway_call_timeout = std::chrono::milliseconds{200};
  c.saga.warehouse = warehouse_; // outlives restarts, as a real one does
  c.saga.retries_max = 3;
  c.saga.backoff_max = std::chrono::milliseconds{200};
  c.saga.parked_retry_every = std::chrono::milliseconds{1'000};
  c.testing.simulated = true;
  c.testing.deliver = [this](std::function<void()> answer) {
    std::lock_guard<std::mutex> g{answers_mu_};
    answers_.push_back(std::move(answer));
  };
  c.testing.drive = [this] { drain(); };
  auto rt = runtime::start(std::move(c));
  REQUIRE_MESSAGE(rt, "simulated runtime did not start: " << to_string(rt.error()));
  rt_ = std::move(*rt);
  sched_ = &dynamic_cast<caf::scheduler::test_coordinator&>(
      runtime_internals::system(*rt_).scheduler());
}

void world::restart() {
  trace_ += "restart\n";
  const int64_t before = wall_ms();
  rt_->stop(std::chrono::seconds{10});
  rt_.reset();
  sched_ = nullptr;
  elapsed_ms_ = before - wall_start_ms;
  open();
}

void world::drain() {
  for (;;) {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard<std::mutex> g{answers_mu_};
      ready.swap(answers_);
    }
    if (ready.empty() && !sched_->has_job()) return;
    for (auto& answer : ready)
      answer();
    while (sched_->has_job())
      sched_->run_once();
  }
}

void world::run_random_job() {
  auto& jobs = sched_->jobs;
  auto i = jobs.begin() + static_cast<std::ptrdiff_t>(pick(jobs.size()));
  std::rotate(jobs.begin(), i, i + 1);
  sched_->run_once();
}

void world::deliver_random_answer() {
  std::function<void()> answer;
  {
    std::lock_guard<std::mutex> g{answers_mu_};
    auto i = answers_.begin() + static_cast<std::ptrdiff_t>(pick(answers_.size()));
    answer = std::move(*i);
    answers_.erase(i);
  }
  answer();
}

void world::report_from_warehouse() {
  auto& w = warehouse_->waiting;
  auto i = w.begin() + static_cast<std::ptrdiff_t>(pick(w.size()));
  auto report = std::move(*i);
  w.erase(i);
  trace_ += "warehouse\n";
  report();
}

void world::advance(std::chrono::milliseconds d) {
  trace_ += fmt::format("time +{}\n", d.count());
  sched_->clock().advance_time(d);
}

void world::step() {
  size_t waiting;
  {
    std::lock_guard<std::mutex> g{answers_mu_};
    waiting = answers_.size();
  }
  // Per mille, each kind in its own range (a kind with nothing to do lets time pass): mostly
  // actor jobs and journal answers, so orders move between client commands.
  const auto roll = pick(1'000);
  if (roll < 550 && sched_->has_job()) {
    ++steps_["job"];
    run_random_job();
  } else if (roll >= 550 && roll < 750 && waiting > 0) {
    ++steps_["answer"];
    deliver_random_answer();
  } else if (roll >= 750 && roll < 800 && !warehouse_->waiting.empty()) {
    ++steps_["warehouse"];
    report_from_warehouse();
  } else if (roll >= 800 && roll < 810 &&
             sent_ < opt_.client_commands + (after_sales_ ? opt_.after_sales : 0)) {
    ++steps_["client"];
    client_command();
  } else if (roll < 998 || restarts_ >= opt_.restarts_max) {
    ++steps_["time"];
    advance(std::chrono::milliseconds{1 + static_cast<int64_t>(pick(50))});
  } else {
    ++steps_["restart"];
    ++restarts_;
    restart();
  }
}

void world::run() {
  for (const auto& sku : opt_.skus) {
    v1::InventoryCommand c;
    c.set_sku(sku);
    const int64_t qty = 5 + static_cast<int64_t>(pick(25));
    c.mutable_restock()->set_quantity(qty);
    history_["stock-" + sku] = command_record{false, {}, c, {}, {}};
    keys_.push_back("stock-" + sku);
    submit("stock-" + sku);
    c.mutable_set_price()->mutable_price()->set_amount_minor(1000);
    c.mutable_set_price()->mutable_price()->set_currency("EUR");
    history_["price-" + sku] = command_record{false, {}, c, {}, {}};
    keys_.push_back("price-" + sku);
    submit("price-" + sku);
    drain();
    REQUIRE_MESSAGE(history_["stock-" + sku].answers.at(0).ok(), "stocking " << sku);
  }
  run_steps(opt_.client_commands);
  settle();
  after_sales_ = true;
  trace_ += "after sales\n";
  run_steps(opt_.client_commands + opt_.after_sales);
}

void world::run_steps(int commands) {
  for (int i = 0; i < 200'000 && sent_ < commands; ++i)
    step();
  REQUIRE(sent_ == commands);
}

bool world::settle(int max_seconds) {
  gateway_->set_outage(false);
  trace_ += "settle\n";
  for (int i = 0; i < max_seconds * 4; ++i) {
    drain();
    while (!warehouse_->waiting.empty()) {
      report_from_warehouse();
      drain();
    }
    if (unsettled().empty()) return true;
    advance(std::chrono::milliseconds{250});
  }
  drain();
  return unsettled().empty();
}

std::vector<std::string> world::unsettled() {
  std::vector<std::string> out;
  for (const auto& id : orders_) {
    auto st = rt_->order(id);
    REQUIRE_MESSAGE(st, "reading order " << id << ": " << to_string(st.error()));
    switch (st->status()) {
    case v1::ORDER_STATUS_DELIVERED:
    case v1::ORDER_STATUS_REJECTED:
    case v1::ORDER_STATUS_CANCELLED:
    case v1::ORDER_STATUS_REFUNDED:
      break;
    default:
      out.push_back(id);
    }
  }
  return out;
}

// ---- the clients ----------------------------------------------------------------------------

void world::client_command() {
  ++sent_;
  const auto roll = pick(100);
  if (after_sales_) {
    if (roll < 70)
      send_to_random_order("refund");
    else
      retry_earlier_command();
    return;
  }
  if (roll < 40 || orders_.empty())
    place_order();
  else if (roll < 52)
    send_to_random_order("cancel");
  else if (roll < 70)
    send_to_random_order("refund");
  else if (roll < 85)
    retry_earlier_command();
  else {
    const bool down = pick(2) == 0;
    gateway_->set_outage(down);
    trace_ += fmt::format("gateway {}\n", down ? "down" : "up");
  }
}

void world::place_order() {
  v1::OrderCommand c;
  auto* p = c.mutable_place_order();
  p->set_customer_id(fmt::format("customer-{}", pick(5)));
  p->set_currency("EUR");
  const size_t lines = 1 + pick(2);
  for (size_t i = 0; i < lines; ++i) {
    auto* l = p->add_lines();
    l->set_sku(opt_.skus[pick(opt_.skus.size())]);
    l->set_quantity(1 + static_cast<int64_t>(pick(3)));
    *l->mutable_unit_price() = eur(1000);
  }
  auto* a = p->mutable_shipping_address();
  a->set_name("Sim");
  a->set_line1("1 Street");
  a->set_city("City");
  a->set_postal_code("12345");
  a->set_country("DE");
  auto key = fmt::format("place-{}", keys_.size());
  history_[key] = command_record{true, c, {}, {}, {}};
  keys_.push_back(key);
  submit(key);
}

void world::send_to_random_order(const char* what) {
  v1::OrderCommand c;
  c.set_order_id(orders_[pick(orders_.size())]);
  if (std::string_view(what) == "cancel") {
    c.mutable_cancel_order()->set_reason("changed my mind");
  } else {
    // Often what is left to refund (the order's read state), else a part of 1-10 EUR.
    int64_t minor = 100 * (1 + static_cast<int64_t>(pick(10)));
    auto st = rt_->order(c.order_id());
    if (st && pick(2) == 0 && st->captured_minor() > st->refunded_minor())
      minor = st->captured_minor() - st->refunded_minor();
    auto* r = c.mutable_refund_order();
    *r->mutable_amount() = eur(minor);
    r->set_reason("sim");
    r->set_restock(pick(2) == 0);
  }
  auto key = fmt::format("{}-{}", what, keys_.size());
  history_[key] = command_record{true, c, {}, {}, {}};
  keys_.push_back(key);
  submit(key);
}

void world::retry_earlier_command() {
  submit(keys_[pick(keys_.size())]);
}

void world::submit(const std::string& key) {
  trace_ += fmt::format("send {}\n", key);
  auto done = [this, key](outcome o) {
    trace_ += fmt::format("answer {} {}\n", key, describe(o));
    auto& rec = history_.at(key);
    const bool first_placement_ok =
        o.ok() && rec.to_order && rec.order.has_place_order() &&
        std::find(orders_.begin(), orders_.end(), o.entity_id) == orders_.end();
    if (first_placement_ok) orders_.push_back(o.entity_id);
    // A restock applied (not a stored answer): also a retry after idempotency_retention.
    if (o.ok() && !o.duplicate && !rec.to_order && rec.inventory.has_restock())
      stocked_[rec.inventory.sku()] += rec.inventory.restock().quantity();
    rec.answers.push_back(std::move(o));
    rec.answered_ms.push_back(wall_ms());
  };
  const auto& rec = history_.at(key);
  if (rec.to_order)
    rt_->submit_order(rec.order, key, std::move(done));
  else
    rt_->submit_inventory(rec.inventory, key, std::move(done));
}

} // namespace ordo::sim
