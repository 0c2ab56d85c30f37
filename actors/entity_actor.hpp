#pragma once
// The entity actor: one live activation of one order (or SKU), a thin shell around the pure
// domain. It handles one command at a time in arrival order: look up the idempotency key,
// decide, persist events + idempotency record (+ snapshot) in one journal append, and only
// then evolve its state and answer. Commands that arrive meanwhile wait in a bounded queue.
//
// Lifecycle: activated by its shard on the first command (state rebuilt from snapshot +
// events), passivated after `passivate_after` idle (a handshake with the shard guarantees
// no command is in flight to it), and supervised by the shard: an exception in decide or
// evolve hands the unanswered commands back to the shard, which restarts the activation from
// the journal or, after repeated crashes on one command, quarantines the entity.

#include <string>
#include <vector>

#include <caf/all.hpp>
#include <fmt/core.h>

#include "actors/atoms.hpp"
#include "actors/entity_load.hpp"
#include "actors/journal_io.hpp"
#include "actors/models.hpp"
#include "actors/runtime_env.hpp"
#include "domain/envelope.hpp"
#include "domain/idempotency.hpp"

namespace ordo {

template <class Model>
struct entity_state {
  runtime_env* env = nullptr;
  caf::actor shard;
  std::string id;
  std::string key;
  std::optional<load_failure> broken; // set when the entity could not be loaded
  typename Model::state state;
  uint64_t last_seq = 0;
  // Usually empty or tiny; a vector because an empty std::deque already allocates ~600
  // bytes, which would be paid by every idle active order.
  std::vector<request_ptr> pending;
  // The command being persisted, with what it will become once the journal confirms.
  request_ptr inflight;
  // True while the in-flight command's events are already applied to `state` but not yet
  // committed: evolving in place saves copying the whole state per command; if the journal
  // refuses the append, the state is rebuilt from the journal.
  bool speculative = false;
  outcome next_outcome;
  uint64_t token = 0;
  uint64_t received = 0; // commands received from the shard (the passivation handshake)
  uint64_t activity = 0;
  bool idle_armed = false;
  bool passivating = false;
  bool stopping = false; // asked to stop: finish the command in flight, refuse the rest
  static inline const char* name = "ordo.entity";
};

template <class Model>
using entity_self = caf::stateful_actor<entity_state<Model>>;

namespace detail {

template <class Model>
void arm_idle(entity_self<Model>* self) {
  auto& st = self->state;
  if (st.idle_armed || st.passivating) return;
  st.idle_armed = true;
  self->delayed_send(self, st.env->limits.passivate_after, idle_atom::value, st.activity);
}

inline outcome from_record(const v1::IdempotencyRecord& rec) {
  outcome o;
  o.duplicate = true;
  if (rec.has_rejection()) {
    o.status = outcome_status::rejected;
    o.code = v1::RejectionCode_Name(rec.rejection().code());
    o.message = rec.rejection().message();
  } else {
    o.status = outcome_status::accepted;
    o.first_seq = rec.accepted().first_sequence();
    o.last_seq = o.first_seq == 0 ? 0 : o.first_seq + rec.accepted().event_count() - 1;
  }
  return o;
}

// Hands every unanswered request back to the shard and stops: the supervisor decides.
template <class Model>
void crash(entity_self<Model>* self, request_ptr current, const std::string& what) {
  auto& st = self->state;
  auto list = std::make_shared<request_list>();
  if (current) list->push_back(std::move(current));
  for (auto& r : st.pending)
    list->push_back(std::move(r));
  st.pending.clear();
  st.env->counters.crashes++;
  self->send(st.shard, crashed_atom::value, st.id, list, what);
  self->quit(caf::sec::runtime_error);
}

template <class Model>
v1::Envelope make_event_envelope(const entity_state<Model>& st, const request& r,
                                 const typename Model::event& ev, uint64_t seq, int64_t now_ms) {
  v1::Envelope e;
  e.set_schema_version(domain::schema_version_current);
  e.set_entity_type(Model::entity_type);
  e.set_entity_id(st.id);
  e.set_sequence(seq);
  e.set_timestamp_ms(now_ms);
  const auto& cmd = r.command();
  e.set_correlation_id(cmd.correlation_id().empty() ? st.id : cmd.correlation_id());
  e.set_causation_id(cmd.causation_id().empty() ? cmd.idempotency_key() : cmd.causation_id());
  e.set_idempotency_key(cmd.idempotency_key());
  Model::wrap(e, ev);
  return e;
}

// Handles one command; returns true if it is now waiting for the journal.
template <class Model>
bool handle(entity_self<Model>* self, request_ptr r) {
  auto& st = self->state;
  auto* env = st.env;
  if (st.broken) {
    r->answer(failure(st.broken->code, st.broken->message));
    return false;
  }
  const auto& key = r->idempotency_key();
  std::optional<v1::IdempotencyRecord> known;
  if (!key.empty()) {
    auto found = env->journal->find_idempotency(st.key, key);
    if (!found) {
      r->answer(failure(code_of(found.error()), describe(found.error())));
      return false;
    }
    if (*found) {
      v1::IdempotencyRecord rec;
      if (!rec.ParseFromString(**found)) {
        r->answer(failure("corrupted", fmt::format("{} {}: idempotency record for key '{}' does "
                                                   "not parse",
                                                   Model::kind, st.id, key)));
        return false;
      }
      known = std::move(rec);
    }
  }
  if (!Model::has_command(r->command())) {
    r->answer(failure("malformed_command", fmt::format("envelope for {} {} carries no {} command",
                                                       Model::kind, st.id, Model::kind)));
    return false;
  }
  int64_t now = env->now_ms();
  domain::idempotent_decision<typename Model::event> d;
  try {
    if (env->before_decide) env->before_decide(st.id, r->command().SerializeAsString());
    d = domain::decide_once(st.state, Model::command_of(r->command()), key, now,
                            [&](std::string_view) { return known; });
    // Nobody sees this state before the commit: the actor handles one command at a time and
    // reads go to the journal. A throw here stops the actor; its successor reloads.
    for (const auto& ev : d.result.events)
      st.state = Model::evolve(std::move(st.state), ev);
    st.speculative = !d.result.events.empty();
  } catch (const std::exception& e) {
    crash(self, std::move(r), e.what());
    return true; // the actor is stopping
  }
  if (d.duplicate) {
    auto o = from_record(d.record);
    if (o.ok() && o.first_seq != 0) {
      auto err =
          env->journal->read_events(st.key, o.first_seq, [&](uint64_t seq, std::string_view bytes) {
            if (seq > o.last_seq) return false;
            v1::Envelope e;
            if (e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
              o.events.push_back(std::move(e));
            return true;
          });
      if (err) o = failure(code_of(err), describe(err));
    }
    o.entity_id = st.id;
    r->answer(std::move(o));
    return false;
  }
  outcome o;
  o.entity_id = st.id;
  if (d.result.rejection) {
    o.status = outcome_status::rejected;
    o.code = v1::RejectionCode_Name(d.result.rejection->code());
    o.message = d.result.rejection->message();
    o.last_seq = st.last_seq;
    if (key.empty()) { // nothing to remember: answer now
      r->answer(std::move(o));
      return false;
    }
  } else {
    o.status = outcome_status::accepted;
    if (!d.result.events.empty()) {
      o.first_seq = st.last_seq + 1;
      o.last_seq = st.last_seq + d.result.events.size();
    } else {
      o.last_seq = st.last_seq;
    }
  }
  storage::append_request req;
  req.entity = st.key;
  req.expected_seq = st.last_seq;
  req.now_ms = static_cast<uint64_t>(now);
  uint64_t seq = st.last_seq;
  timer_changes timers;
  for (const auto& ev : d.result.events) {
    o.events.push_back(make_event_envelope(st, *r, ev, ++seq, now));
    req.events.push_back(o.events.back().SerializeAsString());
    Model::timers(ev, now, env->timers, timers);
  }
  req.timer_schedules = std::move(timers.schedules);
  req.timer_cancels = std::move(timers.cancels);
  if (!key.empty()) req.idempotency.push_back({"", key, d.record.SerializeAsString()});
  if (!req.events.empty())
    if (auto extra = Model::extra_idempotency(r->command())) req.idempotency.push_back(*extra);
  if (req.events.empty() && req.idempotency.empty()) { // accepted, nothing to write
    r->answer(std::move(o));
    return false;
  }
  auto every = env->limits.snapshot_every_events;
  if (every > 0 && seq / every > st.last_seq / every)
    req.snapshot = storage::snapshot_write{seq, st.state.SerializeAsString()};
  st.inflight = std::move(r);
  st.next_outcome = std::move(o);
  persist(*env->journal, std::move(req), caf::actor_cast<caf::actor>(self), ++st.token,
          env->deliver);
  return true;
}

template <class Model>
void pump(entity_self<Model>* self) {
  auto& st = self->state;
  while (!st.inflight && !st.pending.empty() && !st.passivating) {
    auto r = std::move(st.pending.front());
    st.pending.erase(st.pending.begin());
    if (handle(self, std::move(r)) && !st.inflight) return; // crashed: stopping
  }
  if (!st.inflight && st.pending.empty()) arm_idle(self);
}

} // namespace detail

template <class Model>
caf::behavior entity_actor(entity_self<Model>* self, runtime_env* env, caf::actor shard,
                           std::string id) {
  auto& st = self->state;
  st.env = env;
  st.shard = std::move(shard);
  st.id = std::move(id);
  st.key = storage_key<Model>(st.id);
  auto loaded = load_entity<Model>(*env->journal, st.id);
  if (auto* ok = std::get_if<loaded_entity<Model>>(&loaded)) {
    st.state = std::move(ok->state);
    st.last_seq = ok->last_seq;
  } else {
    st.broken = std::get<load_failure>(loaded);
  }
  env->counters.activations++;
  env->counters.active++;
  self->attach_functor([env] { env->counters.active--; });
  // A stop (shard stopping, runtime shutting down) never abandons a commit in flight: the
  // actor answers what waits in its queue with a retryable error and quits once the journal
  // has answered the command it is persisting.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto& s = self->state;
    s.stopping = true;
    for (auto& p : s.pending)
      p->answer(failure("shard_stopped",
                        fmt::format("{} {} is stopping on this node; retry", Model::kind, s.id)));
    s.pending.clear();
    if (!s.inflight) self->quit(msg.reason);
  });
  return {
      [=](command_atom, request_ptr& r) {
        auto& s = self->state;
        ++s.received;
        ++s.activity;
        if (s.stopping) {
          r->answer(failure("shard_stopped", fmt::format("{} {} is stopping on this node; retry",
                                                         Model::kind, s.id)));
          return;
        }
        if (s.pending.size() >= s.env->limits.pending_per_entity_max) {
          r->answer(overloaded(fmt::format("the queue of {} {}", Model::kind, s.id)));
          return;
        }
        s.pending.push_back(std::move(r));
        detail::pump(self);
      },
      [=](persisted_atom, uint64_t token, append_answer_ptr& a) {
        auto& s = self->state;
        if (!s.inflight || token != s.token) return; // not ours (cannot happen; be safe)
        auto r = std::move(s.inflight);
        s.inflight.reset();
        ++s.activity;
        bool was_speculative = std::exchange(s.speculative, false);
        if (a->ok) {
          s.last_seq = s.next_outcome.last_seq > s.last_seq ? s.next_outcome.last_seq : s.last_seq;
          r->answer(std::move(s.next_outcome));
          if (s.stopping) {
            self->quit();
            return;
          }
        } else {
          // Not committed. A fenced append means another writer owns the entity now; this
          // activation must not serve it any more. Otherwise undo the speculative events by
          // rebuilding the state from the journal.
          if (a->code == "overloaded") {
            auto o = overloaded("the journal's queue");
            o.entity_id = s.id;
            r->answer(std::move(o));
          } else {
            r->answer(failure(a->code, a->message, false));
          }
          if (was_speculative && !(a->fenced || a->fatal || s.stopping)) {
            auto loaded = load_entity<Model>(*s.env->journal, s.id);
            if (auto* ok = std::get_if<loaded_entity<Model>>(&loaded)) {
              s.state = std::move(ok->state);
              s.last_seq = ok->last_seq;
            } else {
              s.broken = std::get<load_failure>(loaded);
            }
          }
          if (a->fenced || a->fatal || s.stopping) {
            for (auto& p : s.pending)
              p->answer(failure(a->fenced ? "fenced" : a->code,
                                fmt::format("{} {}: {}", Model::kind, s.id, a->message)));
            s.pending.clear();
            self->quit();
            return;
          }
        }
        detail::pump(self);
      },
      [=](idle_atom, uint64_t activity) {
        auto& s = self->state;
        s.idle_armed = false;
        if (activity != s.activity || s.inflight || !s.pending.empty()) {
          detail::arm_idle(self);
          return;
        }
        s.passivating = true;
        self->send(s.shard, passivate_atom::value, s.id, s.received);
      },
      [=](passivate_atom, bool granted) {
        auto& s = self->state;
        if (granted) {
          s.env->counters.passivations++;
          self->quit();
          return;
        }
        s.passivating = false; // a command is on its way to us
        detail::pump(self);
      },
  };
}

} // namespace ordo
