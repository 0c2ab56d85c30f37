#pragma once
// The bridge from the journal's writer thread to the actors: the journal completes an append
// on its writer thread; persist() turns that completion into an append_answer handed to a
// function the caller gives (actors/append_slot.hpp: it answers the commands and wakes the
// actor only when needed), so an actor never touches journal state from another thread, and
// CAF may move it between threads freely. Also names storage errors for outcomes.

#include <cstdint>
#include <functional>
#include <string>

#include <caf/all.hpp>

#include "actors/runtime/atoms.hpp"
#include "storage/journal.hpp"
#include "ordo/runtime.hpp"

namespace ordo {

/// The journal's answer to one append.
struct append_answer {
  bool ok = false;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  std::string code;    // storage error code name when !ok, e.g. "storage_full"
  std::string message; // what failed, naming the entity
  bool fenced = false; // expected sequence mismatch: another writer got there first
  bool fatal = false;  // the journal fail-stopped: nothing more will be written
};

/// Hands the append to the group-commit writer; `done` gets the journal's answer on the writer
/// thread, also when the journal refuses it at once (overloaded, closed, ...: then on the
/// calling thread). `deliver` (may be empty) carries the call to `done` elsewhere
/// (runtime_env::deliver); then persist returns only once the answer was handed to it.
/// `done` must be short and must not throw.
void persist(storage::journal& j, storage::append_request req,
             std::function<void(append_answer)> done,
             const std::function<void(std::function<void()>)>& deliver);

/// The storage code name of an error ("storage_full", "corrupted", ...), else "error".
std::string code_of(const caf::error& err);

// describe(err), "code: context" for any error: include/ordo/runtime.hpp.

} // namespace ordo
