#pragma once
// Storage error codes as values (usable as caf::error, category atom "storage"). The meaning of
// each code, and when it happens, is part of the contract in journal.hpp.

#include <cstdint>
#include <optional>
#include <string>

#include <caf/error.hpp>

namespace ordo::storage {

enum class storage_errc : uint8_t {
  invalid_argument = 1, // malformed request: empty/oversized entity, key or timer id
  sequence_conflict,    // expected_seq is not the entity's current last seq
  duplicate,            // the idempotency key is already stored (carries the stored result)
  record_too_large,     // a payload exceeds record_max_bytes
  overloaded,           // the bounded submit queue is full: retry later
  storage_full,         // map full or disk full: this batch was not written; reads still work
  io_error,             // the commit of this batch failed (EIO, failed sync): journal fail-stopped
  failed,               // the journal fail-stopped earlier: nothing more will be written
  corrupted,            // a stored record failed its checksum, chain or consistency check
  truncated,            // the requested feed range lies below the feed low-water mark
  format_too_new,       // the store was written by a newer format version
  closed,               // the journal is closing or closed
  lmdb_error,           // any other LMDB failure (open, reader table full, ...)
  locked,               // open: another process holds the data directory (dir_lock.hpp)
};

std::string to_string(storage_errc c);

/// The caf::error for `c`; `context` says what failed (entity, sequence, position, path).
caf::error make_error(storage_errc c, std::string context = {});

/// The storage code carried by `err`, or nothing when `err` is not a storage error.
std::optional<storage_errc> storage_errc_of(const caf::error& err);

/// The context string of a storage error ("" if none).
std::string error_context(const caf::error& err);

/// "code: context", e.g. "sequence_conflict: entity o/01J.. expected 3, last is 4".
std::string describe(const caf::error& err);

/// For a `duplicate` error: the result bytes stored with the idempotency key.
std::optional<std::string> duplicate_result(const caf::error& err);

/// A `duplicate` error carrying the stored result bytes.
caf::error make_duplicate_error(std::string context, std::string stored_result);

} // namespace ordo::storage
