#include "actors/runtime/periodic_steps.hpp"

#include <mutex>

#include <caf/all.hpp>

namespace ordo {

struct periodic_steps::shared {
  std::chrono::milliseconds every{0};
  size_t steps_per_round = 1;
  std::mutex mu;        // held while a step runs, and by stop()
  bool stopped = false; // guarded by mu
  step_fn step;         // guarded by mu; dropped by stop()
};

namespace {

// (step, index in the round): index 0 starts a round.
using periodic_step_atom = caf::atom_constant<caf::atom("pstep")>;

caf::behavior periodic_actor(caf::event_based_actor* self,
                             std::shared_ptr<periodic_steps::shared> s) {
  self->delayed_send(self, s->every, periodic_step_atom::value, size_t{0});
  return {
      [=](periodic_step_atom, size_t index) {
        bool more = false;
        {
          std::lock_guard<std::mutex> g{s->mu};
          if (s->stopped) return self->quit();
          more = s->step();
        }
        if (more && index + 1 < s->steps_per_round)
          self->send(self, periodic_step_atom::value, index + 1); // the next step: a message
        else
          self->delayed_send(self, s->every, periodic_step_atom::value, size_t{0});
      },
  };
}

} // namespace

void periodic_steps::start(caf::actor_system& sys, std::chrono::milliseconds every,
                           size_t steps_per_round, step_fn step) {
  if (shared_) return;
  shared_ = std::make_shared<shared>();
  shared_->every = every;
  shared_->steps_per_round = steps_per_round == 0 ? 1 : steps_per_round;
  shared_->step = std::move(step);
  actor_ = sys.spawn(periodic_actor, shared_);
}

void periodic_steps::stop() {
  if (!shared_) return;
  {
    std::lock_guard<std::mutex> g{shared_->mu}; // waits for a step in progress
    if (shared_->stopped) return;
    shared_->stopped = true;
    shared_->step = nullptr; // what it captured is not touched again
  }
  caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
  actor_ = nullptr;
}

} // namespace ordo
