#pragma once
// An entity actor's append in flight, shared with the journal completion that ends it.
//
// Why: a command is answered when the append holding it commits, and the journal learns that
// on its writer thread. Sending the journal's answer to the actor and answering from there
// put a hop through the actor scheduler (waking a worker thread) into every request's path
// (docs/benchmarks.md, "The request path"). Instead the completion answers the staged
// commands itself, on the writer thread, and leaves the journal's answer here. The actor
// takes it when it next needs it: a command arrives, it is asked to passivate or to stop. A
// message (persisted_atom, token) wakes the actor only when it asked for one — commands
// queued behind the append wait for it — or when the append failed (the actor must rebuild
// its state or stop). So an order with one command at a time, the common case, costs the
// actor scheduler nothing after its append.
//
// Order: the completion publishes the answer (release) BEFORE it answers any caller, so a
// command sent after its answer finds the append done; the actor reads the answer (acquire)
// before it changes its state. The actor never touches `staged` or `timers` once the append
// is submitted; the completion never touches the actor's state.

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/journal_io.hpp"
#include "actors/runtime/models.hpp"
#include "ordo/outcome.hpp"
#include "actors/runtime/runtime_env.hpp"

namespace ordo {

// One command of the batch being persisted, with the answer it gets once the append commits.
struct staged_command {
  request_ptr r;
  outcome o;
  // The answer was decided on this batch's uncommitted state (accepted or rejected now): if
  // the append fails, the command gets the failure instead. Duplicates of stored answers and
  // refusals that read nothing of the batch keep their answer.
  bool decided = false;
};

class append_slot {
public:
  std::vector<staged_command> staged;    // answered by the completion
  std::unique_ptr<timer_changes> timers; // settled by the completion (null: none)
  std::string timers_key;                // the entity's storage key, with timers only

  /// Actor side: true once the journal's answer is in (then answer() holds it). While the
  /// append still runs, `wake` asks the completion to send (persisted_atom, token).
  bool ready(bool wake) {
    int s = state_.load(std::memory_order_acquire);
    if (s == running && wake &&
        state_.compare_exchange_strong(s, wake_wanted, std::memory_order_acq_rel))
      return false;
    return s == done;
  }
  const append_answer& answer() const { return answer_; }

  /// Completion side: publishes the answer; true if the actor must be sent a message.
  bool publish(append_answer a) {
    answer_ = std::move(a);
    const bool failed = !answer_.ok;
    return state_.exchange(done, std::memory_order_acq_rel) == wake_wanted || failed;
  }

private:
  enum : int { running, wake_wanted, done };
  std::atomic<int> state_{running};
  append_answer answer_;
};

using append_slot_ptr = std::shared_ptr<append_slot>;

// The batch's timer changes once its append is answered: committed, its cancels forget their
// deadlines (not those it scheduled again: the journal applies cancels first); failed, its
// schedules are forgotten.
inline void settle_timers(runtime_env& env, const std::string& key,
                          std::unique_ptr<timer_changes> t, bool committed) {
  if (!t) return;
  auto rescheduled = [&](const std::string& id) {
    return std::any_of(t->schedules.begin(), t->schedules.end(),
                       [&](const auto& s) { return s.timer_id == id; });
  };
  if (committed) {
    for (const auto& id : t->cancels)
      if (!rescheduled(id)) env.deadlines.cancelled(key, id);
  } else {
    for (const auto& s : t->schedules)
      env.deadlines.unscheduled(key, s.timer_id, s.due_ms);
  }
}

// Answers what waits in the staged list with its own answer, or `fail` for decided ones.
inline void answer_staged(std::vector<staged_command>& staged, const outcome* fail) {
  for (auto& sc : staged) {
    if (fail && sc.decided) {
      auto o = *fail;
      o.entity_id = sc.o.entity_id;
      sc.r->answer(std::move(o));
    } else {
      sc.r->answer(std::move(sc.o));
    }
  }
  staged.clear();
}

// The journal's answer to the append of `slot` (runs on the writer thread, or where
// runtime_env::deliver runs it): timers settled, feed followers woken, the answer published
// for the actor, the actor woken if it asked or the append failed, then every staged command
// answered.
inline void complete_append(append_slot& slot, append_answer a, runtime_env& env,
                            const caf::actor& actor, uint64_t token) {
  settle_timers(env, slot.timers_key, std::move(slot.timers), a.ok);
  std::optional<outcome> fail;
  if (!a.ok)
    fail = a.code == "overloaded" ? overloaded("the journal's queue")
                                  : failure(a.code, a.message, false);
  if (a.ok && a.last_seq >= a.first_seq) env.feed.committed(); // events entered the feed
  auto staged = std::move(slot.staged);
  if (slot.publish(std::move(a))) caf::anon_send(actor, persisted_atom::value, token);
  answer_staged(staged, fail ? &*fail : nullptr);
}

} // namespace ordo
