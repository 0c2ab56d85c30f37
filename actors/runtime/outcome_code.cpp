// The one table of outcome codes (include/ordo/outcome_code.hpp).
#include "ordo/outcome_code.hpp"

#include <iterator>

#include "domain/assert.hpp"

namespace ordo {

namespace {

using C = outcome_code;

// In enum order: row_of indexes it (checked at start-up below and by the test).
constexpr outcome_code_row rows[] = {
    {C::overloaded, "overloaded", true, 429, "a bounded queue was full; nothing was done"},
    {C::stopping, "stopping", true, 503, "this node is shutting down"},
    {C::shard_stopped, "shard_stopped", true, 503,
     "the shard's actor stopped (the node is stopping, or supervision restarts it)"},
    {C::node_unavailable, "node_unavailable", true, 503,
     "the entity's owner node is down or unreachable"},
    {C::not_owner, "not_owner", true, 503, "another node owns the entity's shard"},
    {C::map_mismatch, "map_mismatch", true, 503,
     "the nodes' cluster views differ: a membership change is in progress"},
    {C::shard_moving, "shard_moving", true, 503, "the shard is being handed to another node"},
    {C::node_joining, "node_joining", true, 503, "this node does not know the shard's owner yet"},
    {C::invalid_argument, "invalid_argument", false, 400,
     "a key, id or field over its limit that storage refused"},
    {C::invalid_order_id, "invalid_order_id", false, 400, "not a valid order id"},
    {C::invalid_sku, "invalid_sku", false, 400, "not a valid SKU"},
    {C::record_too_large, "record_too_large", false, 500,
     "a payload over journal.record_max_bytes"},
    {C::malformed_command, "malformed_command", false, 500,
     "an envelope without a command of the entity's kind"},
    {C::actor_stopped, "actor_stopped", false, 500,
     "the entity's actor stopped before answering; the command may have been applied"},
    {C::quarantined, "quarantined", false, 500,
     "the entity failed to load or to persist and takes no commands"},
    {C::fenced, "fenced", false, 500, "another writer appended to the entity first"},
    {C::sequence_conflict, "sequence_conflict", false, 500,
     "the entity's last sequence is not the expected one"},
    {C::storage_full, "storage_full", false, 500,
     "disk or map full: the command was not written; reads still work"},
    {C::io_error, "io_error", false, 500, "a write or sync failed: the journal fail-stopped"},
    {C::failed, "failed", false, 500, "the journal fail-stopped earlier: nothing more is written"},
    {C::closed, "closed", false, 500, "the journal is closing or closed"},
    {C::corrupted, "corrupted", false, 500,
     "a stored record failed its checksum or consistency check"},
    {C::truncated, "truncated", false, 500, "a feed range below the feed's low-water mark"},
    {C::format_too_new, "format_too_new", false, 500,
     "the store was written by a newer format version"},
    {C::schema_too_new, "schema_too_new", false, 500,
     "an entity's stored events or snapshot are of a newer schema version (a newer build wrote them)"},
    {C::locked, "locked", false, 500, "another process holds the data directory"},
    {C::lmdb_error, "lmdb_error", false, 500, "another LMDB failure"},
    {C::duplicate, "duplicate", false, 500, "the idempotency key is already stored"},
    {C::malformed_forward, "malformed_forward", false, 500, "a forwarded command did not parse"},
    {C::malformed_reply, "malformed_reply", false, 500,
     "the owner's answer could not be parsed; the command may have been applied"},
    {C::unreachable, "unreachable", false, 500,
     "client side: no answer from the node; the command may have been applied"},
    {C::bad_answer, "bad_answer", false, 500,
     "client side: the node's answer could not be read; the command may have been applied"},
    {C::internal, "internal", false, 500, "an error without a code of its own"},
};

constexpr bool in_enum_order() {
  for (size_t i = 0; i < std::size(rows); ++i)
    if (static_cast<size_t>(rows[i].code) != i) return false;
  return true;
}
static_assert(in_enum_order(), "outcome_code rows must follow the enum's order");
static_assert(std::size(rows) == static_cast<size_t>(C::internal) + 1,
              "every outcome_code needs a row");

} // namespace

const outcome_code_row& row_of(outcome_code c) {
  const auto i = static_cast<size_t>(c);
  ORDO_ASSERT(i < std::size(rows), "outcome_code {} has no row", i);
  return rows[i];
}

outcome_code outcome_code_of(std::string_view name) {
  for (const auto& r : rows)
    if (r.name == name) return r.code;
  return C::internal;
}

outcome_code_rows all_outcome_codes() { return {std::begin(rows), std::end(rows)}; }

} // namespace ordo
