#pragma once
// The saga dispatcher: follows the journal's event feed (the outbox) from a durable consumer
// offset and performs each order event's effect — inventory commands, payment gateway calls,
// warehouse steps, follow-up order commands — so a placed order drives itself to delivered,
// rejected or cancelled. See docs/saga.md for the design.
//
// Promises:
// - Every effect carries a deterministic idempotency key (order id, event sequence, step), so
//   re-handling an event after a crash or restart repeats no effect: the runtime and the
//   gateway return their stored first answers.
// - The saved offset ("saga") only passes events whose effects are complete (low-water mark),
//   saved every `offset_save_every`; everything after it is re-handled on restart.
// - Every effect is retried with jittered exponential backoff, boundedly; an effect that
//   still fails is logged and left unfinished, holding the offset so a restart retries it.
// Threading: a CAF actor on the runtime's own actor system owns all state (no thread of its
// own). Runtime, gateway and journal callbacks only send it a closure to run; delays and the
// periodic work (timer polls, offset saves) are delayed messages on CAF's clock, whose time
// is the actor system's: a deterministic test_coordinator run drives the saga with the
// runtime (tests/sim/). After stop() every message still to come is dropped.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>

#include "actors/runtime/feed_signal.hpp"
#include "actors/runtime/workflow.hpp"
#include "ordo/outcome.hpp"
#include "ordo/saga_config.hpp"
#include "actors/runtime/timer_deadlines.hpp"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo {
class runtime;
namespace storage {
class journal;
}
} // namespace ordo

namespace ordo::saga {

inline constexpr const char* offset_name = "saga";

class dispatcher final : public workflow {
public:
  /// `deadlines`: the steady-clock deadlines of the durable timers (the runtime's; outlives
  /// the dispatcher). Timers fire by them, not by the wall clock (timer_deadlines.hpp).
  /// `feed`: the runtime's signal of commits that add events; once caught up the dispatcher
  /// reads the feed again only when it fires, never by polling.
  /// `sys`: the runtime's actor system, which runs the dispatcher's actor.
  /// `deliver`: how the journal's answers reach the actor (runtime_env::deliver).
  dispatcher(runtime& rt, storage::journal& j, saga_config cfg,
             std::shared_ptr<payment_gateway> gateway, std::function<int64_t()> now_ms,
             timer_deadlines& deadlines, feed_signal& feed, caf::actor_system& sys,
             std::function<void(std::function<void()>)> deliver);
  ~dispatcher();
  dispatcher(const dispatcher&) = delete;
  dispatcher& operator=(const dispatcher&) = delete;

  /// Stops the actor (a message being handled finishes first), drops answers still to come,
  /// saves the low-water offset. Does not wait for the actor system: safe on a test thread
  /// that drives the scheduler itself.
  void stop() override;
  saga_stats stats() const override;

private:
  using task = std::function<void()>;
  // What the actor runs each message through; open until stop(). Shared with the actor,
  // which may outlive the dispatcher by the messages still in its mailbox.
  struct gate {
    std::mutex mu; // held while a message is handled, and by stop()
    bool open = true;
  };
  struct command_job; // one runtime command with its retries
  struct payment_job; // one gateway call with its timeouts and retries
  enum class pay_op : uint8_t { authorize, capture, void_payment, refund };
  using answer_fn = std::function<void(const outcome&)>;
  using paid_fn = std::function<void(const payment_result&)>;

