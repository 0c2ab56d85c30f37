#pragma once
// Rebuilds an entity's state from its latest snapshot plus the events after it. Used by an
// activation and by reads. A record that does not parse, a gap in sequences, or an event
// from a newer schema is an error naming the entity and sequence — never a guess.

#include <optional>
#include <string>
#include <variant>

#include <fmt/core.h>

#include "actors/runtime/journal_io.hpp"
#include "actors/runtime/models.hpp"
#include "domain/envelope.hpp"
#include "domain/snapshot.hpp"

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

// The snapshot read into `state`, upcast to the current shape (domain/snapshot.hpp reads both
// the versioned layout and the bare state message first written). One written by a newer
// schema is refused as schema_too_new, like a newer event: this node cannot read it.
template <class Model>
std::optional<load_failure> read_snapshot(const std::string& id, const storage::snapshot& snap,
                                          typename Model::state& state) {
  auto decoded = Model::decode_snapshot(snap.bytes);
  if (auto* bad = std::get_if<domain::snapshot_error>(&decoded)) {
    if (bad->code == domain::snapshot_errc::version_too_new)
      return load_failure{"schema_too_new",
                          fmt::format("{} {}: snapshot at seq {}: {}; upgrade this node",
                                      Model::kind, id, snap.seq, bad->message)};
    return load_failure{"corrupted", fmt::format("{} {}: snapshot at seq {} does not read: {}",
                                                 Model::kind, id, snap.seq, bad->message)};
  }
  state = std::move(std::get<domain::decoded_snapshot<typename Model::state>>(decoded).state);
  if (state.last_sequence() != snap.seq)
    return load_failure{"corrupted", fmt::format("{} {}: snapshot at seq {} does not match its "
                                                 "sequence ({})",
                                                 Model::kind, id, snap.seq, state.last_sequence())};
  return std::nullopt;
}

// Why an event does not read: newer than this build (an envelope classify_event holds — a
// newer revision, or a payload case unknown here) or corrupted.
template <class Model>
load_failure event_failure(const std::string& id, uint64_t seq, std::string_view bytes,
                           const domain::event_read_error& bad) {
  v1::Envelope env; // parsed again on this error path only, for the version and the case
  const bool parsed = env.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  if (bad.code == domain::event_read_errc::schema_too_new ||
      (parsed && domain::classify_event(env) == domain::event_disposition::hold))
    return load_failure{"schema_too_new", fmt::format("{} {}: event {} was written by a newer "
                                                      "schema (version {}); upgrade this node",
                                                      Model::kind, id, seq, env.schema_version())};
  return load_failure{"corrupted", fmt::format("{} {}: event {} is not a valid {} event ({})",
                                               Model::kind, id, seq, Model::kind, bad.message)};
}

template <class Model>
std::variant<loaded_entity<Model>, load_failure> load_entity_once(storage::journal& j,
                                                                  const std::string& id) {
  loaded_entity<Model> out;
  out.state = Model::initial(id);
  auto key = storage_key<Model>(id);
  auto snap = j.load_snapshot(key);
  if (!snap) return load_failure{code_of(snap.error()), describe(snap.error())};
  if (*snap) {
    if (auto failed = read_snapshot<Model>(id, **snap, out.state)) return *failed;
    out.last_seq = out.snapshot_seq = (*snap)->seq;
  }
  std::optional<load_failure> failed;
  typename Model::event ev;
  auto err = j.read_events(key, out.last_seq + 1, [&](uint64_t seq, std::string_view bytes) {
    if (seq != out.last_seq + 1) {
      failed = load_failure{"corrupted", fmt::format("{} {}: sequence gap, expected {} got {}",
                                                     Model::kind, id, out.last_seq + 1, seq)};
      return false;
    }
    // read_event parses, refuses a newer schema and upcasts, so evolve sees the current shape.
    auto read = domain::read_event(bytes);
    if (auto* bad = std::get_if<domain::event_read_error>(&read)) {
      failed = event_failure<Model>(id, seq, bytes, *bad);
      return false;
    }
    if (!Model::unwrap(std::get<v1::Envelope>(read), ev)) {
      failed = load_failure{"corrupted", fmt::format("{} {}: event {} is not a valid {} event",
                                                     Model::kind, id, seq, Model::kind)};
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
