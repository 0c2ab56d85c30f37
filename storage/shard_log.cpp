#include "storage/shard_log.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/core.h>

#include "storage/check.hpp"
#include "storage/errors.hpp"
#include "storage/log_format.hpp"

namespace ordo::storage {

namespace {

constexpr size_t zero_chunk = size_t{1} << 20;

caf::error io_error(std::string what, int err) {
  return make_error(storage_errc::io_error, fmt::format("{}: {}", what, std::strerror(err)));
}

bool is_space_error(int err) {
  return err == ENOSPC || err == EDQUOT;
}

caf::error fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error(fmt::format("open log directory {}", dir), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error(fmt::format("fsync of log directory {}", dir), err);
  return {};
}

// pwrite all of `bytes` at `offset`; returns 0 or the errno.
int write_all(int fd, std::string_view bytes, uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

// Overwrites [from, to) with zeros; returns 0 or the errno.
int zero_fill(int fd, uint64_t from, uint64_t to) {
  static const std::string zeros(zero_chunk, '\0');
  int err = 0;
  for (uint64_t at = from; at < to && err == 0; at += zero_chunk)
    err = write_all(fd, std::string_view{zeros}.substr(0, std::min<uint64_t>(zero_chunk, to - at)),
                    at);
  return err;
}

// A segment mapped read-only for recovery: only the pages the scan touches are read, so a
// mostly empty 64 MiB segment costs what its frames cost.
struct mapped_file {
  void* addr = MAP_FAILED;
  size_t size = 0;
  mapped_file() = default;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  mapped_file(mapped_file&& o) noexcept : addr(o.addr), size(o.size) { o.addr = MAP_FAILED; }
  ~mapped_file() {
    if (addr != MAP_FAILED) ::munmap(addr, size);
  }
  std::string_view bytes() const {
    return addr == MAP_FAILED ? std::string_view{} : std::string_view{static_cast<char*>(addr), size};
  }
};

caf::expected<mapped_file> map_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error(fmt::format("open log segment {}", path), errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error(fmt::format("stat log segment {}", path), err);
  }
  mapped_file m;
  m.size = static_cast<size_t>(st.st_size);
  if (m.size > 0) {
    m.addr = ::mmap(nullptr, m.size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m.addr == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return io_error(fmt::format("map log segment {}", path), err);
    }
    ::madvise(m.addr, m.size, MADV_SEQUENTIAL);
  }
  ::close(fd);
  return m;
}

// Is there a valid frame anywhere in `bytes` (any offset) with a position > `after`? Used only
// on a bad frame, to tell a torn tail (nothing valid follows) from damage in the middle.
bool valid_frame_follows(std::string_view bytes, uint64_t after) {
  char magic[4];
  for (int i = 0; i < 4; ++i)
    magic[i] = static_cast<char>((logfmt::frame_magic >> (24 - 8 * i)) & 0xFF);
  for (size_t at = 0; at + logfmt::frame_header_bytes <= bytes.size(); ++at) {
    auto hit = bytes.substr(at).find(std::string_view{magic, 4});
    if (hit == std::string_view::npos) return false;
    at += hit;
    auto f = logfmt::read_frame(bytes.substr(at));
    if (f.status == logfmt::frame_status::ok && f.position > after) return true;
  }
  return false;
}

// Segment files of `dir`, in number order; leftovers of an interrupted creation go.
caf::expected<std::vector<uint64_t>> segment_numbers(const std::string& dir) {
  std::error_code ec;
  std::vector<uint64_t> numbers;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    if (name.size() == 24 && name.substr(20) == ".seg" &&
        std::all_of(name.begin(), name.begin() + 20, [](char c) { return c >= '0' && c <= '9'; }))
      numbers.push_back(std::stoull(name.substr(0, 20)));
    else if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp")
      std::filesystem::remove(entry.path(), ec);
  }
  if (ec)
    return make_error(storage_errc::lmdb_error,
                      fmt::format("cannot list log directory {}: {}", dir, ec.message()));
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

// A frame at `at` of segment `i` (file `path`) fails its checksum: `corrupted` when valid frames
// follow it, in this segment or a later one; none when it is a torn tail.
caf::error bad_frame_at(const std::vector<mapped_file>& contents, size_t i, uint64_t at,
                        uint64_t expected, const std::string& path) {
  std::string_view bytes = contents[i].bytes();
  bool follows = valid_frame_follows(bytes.substr(at + 1), expected == 0 ? 0 : expected - 1);
  for (size_t j = i + 1; j < contents.size() && !follows; ++j)
    follows = logfmt::read_frame(contents[j].bytes()).status == logfmt::frame_status::ok;
  if (follows)
    return make_error(storage_errc::corrupted,
                      fmt::format("log segment {} offset {}: frame (position {}) fails its "
                                  "checksum and valid frames follow it",
                                  path, at,
                                  expected == 0 ? std::string{"?"} : std::to_string(expected)));
  return {};
}

// A torn tail: zero it so the next frame is written on clean ground.
caf::error zero_torn_tail(const std::string& path, uint64_t at, uint64_t segment_size) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error("open torn log segment", errno);
  int err = zero_fill(fd, at, segment_size);
  if (err == 0 && ::fdatasync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) return io_error("zero the torn tail of the log", err);
  return {};
}

} // namespace

