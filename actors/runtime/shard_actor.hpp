#pragma once
// A shard actor owns the activations of the entities of one virtual shard: it activates an
// entity actor on its first command, forwards commands to it, grants passivation only when
// no command is in flight to it, and supervises it (restart from the journal, quarantine
// after repeated crashes on one command). It also decides when activations passivate: a
// sweep every passivate_after / 4 asks those no command was forwarded to for more than four
// sweeps (so idle between passivate_after and 1.25 x passivate_after) — one timer per shard
// instead of one per live actor.
//
// The shard is the unit the cluster places on nodes and moves between them: `stop` makes it
// refuse new commands (answered `shard_stopped`, so the caller retries at the new owner),
// lets its activations finish what they hold, and quits. Two owners never both commit for one
// entity: every append carries the expected sequence, and the journal rejects a stale one.

#include <list>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>
#include <fmt/core.h>

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/entity_actor.hpp"
#include "actors/runtime/placement.hpp"
#include "domain/order_id.hpp"

namespace ordo {

struct activation {
  caf::actor actor;
  uint64_t forwarded = 0; // commands sent to this activation (passivation handshake)
  std::list<const std::string*>::iterator lru; // its place in shard_state::lru
  uint64_t last_sweep = 0;  // shard_state::sweeps when last forwarded to (or asked)
  bool evict_asked = false; // asked to passivate; cleared by its next command
};

// An activation is asked to passivate after more than this many sweeps without a command.
constexpr uint64_t idle_sweeps = 4;
// At most this many activations are asked per sweep (the rest on the next one).
constexpr size_t sweep_asks_max = 4'096;

struct shard_state {
  runtime_env* env = nullptr;
  uint32_t shard = 0;
  bool stopping = false;
  std::unordered_map<std::string, activation> live;
  // Ids of `live` (keys of its nodes, stable), least recently forwarded to (or asked) first,
  // so in increasing last_sweep.
  std::list<const std::string*> lru;
  // Actor id of each live activation -> its key in `live` (for down messages).
  std::unordered_map<caf::actor_id, const std::string*> by_actor;
  uint64_t sweeps = 0; // idle sweeps run so far
  std::unordered_set<std::string> quarantined;
  std::unique_ptr<recent_placements> placements; // orders only
  static inline const char* name = "ordo.shard";
};

using shard_self = caf::stateful_actor<shard_state>;

// The shard's share of limits.active_max (0: unbounded).
inline size_t active_share(const shard_state& st) {
  auto max = st.env->limits.active_max;
  if (max == 0) return 0;
  auto shards = std::max<size_t>(1, st.env->shard_count);
  return std::max<size_t>(1, max / shards);
}

inline void forget(shard_state& st, std::unordered_map<std::string, activation>::iterator it) {
  st.lru.erase(it->second.lru);
  st.by_actor.erase(it->second.actor->id());
  st.live.erase(it);
}

// The time between idle sweeps: a quarter of passivate_after (at least 1 ms).
inline std::chrono::milliseconds sweep_period(const runtime_env& env) {
  return std::max(std::chrono::milliseconds{1},
                  env.limits.passivate_after / static_cast<int64_t>(idle_sweeps));
}

// Moves an activation to the back of the LRU list, stamped with the current sweep (forwarded
// to, or asked to passivate, now): the list stays in last_sweep order.
inline void touch(shard_state& st, activation& act) {
  act.last_sweep = st.sweeps;
  st.lru.splice(st.lru.end(), st.lru, act.lru);
}

// Asks the least recently used activation to passivate now (an idle one runs the usual
// handshake; a busy one ignores it) and moves it to the back: asked again after another
// idle period if it is still live then.
inline void ask_front(shard_self* self) {
  auto& st = self->state;
  auto& act = st.live.at(*st.lru.front());
  touch(st, act);
  act.evict_asked = true;
  self->send(act.actor, evict_atom::value);
}

// Over its share, the shard asks its least recently used activations to passivate now, a
// few per new activation.
inline void evict_some(shard_self* self) {
  auto& st = self->state;
  size_t asked = 0;
  for (size_t seen = 0; asked < 4 && seen < 16 && seen < st.lru.size(); ++seen) {
    auto& front = st.live.at(*st.lru.front());
    if (front.evict_asked) { // asked already: to the back, as if asked now
      touch(st, front);
      continue;
    }
    ask_front(self);
    ++asked;
  }
}

// The idle sweep: asks every activation no command reached for more than idle_sweeps
// sweeps (bounded per sweep), then schedules the next sweep.
inline void sweep_idle(shard_self* self) {
  auto& st = self->state;
  ++st.sweeps;
  for (size_t asked = 0; asked < sweep_asks_max && !st.lru.empty(); ++asked) {
    if (st.sweeps - st.live.at(*st.lru.front()).last_sweep <= idle_sweeps) break;
    ask_front(self);
  }
  self->delayed_send(self, sweep_period(*st.env), sweep_atom::value);
}

// The live activation of `id`, started if needed; nullptr when the shard holds twice its
// share of live actors (the caller answers overloaded).
template <class Model>
activation* activate(shard_self* self, const std::string& id) {
  auto& st = self->state;
  auto it = st.live.find(id);
  if (it != st.live.end()) return &it->second;
  if (auto share = active_share(st); share > 0 && st.live.size() >= share) {
    evict_some(self);
    if (st.live.size() >= 2 * share) return nullptr;
  }
  auto a = self->spawn<caf::monitored>(entity_actor<Model>, st.env,
                                       caf::actor_cast<caf::actor>(self), id);
  auto& entry = *st.live.emplace(id, activation{a, 0, {}, st.sweeps, false}).first;
  entry.second.lru = st.lru.insert(st.lru.end(), &entry.first);
  st.by_actor.emplace(a->id(), &entry.first);
  return &entry.second;
}

// Gives a new order its id: the first attempt's id for a retried key, else a fresh one that
// carries this shard. Returns false if the request was answered (storage error).
inline bool assign_order_id(shard_self* self, request& r) {
  auto& st = self->state;
  auto& cmd = r.mutable_command();
  const std::string& key = cmd.idempotency_key();
  std::string id;
  if (!key.empty()) {
    if (auto known = st.placements->find(key)) {
      id = *known;
    } else {
      auto found = st.env->journal->find_idempotency(placement_entity, key);
      if (!found) {
        r.answer(failure(code_of(found.error()), describe(found.error())));
        return false;
      }
      if (*found) id = **found;
    }
  }
  if (id.empty())
    id = st.env->ids->next(static_cast<uint16_t>(st.shard), static_cast<uint64_t>(st.env->now_ms()))
             .to_string();
  if (!key.empty()) st.placements->remember(key, id);
  cmd.set_entity_id(id);
  cmd.mutable_order_command()->set_order_id(id);
  return true;
}

template <class Model>
void forward(shard_self* self, request_ptr r) {
  auto& st = self->state;
  auto* act = activate<Model>(self, r->entity_id());
  if (act == nullptr) {
    r->answer(overloaded(fmt::format("live {} actors of shard {} ({}, twice its share of "
                                     "limits.active_max)",
                                     Model::kind, st.shard, st.live.size())));
    return;
  }
  ++act->forwarded;
  act->evict_asked = false;
  touch(st, *act);
  self->send(act->actor, command_atom::value, std::move(r));
}

// A command for an entity of this shard: refused while stopping or for a quarantined entity,
// given an order id if it places an order without one, then forwarded to its activation.
template <class Model>
void on_command(shard_self* self, request_ptr& r) {
  auto& st = self->state;
  if (st.stopping) {
    r->answer(
        failure("shard_stopped", fmt::format("shard {} is stopping on this node; retry", st.shard)));
    return;
  }
  if (st.quarantined.count(r->entity_id()) > 0) {
    r->answer(failure("quarantined", fmt::format("{} {} is quarantined after repeated crashes; "
                                                 "see the node log",
                                                 Model::kind, r->entity_id())));
    return;
  }
  if constexpr (std::is_same_v<Model, order_model>) {
    if (r->entity_id().empty() && r->command().order_command().has_place_order() &&
        !assign_order_id(self, *r))
      return;
  }
  forward<Model>(self, std::move(r));
}

// An idle activation asks to passivate: granted only if nothing was forwarded to it since
// (`received` counts what it got).
inline void on_passivate(shard_self* self, const std::string& id, uint64_t received) {
  auto& st = self->state;
  auto it = st.live.find(id);
  if (it == st.live.end()) return;
  bool granted = it->second.forwarded == received;
  auto who = caf::actor_cast<caf::actor>(self->current_sender());
  if (granted) {
    self->demonitor(it->second.actor);
    forget(st, it);
  }
  self->send(who, passivate_atom::value, granted);
  if (st.stopping && st.live.empty()) self->quit();
}

// An activation crashed holding `held`: its first command counts the crash; at the limit the
// entity is quarantined and every held command answered so, otherwise they go to a fresh
// activation (rebuilt from the journal) in their original order.
template <class Model>
void on_crashed(shard_self* self, const std::string& id, request_list_ptr& held,
                const std::string& what) {
  auto& st = self->state;
  if (auto it = st.live.find(id); it != st.live.end()) {
    self->demonitor(it->second.actor);
    forget(st, it);
  }
  if (held->empty()) return;
  auto& first = held->front();
  ++first->crashes;
  if (first->crashes >= st.env->limits.crashes_per_command_max) {
    st.quarantined.insert(id);
    st.env->counters.quarantined++;
    auto msg = fmt::format("{} {} crashed {} times on this command ({}); the {} is "
                           "quarantined",
                           Model::kind, id, first->crashes, what, Model::kind);
    fmt::print(stderr, "[error] {}\n", msg);
    for (auto& r : *held)
      r->answer(failure("quarantined", msg));
    return;
  }
  for (auto& r : *held)
    forward<Model>(self, std::move(r));
}

// The shard moved to another node: end the (idle, drained) activations so their state cannot
// go stale here; they are rebuilt from the journal if the shard comes back.
inline void release_activations(shard_self* self) {
  auto& st = self->state;
  for (auto& [id, act] : st.live) {
    self->demonitor(act.actor);
    self->send_exit(act.actor, caf::exit_reason::user_shutdown);
  }
  st.live.clear();
  st.lru.clear();
  st.by_actor.clear();
}

inline void on_stop(shard_self* self) {
  auto& st = self->state;
  st.stopping = true;
  for (auto& [id, act] : st.live)
    self->send_exit(act.actor, caf::exit_reason::user_shutdown);
  if (st.live.empty()) self->quit();
}

// A monitored activation ended: forgotten if it is still the live one for its entity.
inline void on_activation_down(shard_self* self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.by_actor.find(dm.source.id());
  if (it == st.by_actor.end()) return;
  auto live = st.live.find(*it->second);
  if (live != st.live.end() && live->second.actor.address() == dm.source) forget(st, live);
  if (st.stopping && st.live.empty()) self->quit();
}

/// The shard behavior for one entity kind (orders or SKUs).
template <class Model>
caf::behavior shard_actor(shard_self* self, runtime_env* env, uint32_t shard) {
  self->state.env = env;
  self->state.shard = shard;
  if constexpr (std::is_same_v<Model, order_model>)
    self->state.placements =
        std::make_unique<recent_placements>(env->limits.recent_placements_per_shard);
  self->set_down_handler([=](caf::down_msg& dm) { on_activation_down(self, dm); });
  self->delayed_send(self, sweep_period(*env), sweep_atom::value);
  return {
      [=](command_atom, request_ptr& r) { on_command<Model>(self, r); },
      [=](passivate_atom, const std::string& id, uint64_t received) {
        on_passivate(self, id, received);
      },
      [=](crashed_atom, const std::string& id, request_list_ptr& held, const std::string& what) {
        on_crashed<Model>(self, id, held, what);
      },
      [=](release_atom) { release_activations(self); },
      [=](sweep_atom) { sweep_idle(self); },
      [=](stop_atom) { on_stop(self); },
  };
}

} // namespace ordo
