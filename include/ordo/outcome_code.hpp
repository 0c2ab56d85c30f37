#pragma once
// The failure codes of a command's outcome, as a type, with ONE table saying what each means,
// whether the caller should wait and retry, and the HTTP status the node answers with.
//
// An outcome carries its code as text (`outcome::code`: it crosses HTTP and the cluster link
// as text); outcome_code_of() reads that text into the enum. Rejections by the domain are not
// here: they carry the domain's RejectionCode (messages/ordo/v1/common.proto) and are final.
//
// What to do with a failure:
//   wait = true   the node or the cluster is busy or changing (a queue full, shutting down, a
//                 shard between owners). Nothing was wrong with the command: retry it later with
//                 the SAME idempotency key. The HTTP layer answers 429/503 with Retry-After; the
//                 saga retries with its long budget.
//   wait = false  a failure of the node (storage, corruption, a stopped actor) or of the
//                 request. Retrying with the same key is always safe — the key makes it
//                 exactly-once — but may not help; outcome::unknown_if_applied says whether
//                 the command may have been applied meanwhile.
// An unknown text reads as outcome_code::internal (500, no wait).
//
// Every code the runtime, storage, cluster and clients produce has a row; a test
// (tests/actors/outcome_code_test.cpp) fails for a code written in the sources without one.

#include <cstdint>
#include <string_view>

namespace ordo {

enum class outcome_code : uint8_t {
  // wait and retry later
  overloaded,       // a bounded queue was full; nothing was done
  stopping,         // this node is shutting down
  shard_stopped,    // the shard's actor stopped (node stopping, or restarted by supervision)
  node_unavailable, // the owner node of the entity is down or unreachable
  not_owner,        // another node owns the entity's shard (the answer may name it)
  map_mismatch,     // the nodes' cluster views differ: a membership change is in progress
  shard_moving,     // the shard is being handed to another node
  node_joining,     // this node does not know the shard's owner yet
  // the request
  invalid_argument, // a key, id or field over its limit that storage refused
  invalid_order_id, // an order id that is not a valid id
  invalid_sku,      // a SKU that is not a valid SKU
  record_too_large, // a payload over journal.record_max_bytes
  malformed_command, // an envelope without a command of the entity's kind
  // the node
  actor_stopped,     // the entity's actor stopped before answering (may have applied)
  quarantined,       // the entity failed to load or to persist and takes no commands
  fenced,            // another writer appended to the entity first (sequence conflict)
  sequence_conflict, // the same, as storage names it
  storage_full,      // disk or map full: this command was not written; reads still work
  io_error,          // a write or sync failed: the journal fail-stopped
  failed,            // the journal fail-stopped earlier: nothing more is written
  closed,            // the journal is closing or closed
  corrupted,         // a stored record failed its checksum or consistency check
  truncated,         // a feed range below the feed's low-water mark
  format_too_new,    // the store was written by a newer format version
  schema_too_new,    // an entity's stored events or snapshot are of a newer schema version
  locked,            // another process holds the data directory
  lmdb_error,        // another LMDB failure
  duplicate,         // storage: the idempotency key is stored (answered as a duplicate)
  // the cluster link
  malformed_forward, // a forwarded command did not parse
  malformed_reply,   // the owner's answer could not be parsed (may have applied)
  // clients (ordoctl scenarios against a node)
  unreachable, // no answer from the node (may have applied)
  bad_answer,  // the node's answer could not be read (may have applied)
  // anything else
  internal, // an error without a code of its own ("error"), or a text not in this table
};

struct outcome_code_row {
  outcome_code code;
  std::string_view name; // the text in outcome::code and in the HTTP error body
  bool wait;             // retry later with the same key (above)
  int http_status;       // what the node answers: 429, 503, 400 or 500
  std::string_view meaning;
};

/// The row of `c`.
const outcome_code_row& row_of(outcome_code c);

/// The code named `name`; outcome_code::internal for a name without a row.
outcome_code outcome_code_of(std::string_view name);

/// The row of the code named `name` (internal's for a name without a row).
inline const outcome_code_row& row_of(std::string_view name) {
  return row_of(outcome_code_of(name));
}

/// Every row, in enum order (for tests and docs).
struct outcome_code_rows {
  const outcome_code_row* first;
  const outcome_code_row* last;
  const outcome_code_row* begin() const { return first; }
  const outcome_code_row* end() const { return last; }
};
outcome_code_rows all_outcome_codes();

} // namespace ordo
