#pragma once
// How far a commit has gone when Ordo answers it. One enum for the whole stack: the runtime's
// config (runtime_config::sync, the node's journal.durability) and the journal
// (storage::journal_options::mode) take the same values; docs/storage.md has what each can
// lose at a power loss.

#include <cstdint>

namespace ordo {

enum class durability : uint8_t {
  full_sync,    // default: an answer means the commit reached the disk (fdatasync)
  no_meta_sync, // kept for configurations written before the shard log; as full_sync now
  no_sync,      // benchmarks only: an OS crash or power loss may lose anything not flushed
};

} // namespace ordo
