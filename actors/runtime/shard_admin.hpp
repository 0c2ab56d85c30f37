#pragma once
// Handing a shard to another node (cluster membership change, docs/cluster.md), as the
// runtime offers it to actors/cluster/handoff.cpp. The cluster stops routing commands to the
// shard first (its route answers `moving`), then drains, copies, releases.

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "ordo/runtime.hpp"
#include "storage/journal.hpp"

namespace ordo {

/// What commands touched in a shard while it was tracked (shard_admin::track_shard).
struct shard_changes {
  std::set<std::string> entities;       // stored entity keys ("o/<id>", "i/<sku>")
  std::set<std::string> placement_keys; // placements' idempotency keys
  bool overflow = false;                // too many to remember: copy the whole shard
};

class shard_admin {
public:
  explicit shard_admin(runtime& rt);

  /// Waits until no command of `shard` is in flight here; false if `timeout` passed first.
  bool drain_shard(uint16_t shard, std::chrono::milliseconds timeout);
  /// Ends the shard's activations (orders and SKUs): once another node owns the shard their
  /// state may go stale, and if the shard comes back they are rebuilt from the journal.
  void release_shard(uint16_t shard);
  /// The next batch of the shard's stored records (orders, SKUs, placement records) after
  /// `resume` ("" to start), about `max_bytes`.
  caf::expected<storage::export_batch> export_shard(uint16_t shard, std::string_view resume,
                                                    size_t max_bytes) const;
  /// Starts recording which entities (and placement keys) of `shard` commands touch, so a
  /// handoff can copy the shard while it still serves and then only what changed.
  void track_shard(uint16_t shard);
  /// Stops recording and returns what was touched since track_shard (`overflow`: too much to
  /// remember, or never tracked — copy the whole shard instead).
  shard_changes take_tracked(uint16_t shard);
  /// The named entities' records and the named placement records (one read transaction).
  caf::expected<std::vector<storage::entity_records>>
  export_changes(const std::vector<std::string>& entities,
                 const std::vector<std::string>& placement_keys) const;
  /// Stores records handed over by the shard's previous owner (one synced transaction).
  caf::error import_records(const std::vector<storage::entity_records>& batch);
  /// Deletes the durable timers of the shard's entities (the new owner fires them now).
  caf::expected<uint64_t> drop_shard_timers(uint16_t shard);

private:
  runtime::impl& p_;
};

} // namespace ordo
