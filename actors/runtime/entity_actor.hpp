#pragma once
// The entity actor: one live activation of one order (or SKU), a thin shell around the pure
// domain. It handles commands in arrival order: per command, look up the idempotency key,
// decide and evolve; the events + idempotency records (+ snapshot) of the commands taken
// together (those that queued while the previous append was committing, up to a bound) go
// into ONE journal append, and only after its commit are they answered — by the append's
// completion, on the journal's writer thread (append_slot.hpp). Commands that arrive
// meanwhile wait in a bounded queue.
//
// Lifecycle: activated by its shard on the first command (state rebuilt from snapshot +
// events), passivated when its shard asks (no command forwarded for `passivate_after`, or
// the shard holds too many live actors) and it is idle — a handshake with the shard
// guarantees no command is in flight to it. The actor keeps no timer of its own: one per
// shard sweeps its activations, which saves a timer message and the clock thread's work per
// activation. It is supervised by the shard: an exception in decide or evolve hands the
// unanswered commands back to the shard, which restarts the activation from the journal or,
// after repeated crashes on one command, quarantines the entity.

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <fmt/core.h>

#include "actors/runtime/append_slot.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/entity_load.hpp"
#include "actors/runtime/journal_io.hpp"
#include "actors/runtime/models.hpp"
#include "actors/runtime/runtime_env.hpp"
#include "domain/envelope.hpp"
#include "domain/idempotency.hpp"
#include "domain/snapshot.hpp"
#include "domain/upcast.hpp"

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
  // The append in flight (null: none): up to limits.entity_batch_max queued commands decided
  // one after the other and written in ONE append; its completion answers them when it
  // commits and leaves the journal's answer in the slot (append_slot.hpp), taken by idle().
  // Its timer changes are applied to env->deadlines: schedules before the append is
  // submitted, cancels once it commits.
  append_slot_ptr inflight;
  // True while the batch's events are already applied to `state` but not yet committed:
  // evolving in place saves copying the whole state per command; if the journal refuses the
  // append, the state is rebuilt from the journal.
  bool speculative = false;
  uint64_t token = 0;
  uint64_t received = 0; // commands received from the shard (the passivation handshake)
  bool passivating = false;
  bool stopping = false; // asked to stop: finish the batch in flight, refuse the rest
  static inline const char* name = "ordo.entity";
};

template <class Model>
using entity_self = caf::stateful_actor<entity_state<Model>>;