  // saga_actor.cpp: the actor and its messages.
  void spawn_actor(caf::actor_system& sys);
  // A function that runs a task on the actor, for callbacks from other threads: it holds the
  // actor's handle, not the dispatcher, so a late callback (after stop) is simply dropped.
  std::function<void(task)> mailbox() const;
  void after(std::chrono::milliseconds d, task fn); // run `fn` on the actor after `d`
  void run_due();                                   // the delayed tasks whose time came
  caf::actor_clock::time_point now() const;       // the actor system's clock
  void on_feed();                                 // a read step of the feed
  void schedule_feed();                           // another read step, at once
  // saga_dispatcher.cpp: the feed, offsets, retries; saga_timers.cpp: the timers.
  void read_feed();
  void poll_timers();
  void adopt_stored_timers(int64_t wall_now_ms, caf::actor_clock::time_point now);
  void fire_timeout(const std::string& order_id);
  void cancel_timer(const std::string& order_id);
  void save_offset();
  uint64_t low_water() const;
  void hold(uint64_t pos);
  void release(uint64_t pos);
  std::chrono::milliseconds backoff(int attempt);
  void order_command(uint64_t pos, v1::OrderCommand cmd, std::string key, answer_fn then = {});
  void inventory_command(uint64_t pos, v1::InventoryCommand cmd, std::string key,
                         answer_fn then = {});
  void submit(std::shared_ptr<command_job> job);
  void on_answer(const std::shared_ptr<command_job>& job, outcome o);
  void pay(uint64_t pos, pay_op op, payment_request req, paid_fn then,
           std::function<bool()> still_needed = {});
  void call_gateway(std::shared_ptr<payment_job> job);
  // An effect out of retries: counted and logged once (`parked` is its flag), then `again`
  // every cfg_.parked_retry_every (never when 0: the next start retries it).
  void park(bool& parked, uint64_t pos, const std::string& what, const std::string& why,
            task again);
  // A parked effect completed or is no longer needed; `what` describes it for the log (built
  // only when it was parked: this runs for every effect).
  void unpark(bool& parked, const std::function<std::string()>& what);

  // saga_effects.cpp: what each order event means.
  void on_event(uint64_t pos, const v1::Envelope& e);
  void reserve_lines(uint64_t pos, const std::string& id, uint64_t seq,
                     const google::protobuf::RepeatedPtrField<v1::OrderLine>& lines);
  void authorize(uint64_t pos, const std::string& id, uint64_t seq, int attempt = 0);
  void refund(uint64_t pos, const std::string& id, uint64_t seq, v1::Money amount, int attempt = 0);
  void retry_unreadable(uint64_t pos, int attempt, const std::string& what,
                        std::function<void(int)> again);
  // The effect read the order at `attempt`: if that is past the limit it had been parked.
  void unparked_read(int attempt, const char* what, const std::string& id);
  void per_sku(uint64_t pos, const std::string& id, uint64_t seq, const char* tag,
               const google::protobuf::RepeatedPtrField<v1::OrderLine>& lines);
  void ship(uint64_t pos, const std::string& id, std::string key);
  void deliver(uint64_t pos, const std::string& id, std::string key);
  bool holds_stock(const std::string& sku, const std::string& order_id);
  std::optional<bool> order_in(const std::string& id, v1::OrderStatus status,
                               v1::OrderState* out = nullptr);

  runtime& rt_;
  storage::journal& journal_;
  saga_config cfg_;
  std::shared_ptr<payment_gateway> gateway_;
  std::function<int64_t()> now_ms_;
  timer_deadlines& deadlines_;
  feed_signal& feed_;
  caf::actor_system& sys_;
  std::function<void(std::function<void()>)> deliver_;
  std::shared_ptr<gate> gate_;
  caf::actor self_;
  std::unique_ptr<feed_signal::listener> feed_listener_; // sends the actor a feed read

  // Owned by the actor (touched only under gate_->mu).
  std::map<uint64_t, uint32_t> holds_; // feed position -> effects still running for it
  uint64_t read_upto_ = 0;             // last feed position read
  uint64_t saved_ = 0;                 // last offset saved
  bool offset_save_failing_ = false;   // the last save failed (logged once)
  bool feed_broken_ = false;
  bool feed_scheduled_ = false;  // a feed read step is in the mailbox
  bool waiting_for_room_ = false; // reading stopped at events_in_flight_max
  // Delayed tasks (backoffs, gateway call timeouts, parked retries, the simulated warehouse)
  // wait here, not as one CAF timer each: every CAF timer wakes CAF's clock thread, and a
  // gateway call's timeout is set per call. One wake-up message is pending for the earliest.
  struct delayed {
    caf::actor_clock::time_point due;
    uint64_t n;
    task fn;
    bool operator>(const delayed& o) const { return due != o.due ? due > o.due : n > o.n; }
  };
  std::priority_queue<delayed, std::vector<delayed>, std::greater<>> delayed_;
  uint64_t delayed_n_ = 0;
  std::optional<caf::actor_clock::time_point> wake_at_; // the pending wake-up message's time
  std::set<std::string> timeouts_; // orders whose TimeOutPayment is in flight
  caf::actor_clock::time_point next_wall_check_{};
  std::mt19937_64 rng_{42};

  mutable std::mutex stats_mu_;
  saga_stats stats_;
};

} // namespace ordo::saga