shard_log::~shard_log() {
  if (fd_ >= 0) ::close(fd_);
}

std::string shard_log::path_of(uint64_t number) const {
  return fmt::format("{}/{:020}.seg", opts_.dir, number);
}

caf::error shard_log::create_segment(uint64_t number, uint64_t size) {
  const auto final_path = path_of(number);
  const auto tmp = final_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(fmt::format("create log segment {}", tmp), errno);
  int err = zero_fill(fd, 0, size);
  if (err == 0 && opts_.sync && ::fdatasync(fd) != 0) err = errno;
  ::close(fd);
  if (err != 0) {
    ::unlink(tmp.c_str());
    if (is_space_error(err))
      return make_error(storage_errc::storage_full,
                        fmt::format("no space for a new log segment of {} bytes in {}", size,
                                    opts_.dir));
    return io_error(fmt::format("fill log segment {}", tmp), err);
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    return io_error(fmt::format("rename {} to {}", tmp, final_path), errno);
  if (opts_.sync)
    if (auto e = fsync_dir(opts_.dir)) return e;
  return {};
}

caf::expected<std::unique_ptr<shard_log>>
shard_log::open(shard_log_options o, uint64_t applied, const frame_visitor& visit) {
  if (o.segment_bytes < (uint64_t{64} << 10))
    return make_error(storage_errc::invalid_argument, "log segment must be at least 64 KiB");
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec)
    return make_error(storage_errc::lmdb_error,
                      fmt::format("cannot create log directory {}: {}", o.dir, ec.message()));
  std::unique_ptr<shard_log> log{new shard_log(std::move(o))};
  auto& dir = log->opts_.dir;
  auto listed = segment_numbers(dir);
  if (!listed) return listed.error();
  const std::vector<uint64_t>& numbers = *listed;

  uint64_t expected = 0; // next position we must see (0: not known yet)
  uint64_t last_epoch = 0;
  size_t write_index = 0; // segment that takes the next frame
  uint64_t write_offset = 0;
  bool any_frame = false;
  std::vector<mapped_file> contents;
  for (auto n : numbers) {
    auto m = map_file(log->path_of(n));
    if (!m) return m.error();
    contents.push_back(std::move(*m));
    log->segments_.push_back(segment{n, contents.back().size, 0, 0});
  }
  for (size_t i = 0; i < contents.size(); ++i) {
    std::string_view bytes = contents[i].bytes();
    auto& seg = log->segments_[i];
    uint64_t at = 0;
    for (;;) {
      auto f = logfmt::read_frame(bytes.substr(at));
      if (f.status == logfmt::frame_status::empty) break;
      if (f.status == logfmt::frame_status::bad) {
        if (auto err = bad_frame_at(contents, i, at, expected, log->path_of(seg.number)))
          return err;
        if (auto err = zero_torn_tail(log->path_of(seg.number), at, seg.size)) return err;
        fmt::print(stderr, "[storage] log {}: torn tail at offset {} of segment {} zeroed\n", dir,
                   at, seg.number);
        break;
      }
      if (expected != 0 && f.position != expected)
        return make_error(storage_errc::corrupted,
                          fmt::format("log segment {} offset {}: position {} where {} was due",
                                      log->path_of(seg.number), at, f.position, expected));
      if (expected == 0 && f.position > applied + 1)
        return make_error(storage_errc::corrupted,
                          fmt::format("log {}: positions {}..{} are missing (the store applied up "
                                      "to {})",
                                      dir, applied + 1, f.position - 1, applied));
      if (f.epoch < last_epoch)
        return make_error(storage_errc::corrupted,
                          fmt::format("log segment {} position {}: epoch {} after epoch {}",
                                      log->path_of(seg.number), f.position, f.epoch, last_epoch));
      last_epoch = f.epoch;
      if (seg.first_position == 0) seg.first_position = f.position;
      seg.last_position = f.position;
      if (f.position > applied)
        if (auto err = visit(f.epoch, f.position, f.payload)) return err;
      expected = f.position + 1;
      any_frame = true;
      write_index = i;
      at += f.size;
      write_offset = at;
    }
  }
  // After the last frame, or after `applied` when every frame is applied already.
  log->next_position_ = any_frame ? std::max(expected, applied + 1) : applied + 1;
  if (log->segments_.empty()) {
    if (auto err = log->create_segment(1, log->opts_.segment_bytes)) return err;
    log->segments_.push_back(segment{1, log->opts_.segment_bytes, 0, 0});
    write_index = 0;
    write_offset = 0;
  }
  if (auto err = log->open_current(log->segments_[write_index].number, write_offset)) return err;
  return log;
}

