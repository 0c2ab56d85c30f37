#pragma once
// The data directory's lock: one process writes a store at a time.
//
// LMDB lets several processes open one environment, and each would then run its own writer,
// its own saga over the same feed and its own timers — double payments waiting to happen. So
// the journal holds an exclusive flock(2) on `<dir>/ordo.lock` for its whole life and writes
// its pid into the file. The kernel drops the lock when the process dies (kill -9 included),
// so a crash never leaves a stale lock behind. Read-only scans (verify) do not take it.

#include <string>

#include <caf/expected.hpp>

namespace ordo::storage {

class dir_lock {
public:
  /// Takes the lock or fails at once with `locked`, naming the holder's pid.
  static caf::expected<dir_lock> acquire(const std::string& dir);

  dir_lock(dir_lock&& other) noexcept;
  dir_lock& operator=(dir_lock&& other) noexcept;
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;
  ~dir_lock(); // releases it

private:
  explicit dir_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

} // namespace ordo::storage
