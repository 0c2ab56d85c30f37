#pragma once
// Periodic background work as an actor on the runtime's own actor system: the shape of both
// retentions (idempotency, feed). Every `every` a round starts; a round is a sequence of
// bounded steps (one batch, one write transaction each), ONE step per message: while a step
// reports more work, the actor sends itself the next step at once (up to steps_per_round),
// then schedules the next round with a delayed message. No thread of its own and no
// sleeping, so a deterministic run on CAF's test_coordinator drives it: the timer fires a
// round (trigger_timeout), each run_once is one step.
//
// Threading: a step runs on a scheduler worker, under a mutex that stop() takes too. stop()
// returns once no step is running and none will start (a step in progress finishes first);
// it then sends the actor an exit, handled after the message in hand. Stop it before the
// actor system waits for its actors (a live actor with a pending delayed message keeps
// await_all_actors_done, and the test_coordinator's shutdown, from returning) and before
// anything the step uses goes away. With CAF's default scheduler.max-throughput (unlimited)
// a worker handles an actor's queued messages back to back, so one round's steps may run in
// one go on one worker while the other workers take the other actors' jobs.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace ordo {

class periodic_steps {
public:
  /// One bounded step of the current round; true when the round has more work left.
  using step_fn = std::function<bool()>;

  periodic_steps() = default;
  ~periodic_steps() { stop(); }
  periodic_steps(const periodic_steps&) = delete;
  periodic_steps& operator=(const periodic_steps&) = delete;

  /// Spawns the actor on `sys` (once; a second call does nothing). Its first round starts
  /// when `every` has passed; a round is at most steps_per_round steps.
  void start(caf::actor_system& sys, std::chrono::milliseconds every, size_t steps_per_round,
             step_fn step);
  /// After it returns no step runs (one in progress has finished). Idempotent.
  void stop();

  struct shared; // what the actor and this handle share (the step, the stop flag, its mutex)

private:
  std::shared_ptr<shared> shared_;
  caf::actor actor_;
};

} // namespace ordo
