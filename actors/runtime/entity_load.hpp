#pragma once
// Rebuilds an entity's state from its latest snapshot plus the events after it. Used by an
// activation and by reads. A record that does not parse, a gap in sequences, or an event
// from a newer schema is an error naming the entity and sequence — never a guess.

#include <string>
#include <variant>

#include <fmt/core.h>

#include "actors/runtime/journal_io.hpp"
#include "actors/runtime/models.hpp"
#include "domain/envelope.hpp"

namespace ordo {

template <class Model>
struct loaded_entity {
  typename Model::state state;
  uint64_t last_seq = 0;
  uint64_t snapshot_seq = 0;
};

struct load_failure {
  std::string code; // "corrupted", "schema_too_new", "storage_error"
  std::string message;
};

template <class Model>
std::variant<loaded_entity<Model>, load_failure> load_entity_once(storage::journal& j,
                                                                  const std::string& id) {
  loaded_entity<Model> out;
  out.state = Model::initial(id);
  auto key = storage_key<Model>(id);
  auto snap = j.load_snapshot(key);
  if (!snap) return load_failure{code_of(snap.error()), describe(snap.error())};
  if (*snap) {
    if (!out.state.ParseFromString((*snap)->bytes) || out.state.last_sequence() != (*snap)->seq)
      return load_failure{"corrupted", fmt::format("{} {}: snapshot at seq {} does not parse or "
                                                   "does not match its sequence",
                                                   Model::kind, id, (*snap)->seq)};
    out.last_seq = out.snapshot_seq = (*snap)->seq;
  }
  std::optional<load_failure> failed;
  v1::Envelope env;
  typename Model::event ev;
  auto err = j.read_events(key, out.last_seq + 1, [&](uint64_t seq, std::string_view bytes) {
    if (seq != out.last_seq + 1) {
      failed = load_failure{"corrupted", fmt::format("{} {}: sequence gap, expected {} got {}",
                                                     Model::kind, id, out.last_seq + 1, seq)};
      return false;
    }
    if (!env.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
        !Model::unwrap(env, ev)) {
      if (env.IsInitialized() && domain::classify_event(env) == domain::event_disposition::hold) {
        failed = load_failure{"schema_too_new",
                              fmt::format("{} {}: event {} was written by a newer schema "
                                          "(version {}); upgrade this node",
                                          Model::kind, id, seq, env.schema_version())};
      } else {
        failed = load_failure{"corrupted", fmt::format("{} {}: event {} is not a valid {} event",
                                                       Model::kind, id, seq, Model::kind)};
      }
      return false;
    }
    if (domain::classify_event(env) == domain::event_disposition::hold) {
      failed = load_failure{"schema_too_new",
                            fmt::format("{} {}: event {} was written by a newer schema "
                                        "(version {}); upgrade this node",
                                        Model::kind, id, seq, env.schema_version())};
      return false;
    }
    out.state = Model::evolve(std::move(out.state), ev);
    out.last_seq = seq;
    return true;
  });
  if (err) return load_failure{code_of(err), describe(err)};
  if (failed) return *failed;
  return out;
}

// The snapshot and the events are read in two transactions: feed retention may write a newer
// snapshot and remove the events after the older one in between (read_events then answers
// `truncated`). The load is then simply done again, from the newer snapshot (bounded: each
// retry needs another retention batch to land in that gap).
template <class Model>
std::variant<loaded_entity<Model>, load_failure> load_entity(storage::journal& j,
                                                             const std::string& id) {
  for (int attempt = 1;; ++attempt) {
    auto r = load_entity_once<Model>(j, id);
    auto* f = std::get_if<load_failure>(&r);
    if (f == nullptr || f->code != "truncated" || attempt == 3) return r;
  }
}

} // namespace ordo
