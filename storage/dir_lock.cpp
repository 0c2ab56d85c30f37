#include "storage/dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "storage/errors.hpp"

namespace ordo::storage {

caf::expected<dir_lock> dir_lock::acquire(const std::string& dir) {
  const auto path = dir + "/ordo.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(storage_errc::lmdb_error,
                      fmt::format("cannot open lock file {}: {}", path, std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char buf[32] = {};
    auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    if (err != EWOULDBLOCK)
      return make_error(storage_errc::lmdb_error,
                        fmt::format("cannot lock {}: {}", path, std::strerror(err)));
    return make_error(storage_errc::locked,
                      fmt::format("data directory {} is in use by process {} (lock file {})", dir,
                                  holder.empty() ? "?" : holder, path));
  }
  // Ours now: say who holds it, for the next process that tries.
  auto pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock itself holds; only the pid shown to others is missing.
  }
  return dir_lock{fd};
}

dir_lock::dir_lock(dir_lock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

dir_lock& dir_lock::operator=(dir_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

dir_lock::~dir_lock() {
  if (fd_ >= 0) ::close(fd_); // closing the last descriptor releases the flock
}

} // namespace ordo::storage
