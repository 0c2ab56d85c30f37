#pragma once
// Crash images: what the data directory may hold after a power loss at op k of an op log.
//
// THE DISK MODEL (docs/storage.md, "Power loss")
//   - Content. A write is durable once a later fsync/fdatasync of the same file (any fd),
//     sync() or syncfs() completed, or at its own completion when written through an
//     O_DSYNC/O_SYNC fd (RWF_DSYNC). Only the written bytes become durable that way.
//   - Unsynced writes may or may not have reached the disk, in any order, each 512-byte sector
//     independently: a sector holds the page-cache contents of some moment between its last
//     durable version and the crash (never a mix of two moments: no tearing below 512 B).
//   - Sizes follow the data: a file is as long as its last applied write or truncation.
//     ftruncate/fallocate are durable at the file's next fsync/fdatasync.
//   - Names. Creating, renaming and removing names are ordered (as in a journaling file
//     system): a crash keeps a prefix of them. That prefix reaches at least the last
//     directory fsync or sync(), and — unless strict_dir — at least the creation of every
//     file that was itself fsync'ed/fdatasync'ed (ext4, XFS and btrfs commit a new file's
//     directory entry with its first fsync; POSIX promises that only for a directory fsync).
//   - Nothing is reordered across a completed sync: everything before it stays.
//   Files written through shared mappings (LMDB's lock.mdb) cannot be modelled: their content
//   is whatever write() and ftruncate() produced (zeros); mapped_files() names them.

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "op_log.hpp"

namespace ordo::storage::power {

/// Which unsynced changes a crash image keeps (synced ones are always kept).
enum class persist : uint8_t {
  synced,  // none: exactly what was synced
  all,     // all of them: a process crash (the page cache survives)
  subset,  // each unsynced write kept or not (p random per image), whole
  torn,    // each 512-byte sector at a random version between synced and latest
  ordered, // everything written before a random moment (an in-order disk)
};
const char* to_string(persist p);

struct model_options {
  bool strict_dir = false; // a new file's name is durable only after a directory fsync
};

constexpr uint64_t sector_bytes = 512;

using file_map = std::map<std::string, std::string>; // relative name → content

class image_builder {
public:
  /// `base`: the directory's durable contents before the first op.
  image_builder(const op_log& log, file_map base, model_options opts = {});

  /// Applies ops [position(), cut). Cuts only move forward.
  void advance_to(size_t cut);
  size_t position() const { return pos_; }

  /// The files after a crash at position(). `in_flight`: the op at position(), if a write,
  /// was under way: any of its sectors may have landed (none is durable).
  file_map image(persist policy, std::mt19937_64& rng, bool in_flight = false) const;

  /// Ops the model cannot represent (PL_UNSUPPORTED, a file opened that was neither in the
  /// base nor created). Empty when the log is fully modelled.
  const std::vector<std::string>& problems() const { return problems_; }
  /// Names of files that had a writable shared mapping (their content is not modelled).
  std::set<std::string> mapped_files() const;

private:
  struct node {
    std::string durable;
    std::vector<size_t> pending; // op indices: writes, truncations since the last sync
    bool mapped = false;
    std::string first_name;
  };
  struct name_op {
    enum kind_t : uint8_t { create, rename, unlink } kind;
    std::string name, to;
    size_t node = 0;
    size_t at = 0; // op index
  };

  size_t node_of(uint32_t file, size_t at);
  void sync_node(size_t n);
  void force_names(size_t count); // the first `count` pending name ops became durable
  std::string content(size_t n, persist policy, size_t moment, double keep_p, std::mt19937_64& rng,
                      size_t extra) const;

  const op_log& log_;
  model_options opts_;
  size_t pos_ = 0;
  std::vector<node> nodes_;
  std::unordered_map<uint32_t, size_t> node_of_file_;
  std::map<std::string, size_t> durable_names_, live_names_;
  std::vector<name_op> pending_names_;
  std::vector<std::string> problems_;
};

/// Writes `files` below `dir` (created; parents of nested names too).
void write_image(const file_map& files, const std::string& dir);
/// Every regular file below `dir`, by relative name.
file_map read_files(const std::string& dir);

} // namespace ordo::storage::power