caf::error shard_log::open_current(uint64_t number, uint64_t offset) {
  int fd = ::open(path_of(number).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error("open log segment for writing", errno);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  offset_ = offset;
  std::lock_guard<std::mutex> g{mu_};
  // Found by number under the lock: a checkpoint's release_up_to may have dropped segments
  // (and shifted every index) since the caller chose this one. It never drops this one: it is
  // at or after current_.
  auto it = std::find_if(segments_.begin(), segments_.end(),
                         [&](const segment& s) { return s.number == number; });
  ORDO_STORAGE_CHECK(it != segments_.end(), "log segment {} is not in the list", number);
  current_ = static_cast<size_t>(it - segments_.begin());
  return {};
}

caf::error shard_log::prepare_spare() {
  std::lock_guard<std::mutex> creating{create_mu_};
  uint64_t number = 0;
  {
    std::lock_guard<std::mutex> g{mu_};
    if (current_ + 1 < segments_.size()) return {}; // a spare is ready
    number = segments_.back().number + 1;
  }
  if (auto err = create_segment(number, opts_.segment_bytes)) return err;
  std::lock_guard<std::mutex> g{mu_};
  segments_.push_back(segment{number, opts_.segment_bytes, 0, 0});
  return {};
}

caf::error shard_log::roll(uint64_t frame_size) {
  // Waits for a spare being prepared rather than racing it for the same file name.
  std::lock_guard<std::mutex> creating{create_mu_};
  uint64_t next = 0; // the segment's number (indexes shift when the checkpointer releases)
  bool fits = false;
  {
    std::lock_guard<std::mutex> g{mu_};
    fits = current_ + 1 < segments_.size() && segments_[current_ + 1].size >= frame_size;
    if (fits) next = segments_[current_ + 1].number;
  }
  if (!fits) {
    // No spare (or too small for this frame): make one now, on the writer's time.
    const uint64_t size = std::max<uint64_t>(opts_.segment_bytes, (frame_size + 4095) / 4096 * 4096);
    uint64_t number = 0;
    {
      std::lock_guard<std::mutex> g{mu_};
      number = segments_.back().number + 1;
    }
    if (auto err = create_segment(number, size)) return err;
    std::lock_guard<std::mutex> g{mu_};
    // An unused spare too small for this frame stays as an empty segment: recovery skips it.
    segments_.push_back(segment{number, size, 0, 0});
    next = number;
  }
  return open_current(next, 0);
}

caf::error shard_log::append(uint64_t epoch, uint64_t position, std::string_view payload) {
  ORDO_STORAGE_CHECK(position == next_position_, "log append at {} where {} is due", position,
                     next_position_);
  auto frame = logfmt::encode_frame(epoch, position, payload);
  uint64_t seg_size = 0;
  {
    std::lock_guard<std::mutex> g{mu_};
    seg_size = segments_[current_].size;
  }
  if (offset_ + frame.size() > seg_size)
    if (auto err = roll(frame.size())) return err;
  if (int err = write_all(fd_, frame, offset_); err != 0)
    return io_error(fmt::format("write log frame {} at offset {}", position, offset_), err);
  if (opts_.sync) {
    if (::fdatasync(fd_) != 0)
      return io_error(fmt::format("fdatasync of log frame {}", position), errno);
    syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  offset_ += frame.size();
  bytes_written_.fetch_add(frame.size(), std::memory_order_relaxed);
  next_position_ = position + 1;
  std::lock_guard<std::mutex> g{mu_};
  auto& seg = segments_[current_];
  if (seg.first_position == 0) seg.first_position = position;
  seg.last_position = position;
  return {};
}

caf::expected<size_t> shard_log::release_up_to(uint64_t position) {
  std::vector<uint64_t> doomed;
  {
    std::lock_guard<std::mutex> g{mu_};
    size_t keep_from = 0;
    while (keep_from < current_ && segments_[keep_from].last_position <= position)
      ++keep_from;
    for (size_t i = 0; i < keep_from; ++i)
      doomed.push_back(segments_[i].number);
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<long>(keep_from));
    current_ -= keep_from;
  }
  for (auto n : doomed)
    if (::unlink(path_of(n).c_str()) != 0 && errno != ENOENT)
      return io_error(fmt::format("delete log segment {}", path_of(n)), errno);
  // A deletion that a crash undoes only costs re-reading frames that are already applied.
  return doomed.size();
}

shard_log::stats_t shard_log::stats() const {
  stats_t s;
  {
    std::lock_guard<std::mutex> g{mu_};
    s.segments = segments_.size();
  }
  s.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  s.syncs = syncs_.load(std::memory_order_relaxed);
  return s;
}

} // namespace ordo::storage
