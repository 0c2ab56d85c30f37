#pragma once
// The golden store on disk (files/store/): an LMDB data file and the shard log's segments.
// Stored small: data.mdb as LMDB's compacting copy, each segment cut after its last frame
// (recovery reads the zeros of a preallocated segment and its end alike) and segments
// without frames (the spare) left out. Tests open copies, never the golden files.

#include <memory>
#include <string>
#include <vector>

#include "storage/journal.hpp"

namespace ordo::golden {

/// Writes the store in `live_dir` (closed) to files/store/ in the form above, unless
/// files/store/ exists.
void save_golden_store(const std::string& live_dir, const std::string& scratch_dir);

/// Copies files/store/ into `dir` (which must not hold a store); fails if files are missing.
void copy_golden_store(const std::string& dir);

/// Opens the store in `dir` with checkpoints held until close, so what recovery read from
/// the log stays in the journal's tail (stats().tail_records) while it is open.
std::unique_ptr<storage::journal> open_store(const std::string& dir);

/// Every record of the feed, in position order: the stored bytes of every event.
std::vector<std::string> feed_records(const storage::journal& j);

} // namespace ordo::golden
