// The saga's payment timers: polling the due ones, adopting stored ones onto the steady
// clock, firing a due one as TimeOutPayment, and cancelling it when that is refused.
#include "actors/saga/saga_dispatcher.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "actors/runtime/journal_io.hpp"
#include "storage/journal.hpp"

namespace ordo::saga {

namespace {
constexpr std::string_view payment_timer_id = "payment"; // actors/models.hpp payment_timer
} // namespace

// Durable payment timers: the order actor schedules "payment" with StockReserved and cancels
// it with the events that leave stock_reserved. A due one becomes TimeOutPayment; if that is
// refused (or was answered before), the timer is cancelled with an event-less append.
// "Due" is decided on the steady clock (actors/timer_deadlines.hpp): a step of the wall clock
// neither fires a timer early nor holds it back. Stored timers without a steady deadline
// (none in memory: adopted below; a lost cancel race) still fire by their wall deadline.
void dispatcher::poll_timers() {
  const auto at = now(); // the actor system's clock (virtual in a simulation)
  const int64_t wall = now_ms_();
  std::vector<std::string> due;
  auto is_payment = [](std::string_view entity, std::string_view id) {
    return id == payment_timer_id && entity.substr(0, 2) == "o/";
  };
  auto by_wall = [&](bool unknown_only) {
    auto err = journal_.due_timers(
        static_cast<uint64_t>(wall), 1'024,
        [&](std::string_view entity, std::string_view id, uint64_t, std::string_view) {
          if (is_payment(entity, id) && !(unknown_only && deadlines_.known(entity, id)))
            due.emplace_back(entity.substr(2));
          return true;
        });
    if (err) fmt::print(stderr, "[error] saga: reading due timers failed: {}\n", to_string(err));
  };
  if (cfg_.testing.wall_clock_timers) {
    by_wall(false); // the negative control: the wall clock alone decides
  } else {
    if (deadlines_.take_scan_request()) adopt_stored_timers(wall, at);
    for (auto& t : deadlines_.take_due(at, 1'024))
      if (is_payment(t.entity, t.timer_id)) due.push_back(t.entity.substr(2));
    if (at >= next_wall_check_) {
      by_wall(true);
      next_wall_check_ = at + cfg_.timer_wall_check_every;
    }
  }
  for (auto& id : due)
    fire_timeout(id);
}

// Stored timers this process did not schedule (an earlier run's, imported ones) get a steady
// deadline: min(their wall deadline, now + the payment timeout) — see timer_deadlines.hpp.
void dispatcher::adopt_stored_timers(int64_t wall_now_ms, caf::actor_clock::time_point now) {
  std::optional<std::chrono::milliseconds> cap;
  if (cfg_.payment_timeout.count() > 0) cap = cfg_.payment_timeout;
  size_t adopted = 0;
  auto err = journal_.due_timers(
      UINT64_MAX, cfg_.timer_adopt_max,
      [&](std::string_view entity, std::string_view id, uint64_t due_ms, std::string_view) {
        if (id == payment_timer_id && entity.substr(0, 2) == "o/" &&
            deadlines_.adopt(entity, id, due_ms, wall_now_ms, now, cap))
          ++adopted;
        return true;
      });
  if (err) {
    fmt::print(stderr, "[error] saga: reading timers to adopt failed: {}; trying again\n",
               to_string(err));
    deadlines_.request_scan();
  }
  if (adopted > 0)
    fmt::print(stderr,
               "[info] saga: adopted {} stored payment timers; each fires at the earlier of its "
               "wall-clock deadline and now + payment_timeout\n",
               adopted);
}

void dispatcher::fire_timeout(const std::string& id) {
  if (!timeouts_.insert(id).second) return;
  {
    std::lock_guard<std::mutex> g{stats_mu_};
    ++stats_.timeouts;
  }
  v1::OrderCommand c;
  c.set_order_id(id);
  c.mutable_payment_timed_out();
  order_command(0, std::move(c), "timeout-" + id, [this, id](const outcome& o) {
    if (o.ok() && !o.duplicate)
      timeouts_.erase(id); // the PaymentTimedOut append cancelled the timer
    else
      cancel_timer(id);
  });
}

void dispatcher::cancel_timer(const std::string& order_id) {
  auto entity = "o/" + order_id;
  auto last = journal_.last_seq(entity);
  if (!last) {
    timeouts_.erase(order_id);
    return;
  }
  storage::append_request req;
  req.entity = entity;
  req.expected_seq = *last; // a conflict just means the next poll tries again
  req.timer_cancels.push_back("payment");
  req.now_ms = static_cast<uint64_t>(now_ms_());
  // Whatever the answer, the timer is no longer in flight here; a conflict or failure leaves
  // it stored, and the next poll finds it again.
  persist(journal_, std::move(req),
          [this, mb = mailbox(), order_id](append_answer) {
            mb([this, order_id] { timeouts_.erase(order_id); });
          },
          deliver_);
}

} // namespace ordo::saga
