// The saga dispatcher's actor: one CAF actor on the runtime's actor system runs every piece of
// the dispatcher's work as a message — closures posted by callbacks (answers of the runtime,
// the gateway, the journal), feed read steps, timer polls and offset saves (delayed messages
// on the actor system's clock). One message at a time, so the dispatcher's state needs no
// locking beyond the gate that stop() closes.
#include <caf/all.hpp>

#include "actors/saga/saga_dispatcher.hpp"

namespace ordo::saga {

namespace {
// A closure to run on the actor: local only (it captures pointers), never serialized.
struct saga_task {
  std::function<void()> fn;
};
using feed_atom = caf::atom_constant<caf::atom("saga_feed")>;
using tick_atom = caf::atom_constant<caf::atom("saga_tick")>;
using save_atom = caf::atom_constant<caf::atom("saga_save")>;
using wake_atom = caf::atom_constant<caf::atom("saga_wake")>;
} // namespace

} // namespace ordo::saga

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ordo::saga::saga_task)

namespace ordo::saga {

void dispatcher::spawn_actor(caf::actor_system& sys) {
  // The gate is passed as an argument, not captured: CAF 0.17 dereferences a null tuple of
  // arguments when an actor function takes none (UBSan: reference binding to null pointer).
  auto behavior = [this](caf::event_based_actor* self,
                         std::shared_ptr<gate> g) -> caf::behavior {
    // Every message runs through the gate: once stop() closed it, nothing of the dispatcher
    // (which may be gone) is touched.
    auto guarded = [g](auto&& fn) {
      std::lock_guard<std::mutex> lock{g->mu};
      if (g->open) fn();
    };
    return {
        [guarded](const saga_task& t) { guarded([&] { t.fn(); }); },
        [this, guarded](feed_atom) { guarded([&] { on_feed(); }); },
        [this, self, guarded](tick_atom) {
          guarded([&] {
            poll_timers();
            self->delayed_send(self, cfg_.timer_poll_every, tick_atom::value);
          });
        },
        [this, guarded](wake_atom) {
          guarded([&] {
            wake_at_.reset();
            run_due();
          });
        },
        [this, self, guarded](save_atom) {
          guarded([&] {
            save_offset();
            self->delayed_send(self, cfg_.offset_save_every, save_atom::value);
          });
        },
    };
  };
  self_ = sys.spawn(behavior, gate_);
  feed_listener_ = feed_.listen([a = self_] { caf::anon_send(a, feed_atom::value); });
  caf::anon_send(self_, tick_atom::value); // stored timers are polled at once
  caf::delayed_anon_send(self_, cfg_.offset_save_every, save_atom::value);
  feed_scheduled_ = true;
  caf::anon_send(self_, feed_atom::value);
}

std::function<void(dispatcher::task)> dispatcher::mailbox() const {
  return [a = self_](task t) { caf::anon_send(a, saga_task{std::move(t)}); };
}

void dispatcher::after(std::chrono::milliseconds d, task fn) {
  const auto due = now() + d;
  delayed_.push(delayed{due, delayed_n_++, std::move(fn)});
  if (wake_at_ && *wake_at_ <= due) return; // an earlier wake-up will come first
  wake_at_ = due;
  caf::delayed_anon_send(self_, d, wake_atom::value);
}

// Runs every delayed task that is due, then asks for a wake-up at the next one. A wake-up
// that finds nothing due (its task ran at an earlier one) only re-arms.
void dispatcher::run_due() {
  const auto at = now();
  while (!delayed_.empty() && delayed_.top().due <= at) {
    auto fn = std::move(const_cast<delayed&>(delayed_.top()).fn);
    delayed_.pop();
    fn();
  }
  if (delayed_.empty() || (wake_at_ && *wake_at_ <= delayed_.top().due)) return;
  wake_at_ = delayed_.top().due;
  caf::delayed_anon_send(self_, delayed_.top().due - at, wake_atom::value);
}

caf::actor_clock::time_point dispatcher::now() const {
  return sys_.clock().now();
}

void dispatcher::schedule_feed() {
  if (feed_scheduled_) return;
  feed_scheduled_ = true;
  caf::anon_send(self_, feed_atom::value);
}

// One read step: up to a batch of feed records (read_feed). While it finds records another
// step follows as a message of its own, so answers and timers interleave with a long backlog.
// Caught up, the actor arms the feed listener: the next commit that adds events sends the
// next step (feed_signal.hpp's protocol, with the mailbox as the follower's wake-up). At
// events_in_flight_max it waits for release() to make room.
void dispatcher::on_feed() {
  feed_scheduled_ = false;
  if (feed_broken_) return;
  const auto before = read_upto_;
  const uint64_t seen = feed_.commits(); // before the read: a later commit sends a step
  read_feed();
  if (feed_broken_) return;
  if (read_upto_ != before) {
    schedule_feed(); // more may be waiting
    return;
  }
  if (holds_.size() >= cfg_.events_in_flight_max) {
    waiting_for_room_ = true;
    return;
  }
  feed_listener_->arm();
  if (feed_.commits() != seen) {
    feed_listener_->disarm();
    schedule_feed();
  }
}

} // namespace ordo::saga
