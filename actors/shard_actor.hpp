#pragma once
// A shard actor owns the activations of the entities of one virtual shard: it activates an
// entity actor on its first command, forwards commands to it, grants passivation only when
// no command is in flight to it, and supervises it (restart from the journal, quarantine
// after repeated crashes on one command).
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

#include "actors/atoms.hpp"
#include "actors/entity_actor.hpp"
#include "actors/placement.hpp"
#include "domain/order_id.hpp"

namespace ordo {

struct activation {
  caf::actor actor;
  uint64_t forwarded = 0; // commands sent to this activation (passivation handshake)
  std::list<const std::string*>::iterator lru; // its place in shard_state::lru
  bool evict_asked = false; // asked to passivate early; cleared by its next command
};

struct shard_state {
  runtime_env* env = nullptr;
  uint32_t shard = 0;
  bool stopping = false;
  std::unordered_map<std::string, activation> live;
  // Ids of `live` (keys of its nodes, stable), least recently forwarded to first.
  std::list<const std::string*> lru;
  std::unordered_map<caf::actor_addr, std::string> by_addr;
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
  st.by_addr.erase(it->second.actor.address());
  st.live.erase(it);
}

// Over its share, the shard asks its least recently used activations to passivate now (an
// idle one runs the usual handshake; a busy one ignores it), a few per new activation.
inline void evict_some(shard_self* self) {
  auto& st = self->state;
  size_t asked = 0;
  for (size_t seen = 0; asked < 4 && seen < 16 && seen < st.lru.size(); ++seen) {
    auto it = st.lru.begin();
    auto& act = st.live.at(**it);
    st.lru.splice(st.lru.end(), st.lru, it); // asked ones wait at the back
    if (act.evict_asked) continue;
    act.evict_asked = true;
    self->send(act.actor, evict_atom::value);
    ++asked;
  }
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
  st.by_addr.emplace(a.address(), id);
  auto& entry = *st.live.emplace(id, activation{a, 0, {}, false}).first;
  entry.second.lru = st.lru.insert(st.lru.end(), &entry.first);
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
  st.lru.splice(st.lru.end(), st.lru, act->lru);
  self->send(act->actor, command_atom::value, std::move(r));
}

/// The shard behavior for one entity kind (orders or SKUs).
template <class Model>
caf::behavior shard_actor(shard_self* self, runtime_env* env, uint32_t shard) {
  self->state.env = env;
  self->state.shard = shard;
  if constexpr (std::is_same_v<Model, order_model>)
    self->state.placements =
        std::make_unique<recent_placements>(env->limits.recent_placements_per_shard);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.by_addr.find(dm.source);
    if (it == st.by_addr.end()) return;
    auto id = it->second;
    st.by_addr.erase(it);
    auto live = st.live.find(id);
    if (live != st.live.end() && live->second.actor.address() == dm.source) {
      st.lru.erase(live->second.lru);
      st.live.erase(live);
    }
    if (st.stopping && st.live.empty()) self->quit();
  });
  return {
      [=](command_atom, request_ptr& r) {
        auto& st = self->state;
        if (st.stopping) {
          r->answer(failure("shard_stopped",
                            fmt::format("shard {} is stopping on this node; retry", st.shard)));
          return;
        }
        if (st.quarantined.count(r->entity_id()) > 0) {
          r->answer(failure("quarantined",
                            fmt::format("{} {} is quarantined after repeated crashes; see the "
                                        "node log",
                                        Model::kind, r->entity_id())));
          return;
        }
        if constexpr (std::is_same_v<Model, order_model>) {
          if (r->entity_id().empty() && r->command().order_command().has_place_order() &&
              !assign_order_id(self, *r))
            return;
        }
        forward<Model>(self, std::move(r));
      },
      [=](passivate_atom, const std::string& id, uint64_t received) {
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
      },
      [=](crashed_atom, const std::string& id, request_list_ptr& held, const std::string& what) {
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
        // Restart from the journal and hand the commands over in their original order.
        for (auto& r : *held)
          forward<Model>(self, std::move(r));
      },
      // The shard moved to another node: end the (idle, drained) activations so their state
      // cannot go stale here; they are rebuilt from the journal if the shard comes back.
      [=](release_atom) {
        auto& st = self->state;
        for (auto& [id, act] : st.live) {
          self->demonitor(act.actor);
          self->send_exit(act.actor, caf::exit_reason::user_shutdown);
        }
        st.live.clear();
        st.lru.clear();
        st.by_addr.clear();
      },
      [=](stop_atom) {
        auto& st = self->state;
        st.stopping = true;
        for (auto& [id, act] : st.live)
          self->send_exit(act.actor, caf::exit_reason::user_shutdown);
        if (st.live.empty()) self->quit();
      },
  };
}

} // namespace ordo
