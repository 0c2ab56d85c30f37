#include "app/demo_workload.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/core.h>

namespace ordo::app {

namespace {

constexpr int sku_count = 8;
constexpr int64_t unit_price_minor = 1'250;

enum class plan : uint8_t { deliver, cancel, refund };

// One order's script: the commands it sends, one after another.
struct order_run {
  std::string id;
  plan kind = plan::deliver;
  int step = 0;
  int64_t total = 0;
  uint64_t index = 0;
};

struct driver {
  runtime& rt;
  const demo_options& opt;
  demo_result& res;
  std::mt19937_64 rng;
  std::mutex mu;
  std::condition_variable cv;
  uint64_t started = 0, finished = 0;
  std::atomic<uint64_t> commands{0};
  uint64_t started_index = 0;

  driver(runtime& r, const demo_options& o, demo_result& out)
      : rt(r), opt(o), res(out), rng(o.seed) {}

  void note_error(const std::string& e) {
    std::lock_guard<std::mutex> g{mu};
    if (res.errors.size() < 10) res.errors.push_back(e);
  }

  void finish(const std::shared_ptr<order_run>& o) {
    std::lock_guard<std::mutex> g{mu};
    ++finished;
    ++res.orders_done;
    if (o->kind == plan::cancel)
      ++res.cancelled;
    else
      ++res.delivered;
    if (o->kind == plan::refund) ++res.refunded;
    cv.notify_all();
  }

  v1::Money money(int64_t amount) {
    v1::Money m;
    m.set_amount_minor(amount);
    m.set_currency("EUR");
    return m;
  }

  // The next command of an order's script; false when the script is done.
  bool next_command(order_run& o, v1::OrderCommand& cmd) {
    cmd.set_order_id(o.id);
    switch (o.step) {
    case 0:
      return true; // place (built by start())
    case 1:
      cmd.mutable_confirm_stock_reserved();
      return true;
    case 2:
      if (o.kind == plan::cancel) {
        cmd.mutable_cancel_order()->set_reason("customer changed their mind");
        return true;
      }
      cmd.mutable_payment_authorized()->set_payment_id("pay-" + o.id);
      *cmd.mutable_payment_authorized()->mutable_amount() = money(o.total);
      return true;
    case 3:
      if (o.kind == plan::cancel) return false;
      cmd.mutable_start_fulfilment();
      return true;
    case 4:
      cmd.mutable_mark_shipped()->set_carrier("DHL");
      cmd.mutable_mark_shipped()->set_tracking_number(std::string{"T"}.append(o.id, 0, 10));
      return true;
    case 5:
      cmd.mutable_mark_delivered();
      return true;
    case 6:
      if (o.kind != plan::refund) return false;
      *cmd.mutable_refund_order()->mutable_amount() = money(o.total / 2);
      cmd.mutable_refund_order()->set_reason("one item damaged");
      return true;
    default:
      return false;
    }
  }

  void send(const std::shared_ptr<order_run>& o, const v1::OrderCommand& cmd) {
    auto key = o->step == 0 ? fmt::format("demo-{}-place-{}", opt.seed, o->index)
                            : fmt::format("demo-{}-{}", o->id, o->step);
    commands++;
    rt.submit_order(cmd, key, [this, o, cmd](outcome out) {
      if (out.status == outcome_status::overloaded) { // bounded queues said: not now
        {
          std::lock_guard<std::mutex> g{mu};
          ++res.overloaded;
        }
        send(o, cmd); // same key: a retry can never apply twice
        return;
      }
      if (!out.ok()) {
        note_error(fmt::format("order {} step {}: {} {} {}", o->id, o->step, to_string(out.status),
                               out.code, out.message));
        {
          std::lock_guard<std::mutex> g{mu};
          ++(out.status == outcome_status::rejected ? res.rejected : res.failed);
        }
        finish(o);
        return;
      }
      if (o->step == 0) {
        o->id = out.entity_id;
        std::lock_guard<std::mutex> g{mu};
        res.order_ids.push_back(o->id);
      }
      ++o->step;
      v1::OrderCommand next;
      if (!next_command(*o, next)) {
        finish(o);
        return;
      }
      send(o, next);
    });
  }

  void start_one() {
    auto o = std::make_shared<order_run>();
    o->index = started_index++;
    int roll = static_cast<int>(rng() % 100);
    o->kind = roll < 10 ? plan::cancel : roll < 15 ? plan::refund : plan::deliver;
    v1::OrderCommand cmd;
    auto* p = cmd.mutable_place_order();
    p->set_customer_id(fmt::format("customer-{}", rng() % 100'000));
    p->set_currency("EUR");
    int lines = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < lines; ++i) {
      auto* l = p->add_lines();
      l->set_sku(fmt::format("SKU-{}", (rng() % sku_count)));
      l->set_quantity(1 + static_cast<int64_t>(rng() % 3));
      *l->mutable_unit_price() = money(unit_price_minor);
      o->total += l->quantity() * unit_price_minor;
    }
    set_demo_address(*p->mutable_shipping_address());
    send(o, cmd);
  }
};

} // namespace

void set_demo_address(v1::Address& a) {
  a.set_name("Demo Customer");
  a.set_line1("1 Demo Street");
  a.set_city("Berlin");
  a.set_postal_code("10115");
  a.set_country("DE");
}

demo_result run_demo(runtime& rt, const demo_options& opt) {
  demo_result res;
  driver d{rt, opt, res};
  auto t0 = std::chrono::steady_clock::now();
  auto last_print = t0;
  std::unique_lock<std::mutex> lock{d.mu};
  while (d.finished < opt.orders) {
    while (d.started < opt.orders && d.started - d.finished < opt.concurrent) {
      ++d.started;
      lock.unlock();
      d.start_one();
      lock.lock();
    }
    d.cv.wait_for(lock, std::chrono::milliseconds{200});
    auto now = std::chrono::steady_clock::now();
    if (now - last_print > std::chrono::seconds{1}) {
      last_print = now;
      double s = std::chrono::duration<double>(now - t0).count();
      fmt::print("  {:>8} orders done, {:>9} commands, {:>8.0f} commands/s\n", d.finished,
                 d.commands.load(), static_cast<double>(d.commands.load()) / s);
    }
  }
  res.commands = d.commands.load();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

} // namespace ordo::app
