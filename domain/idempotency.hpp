#pragma once
// "Same idempotency key, same answer, no new events" as a pure wrapper around decide().
//
// The runtime stores one v1::IdempotencyRecord per processed key (next to the event log,
// in the same write as the events). Before deciding, it looks the key up:
// - known key: the stored outcome is returned (accepted with how many events, or the same
//   rejection) and NO new events are produced; the command is not re-decided, even if
//   the state has changed since (a client retry must not turn into a second refund);
// - unknown key: decide() runs, and the caller persists the events together with the
//   record returned here;
// - empty key: no deduplication (internal commands carry business-level idempotency, e.g.
//   inventory reserve per order id).
// Rejections are remembered too: a retry gets the same answer; a new attempt needs a new key.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "domain/decision.hpp"
#include "domain/inventory.hpp"
#include "domain/order.hpp"
#include "ordo/v1/envelope.pb.h"

namespace ordo::domain {

template <class Event>
struct idempotent_decision {
  decision<Event> result; // for a duplicate: no events, the stored rejection if any
  bool duplicate = false; // true: `record` came from the lookup, persist nothing
  v1::IdempotencyRecord record;
};

/// The record to persist for a fresh decision whose first event gets `first_sequence`.
template <class Event>
v1::IdempotencyRecord make_record(std::string_view key, const decision<Event>& d,
                                  uint64_t first_sequence) {
  v1::IdempotencyRecord r;
  r.set_key(std::string(key));
  if (d.rejection) {
    *r.mutable_rejection() = *d.rejection;
  } else {
    r.mutable_accepted()->set_first_sequence(d.events.empty() ? 0 : first_sequence);
    r.mutable_accepted()->set_event_count(static_cast<uint32_t>(d.events.size()));
  }
  return r;
}

/// `lookup(std::string_view key) -> std::optional<v1::IdempotencyRecord>`; `decide` is any
/// overload of domain::decide (order or inventory) reachable for (State, Command).
template <class State, class Command, class Lookup>
auto decide_once(const State& state, const Command& command, std::string_view key, int64_t now_ms,
                 Lookup&& lookup) {
  using result_t = decltype(decide(state, command, now_ms));
  using event_t = typename decltype(result_t::events)::value_type;
  idempotent_decision<event_t> out;
  if (!key.empty()) {
    if (std::optional<v1::IdempotencyRecord> known = lookup(key)) {
      out.duplicate = true;
      if (known->has_rejection()) out.result.rejection = known->rejection();
      out.record = std::move(*known);
      return out;
    }
  }
  out.result = decide(state, command, now_ms);
  out.record = make_record(key, out.result, state.last_sequence() + 1);
  return out;
}

/// An in-memory record store: tests, tools, and the shape the storage-backed one follows.
class idempotency_memory {
public:
  std::optional<v1::IdempotencyRecord> lookup(std::string_view key) const {
    auto it = records_.find(std::string(key));
    if (it == records_.end()) return std::nullopt;
    return it->second;
  }
  void remember(const v1::IdempotencyRecord& record) {
    if (!record.key().empty()) records_.emplace(record.key(), record);
  }
  auto lookup_fn() const {
    return [this](std::string_view key) { return lookup(key); };
  }
  std::size_t size() const { return records_.size(); }

private:
  std::map<std::string, v1::IdempotencyRecord> records_;
};

} // namespace ordo::domain
