#pragma once
// ordo::storage::shard_log — the append-only log a journal commits to (see docs/storage.md).
//
// Frames (log_format.hpp) go one after another into SEGMENTS: files `<dir>/<n>.seg` (n = 1, 2,
// ... zero-padded) created at their full size and filled with zeros before the first frame is
// written, so an append is an overwrite of allocated blocks: one sequential pwrite and one
// fdatasync with no file-system metadata to journal. The next segment (the spare) is prepared
// off the writer thread; the writer only opens it. A frame that does not fit in what is left
// of a segment starts the next one (the rest stays zeros); a frame larger than a segment gets
// a segment of its own size.
//
// Recovery (open) reads every segment in order and returns the frames after `applied`. Frames
// must have consecutive positions and non-decreasing epochs. A frame that fails its checksum
// is a TORN TAIL only when no valid frame follows it anywhere (the write that was cut was the
// last one, never acknowledged): open zeroes it (synced) and writes continue there. Otherwise
// it is `corrupted`, naming the segment, offset and position — never read as end of data.
// (A damaged LAST frame looks exactly like a torn one; no log can tell them apart.)
//
// Threads: append() from one thread (the journal's writer); prepare_spare() and release_up_to()
// from another (the checkpointer); they share only the segment list, under a mutex.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace ordo::storage {

struct shard_log_options {
  std::string dir;                             // created if missing
  uint64_t segment_bytes = uint64_t{16} << 20; // size of a segment file
  bool sync = true;                            // fdatasync after each append (false: no_sync)
};

/// Called by open() for each frame with position > applied, in order. `payload` points into
/// the segment's mapping and is valid during the call only (replay decodes it in place rather
/// than copying the tail first). An error it returns ends open() with that error.
using frame_visitor =
    std::function<caf::error(uint64_t epoch, uint64_t position, std::string_view payload)>;

class shard_log {
public:
  /// Opens (creating) the log; hands `visit` the frames whose position is > applied, in
  /// order. Errors: corrupted (see above), io_error, lmdb_error (cannot create/open files),
  /// or what `visit` returned.
  static caf::expected<std::unique_ptr<shard_log>>
  open(shard_log_options o, uint64_t applied, const frame_visitor& visit);

  ~shard_log();
  shard_log(const shard_log&) = delete;
  shard_log& operator=(const shard_log&) = delete;

  /// Position the next append must carry (last written + 1; applied + 1 for an empty log).
  uint64_t next_position() const { return next_position_; }

  /// Writes one frame at the end and (with sync) makes it durable before returning.
  /// storage_full when a new segment cannot be created for lack of space (nothing written);
  /// io_error for a failed write or sync — the caller must fail-stop: the frame's state on
  /// disk is unknown.
  caf::error append(uint64_t epoch, uint64_t position, std::string_view payload);

  /// Creates the spare segment if there is none (zero-filled, synced, named).
  caf::error prepare_spare();

  /// Deletes every segment all of whose frames have positions ≤ `position`, except the one
  /// being written. Returns how many were deleted.
  caf::expected<size_t> release_up_to(uint64_t position);

  struct stats_t {
    uint64_t segments = 0;      // files, spare included
    uint64_t bytes_written = 0; // frames appended since open
    uint64_t syncs = 0;
  };
  stats_t stats() const;

private:
  struct segment {
    uint64_t number = 0;
    uint64_t size = 0;           // file size
    uint64_t first_position = 0; // 0: no frame yet
    uint64_t last_position = 0;
  };

  explicit shard_log(shard_log_options o) : opts_(std::move(o)) {}
  std::string path_of(uint64_t number) const;
  caf::error create_segment(uint64_t number, uint64_t size);
  /// Makes segment `number` (in segments_) the one written, at `offset`.
  caf::error open_current(uint64_t number, uint64_t offset);
  caf::error roll(uint64_t frame_size);

  shard_log_options opts_;
  int fd_ = -1;            // the segment being written (writer thread)
  uint64_t offset_ = 0;    // where the next frame goes in it
  uint64_t next_position_ = 1;
  std::atomic<uint64_t> bytes_written_{0}, syncs_{0};

  std::mutex create_mu_;          // one segment creation at a time (spare vs writer's roll)
  mutable std::mutex mu_;         // guards segments_ (writer vs checkpointer)
  std::vector<segment> segments_; // ascending; current_ indexes the one being written
  size_t current_ = 0;
};

} // namespace ordo::storage