namespace detail {

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

// (Re)builds the state from the journal: snapshot + later events; a failure marks the
// activation broken (every command then gets the load error).
template <class Model>
void reload(entity_state<Model>& st) {
  auto loaded = load_entity<Model>(*st.env->journal, st.id);
  if (auto* ok = std::get_if<loaded_entity<Model>>(&loaded)) {
    st.state = std::move(ok->state);
    st.last_seq = ok->last_seq;
  } else {
    st.broken = std::get<load_failure>(loaded);
  }
}

// The stored answer to a retried key, with the events it committed back then.
template <class Model>
outcome stored_answer(entity_state<Model>& st, const v1::IdempotencyRecord& record) {
  auto o = from_record(record);
  if (o.ok() && o.first_seq != 0) {
    auto err = st.env->journal->read_events(
        st.key, o.first_seq, [&](uint64_t seq, std::string_view bytes) {
          if (seq > o.last_seq) return false;
          v1::Envelope e;
          if (e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            if (e.has_order_event()) domain::upcast(*e.mutable_order_event()); // current shape
            o.events.push_back(std::move(e));
          }
          return true;
        });
    // Events removed by feed retention since: the stored answer stands, without them.
    if (err && code_of(err) == "truncated")
      o.events.clear();
    else if (err)
      o = failure(code_of(err), describe(err));
  }
  o.entity_id = st.id;
  return o;
}

// Timer changes of a batch, netted in command order: a schedule then a cancel of one id in
// the same batch is a cancel, a cancel then a schedule is a schedule (the journal applies a
// request's cancels before its schedules).
inline void net_timers(timer_changes& into, timer_changes&& next) {
  auto drop_schedule = [&](const std::string& id) {
    auto& sc = into.schedules;
    sc.erase(std::remove_if(sc.begin(), sc.end(), [&](const auto& x) { return x.timer_id == id; }),
             sc.end());
  };
  for (auto& id : next.cancels) {
    drop_schedule(id);
    if (std::find(into.cancels.begin(), into.cancels.end(), id) == into.cancels.end())
      into.cancels.push_back(std::move(id));
  }
  for (auto& s : next.schedules) {
    drop_schedule(s.timer_id);
    into.schedules.push_back(std::move(s));
  }
}

// What a batch builds before its one append: the request, the timer changes netted in
// command order, each command's staged answer and the idempotency keys it writes.
struct batch_build {
  storage::append_request req;
  timer_changes timers;
  std::vector<staged_command> staged;
  std::vector<std::string_view> keys; // idempotency keys written by this batch
  uint64_t seq = 0;                   // the last sequence decided so far
  size_t bytes = 0;                   // event bytes so far
};

// The stored record of a retried key into `known` (none for a new key). False, with the
// command's answer set, when the record cannot be read.
template <class Model>
bool find_known_record(entity_state<Model>& st, const std::string& key, staged_command& sc,
                       std::optional<v1::IdempotencyRecord>& known) {
  if (key.empty()) return true;
  auto found = st.env->journal->find_idempotency(st.key, key);
  if (!found) {
    sc.o = failure(code_of(found.error()), describe(found.error()));
    return false;
  }
  if (*found) {
    v1::IdempotencyRecord rec;
    if (!rec.ParseFromString(**found)) {
      sc.o = failure("corrupted", fmt::format("{} {}: idempotency record for key '{}' does "
                                              "not parse",
                                              Model::kind, st.id, key));
      return false;
    }
    domain::upcast(rec, key); // stored without its key (the storage key is the key)
    known = std::move(rec);
  }
  return true;
}

// Decides one command on the batch's state and evolves that state in place. Nobody sees this
// state before the commit: the actor handles one batch at a time and reads go to the journal.
// Returns what a throwing decide or evolve said (the caller then stops or splits the batch).
template <class Model>
std::optional<std::string> decide_in_place(entity_state<Model>& st, const request& r,
                                           const std::string& key, int64_t now,
                                           std::optional<v1::IdempotencyRecord>& known,
                                           domain::idempotent_decision<typename Model::event>& d) {
  try {
    if (st.env->before_decide) st.env->before_decide(st.id, r.command().SerializeAsString());
    d = domain::decide_once(st.state, Model::command_of(r.command()), key, now,
                            [&](std::string_view) { return known; });
    for (const auto& ev : d.result.events)
      st.state = Model::evolve(std::move(st.state), ev);
  } catch (const std::exception& e) {
    return std::string{e.what()};
  }
  return std::nullopt;
}

// A new decision's answer, its events (sequences, envelopes, timers) and its idempotency
// records, added to the batch.
template <class Model>
void stage_decision(entity_state<Model>& st, staged_command& sc, const std::string& key,
                    domain::idempotent_decision<typename Model::event>& d, int64_t now,
                    batch_build& b) {
  const request& r = *sc.r;
  sc.decided = true;
  sc.o.entity_id = st.id;
  if (d.result.rejection) {
    sc.o.status = outcome_status::rejected;
    sc.o.code = v1::RejectionCode_Name(d.result.rejection->code());
    sc.o.message = d.result.rejection->message();
    // No sequences: a retry of the key answers from its stored record, which has none.
  } else {
    sc.o.status = outcome_status::accepted;
    sc.o.first_seq = d.result.events.empty() ? 0 : b.seq + 1;
    sc.o.last_seq = b.seq + d.result.events.size();
  }
  for (const auto& ev : d.result.events) {
    sc.o.events.push_back(make_event_envelope(st, r, ev, ++b.seq, now));
    b.req.events.push_back(sc.o.events.back().SerializeAsString());
    b.bytes += b.req.events.back().size();
    timer_changes t;
    Model::timers(ev, now, st.env->timers, t);
    net_timers(b.timers, std::move(t));
  }
  if (!key.empty()) {
    // The key is the storage key of the record already: not stored twice (~35 bytes of
    // ~150 for a saga command's record). Records written before kept it; both read alike.
    d.record.clear_key();
    b.req.idempotency.push_back({"", key, d.record.SerializeAsString()});
    b.keys.push_back(key);
  }
  if (!d.result.events.empty())
    if (auto extra = Model::extra_idempotency(r.command())) b.req.idempotency.push_back(*extra);
}

// Hands the batch to the journal as one append; its completion answers the commands.
template <class Model>
void append_batch(entity_self<Model>* self, batch_build& b, int64_t now) {
  auto& st = self->state;
  auto* env = st.env;
  auto slot = std::make_shared<append_slot>();
  if (!b.timers.schedules.empty() || !b.timers.cancels.empty()) {
    // Registered before the append is submitted, so no committed timer is ever unknown to
    // the saga's steady-clock firing (timer_deadlines.hpp); undone if the append fails.
    const auto steady_now = self->clock().now(); // the actor system's (virtual in a simulation)
    for (const auto& s : b.timers.schedules)
      env->deadlines.scheduled(st.key, s.timer_id, s.due_ms,
                               steady_now +
                                   std::chrono::milliseconds{static_cast<int64_t>(s.due_ms) - now});
    slot->timers = std::make_unique<timer_changes>(b.timers);
    slot->timers_key = st.key;
  }
  b.req.timer_schedules = std::move(b.timers.schedules);
  b.req.timer_cancels = std::move(b.timers.cancels);
  auto every = env->limits.snapshot_every_events;
  if (every > 0 && b.seq / every > st.last_seq / every)
    b.req.snapshot = storage::snapshot_write{b.seq, domain::encode_snapshot(st.state)};
  slot->staged = std::move(b.staged);
  st.inflight = slot;
  persist(*env->journal, std::move(b.req),
          [slot, env, actor = caf::actor_cast<caf::actor>(self),
           token = ++st.token](append_answer a) {
            complete_append(*slot, std::move(a), *env, actor, token);
          },
          env->deliver);
}

// Decides up to `limit` queued commands in arrival order, each on the state the previous ones
// left (evolved in place), and hands their writes to the journal as ONE append: one commit
// and one journal answer for the lot, so a hot order or SKU is not limited to one command per
// commit. Returns true if an append is in flight or the actor is stopping (crashed).
template <class Model>
bool run_batch(entity_self<Model>* self, size_t limit) {
  auto& st = self->state;
  auto* env = st.env;
  limit = std::max<size_t>(limit, 1); // a host's 0 must not stall the queue
  if (st.broken) {
    auto r = std::move(st.pending.front());
    st.pending.erase(st.pending.begin());
    r->answer(failure(st.broken->code, st.broken->message));
    return false;
  }
  const int64_t now = env->now_ms();
  batch_build b;
  b.req.entity = st.key;
  b.req.expected_seq = st.last_seq;
  b.req.now_ms = static_cast<uint64_t>(now);
  b.seq = st.last_seq;
  size_t n = 0;
  for (; n < st.pending.size() && n < limit; ++n) {
    auto& r = st.pending[n];
    const auto& key = r->idempotency_key();
    // A key's second use waits for its first to commit; a big batch stops growing.
    if (!key.empty() && std::find(b.keys.begin(), b.keys.end(), key) != b.keys.end()) break;
    if (n > 0 && b.bytes >= env->limits.entity_batch_max_bytes) break;
    staged_command sc;
    sc.r = r;
    std::optional<v1::IdempotencyRecord> known;
    if (!find_known_record(st, key, sc, known)) {
      b.staged.push_back(std::move(sc));
      continue;
    }
    if (!Model::has_command(r->command())) {
      sc.o = failure("malformed_command", fmt::format("envelope for {} {} carries no {} command",
                                                      Model::kind, st.id, Model::kind));
      b.staged.push_back(std::move(sc));
      continue;
    }
    domain::idempotent_decision<typename Model::event> d;
    if (auto thrown = decide_in_place(st, *r, key, now, known, d)) {
      if (n == 0) {
        st.pending.erase(st.pending.begin());
        crash(self, std::move(sc.r), *thrown);
        return true; // the actor is stopping
      }
      // Persist the commands before it first (decided again on the committed state: decide
      // is pure); the throwing one then runs alone and meets supervision as usual.
      reload(st);
      return run_batch(self, n);
    }
    if (d.duplicate)
      sc.o = stored_answer(st, d.record);
    else
      stage_decision(st, sc, key, d, now, b);
    b.staged.push_back(std::move(sc));
  }
  st.pending.erase(st.pending.begin(), st.pending.begin() + static_cast<ptrdiff_t>(n));
  st.speculative = !b.req.events.empty();
  if (b.req.events.empty() && b.req.idempotency.empty()) { // nothing to write: answer now
    answer_staged(b.staged, nullptr);
    return false;
  }
  append_batch(self, b, now);
  return true;
}

// True when no append is in flight and the actor still runs: takes the journal's answer to
// the append in flight if it is in (its commands were answered by the completion already).
// While the append runs, `wake` asks its completion to send persisted_atom. A failed append
// rebuilds the state from the journal; a fenced or fatal one (or one that ends a stop) ends
// the actor.
template <class Model>
bool idle(entity_self<Model>* self, bool wake) {
  auto& st = self->state;
  if (!st.inflight) return true;
  if (!st.inflight->ready(wake)) return false;
  auto slot = std::move(st.inflight);
  const auto& a = slot->answer();
  const bool was_speculative = std::exchange(st.speculative, false);
  if (a.ok) {
    if (a.last_seq > st.last_seq) st.last_seq = a.last_seq;
    if (!st.stopping) return true;
    self->quit();
    return false;
  }
  // Not committed. A fenced append means another writer owns the entity now; this activation
  // must not serve it any more. Otherwise undo the speculative events by rebuilding the
  // state from the journal.
  if (!(a.fenced || a.fatal || st.stopping)) {
    if (was_speculative) reload(st);
    return true;
  }
  for (auto& p : st.pending)
    p->answer(failure(a.fenced ? "fenced" : a.code,
                      fmt::format("{} {}: {}", Model::kind, st.id, a.message)));
  st.pending.clear();
  self->quit();
  return false;
}

// Decides what waits in the queue, one append at a time. While an append runs and commands
// wait, its completion is asked to wake the actor (idle(self, true)).
template <class Model>
void pump(entity_self<Model>* self) {
  auto& st = self->state;
  while (!st.pending.empty() && !st.passivating) {
    if (!idle(self, true)) return;
    if (run_batch(self, st.env->limits.entity_batch_max) && !st.inflight)
      return; // crashed: stopping
  }
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
  detail::reload(st);
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
    if (detail::idle(self, true)) self->quit(msg.reason);
  });
  return {
      [=](command_atom, request_ptr& r) {
        auto& s = self->state;
        ++s.received;
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
      // The append in flight ended and this actor asked to hear it (commands wait behind
      // it), or it failed. Its commands were answered already (append_slot.hpp).
      [=](persisted_atom, uint64_t token) {
        auto& s = self->state;
        if (!s.inflight || token != s.token) return; // taken already by idle()
        if (detail::idle(self, false)) detail::pump(self);
      },
      // The shard asks: no command forwarded for passivate_after, or the shard holds more
      // than its share of live actors and this one is among the least recently used.
      // Passivate now if idle (the handshake), else ignore: the shard asks again later.
      [=](evict_atom) {
        auto& s = self->state;
        if (!detail::idle(self, false) || !s.pending.empty() || s.passivating || s.stopping)
          return;
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
        if (detail::idle(self, false)) detail::pump(self);
      },
  };
}

} // namespace ordo
