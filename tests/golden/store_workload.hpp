#pragma once
// The workload behind the golden store: a handful of orders and two SKUs driven through the
// real runtime (saga off: the test plays inventory, payment and warehouse), so that every
// order and inventory event kind is written at least once, with snapshots, idempotency
// records of both outcomes, and an un-checkpointed tail in the shard log.
//
// Phase 1 ends with runtime::stop() (everything checkpointed into LMDB); phase 2 runs in a
// process that exits without stopping, so its commits exist only in the log. Each phase
// runs in a forked child: the test process itself never starts CAF or the journal's threads.

#include <cstdint>
#include <memory>
#include <string>

#include "ordo/runtime.hpp"

namespace ordo::golden {

// The runtime's clock in each phase: every event of a phase carries this at_ms.
inline constexpr int64_t phase1_ms = 1'780'000'000'000;
inline constexpr int64_t phase2_ms = phase1_ms + 60'000;

inline constexpr const char* sku_a = "GOLD-A"; // 1500 EUR, restocked, adjusted, sold
inline constexpr const char* sku_b = "GOLD-B"; // 700 EUR, owned by merchant_b
inline constexpr const char* merchant_b = "merchant-golden";
inline constexpr const char* customer = "customer-golden";
inline constexpr uint32_t snapshot_every_events = 4;

/// Runs both phases into `store_dir`; `work_dir` holds what the phases hand each other.
/// Fails the test if a phase's command is not accepted as planned.
void make_golden_store(const std::string& store_dir, const std::string& work_dir);

/// The runtime's configuration for the golden store in `dir` (the workload's shards, no saga).
runtime_config store_config(const std::string& dir);

/// An entity's committed state as the runtime reads it back (snapshot + events):
/// "<last_sequence> <state hash>"; `kind` is "order" or "inventory".
std::string runtime_state(runtime& rt, const std::string& kind, const std::string& id);

} // namespace ordo::golden
