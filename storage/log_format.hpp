#pragma once
// Byte layout of the shard log: frames, and the batch a frame carries.
//
// A FRAME is one group commit: header || payload, header = 28 bytes, big-endian:
//   magic u32 "ORDL" | crc u32 | payload length u32 | epoch u64 | position u64
// crc = crc32c over everything after the crc field (length, epoch, position, payload), so a
// frame that was cut, overwritten or moved fails it. `position` numbers the frames of a store
// 1, 2, 3 ... without gaps; `epoch` is the writer's term (the replication issue raises it when
// leadership moves; one node alone writes epoch 1). A never-written region is zeros, which
// reads as "no frame here".
//
// A BATCH (the payload) is the list of requests the writer ACCEPTED into that group commit,
// already resolved: each append_request with the feed position its first event got. Refused
// requests (conflicts, duplicates) are not in the log. Replaying a batch onto the store state
// that preceded it is deterministic: seqs and positions are in it, checksums chain on apply.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/journal.hpp"

namespace ordo::storage::logfmt {

inline constexpr uint32_t frame_magic = 0x4F52444C; // "ORDL"
inline constexpr size_t frame_header_bytes = 28;

struct logged_request {
  append_request req;          // as submitted (idempotency entities filled in)
  uint64_t first_position = 0; // feed position of req.events[0]; 0 when there are no events
};

struct logged_batch {
  uint64_t epoch = 0;
  uint64_t position = 0;
  std::vector<logged_request> requests;
  size_t bytes = 0; // encoded payload size (memory accounting of the un-checkpointed tail)
};

/// How many log records a request writes at checkpoint (events, idempotency, snapshot, timers):
/// the unit of checkpoint_max_records.
size_t record_count(const append_request& r);

std::string encode_batch(const logged_batch& b);
/// nullopt when the bytes are not a well-formed batch (never throws, never reads past `bytes`).
std::optional<std::vector<logged_request>> decode_batch(std::string_view bytes);

/// The whole frame for `payload`.
std::string encode_frame(uint64_t epoch, uint64_t position, std::string_view payload);

enum class frame_status : uint8_t {
  ok,    // a whole frame with a matching crc
  empty, // zeros where a header would be: nothing was ever written here
  bad,   // anything else: torn, damaged, or not a frame
};

struct frame_view {
  frame_status status = frame_status::bad;
  uint64_t epoch = 0, position = 0;
  std::string_view payload;
  size_t size = 0; // header + payload, when ok
};

/// Reads the frame at the start of `bytes` (which may run past it).
frame_view read_frame(std::string_view bytes);

} // namespace ordo::storage::logfmt
