#pragma once
// Spawning a helper child with its stdout on a pipe, reading its lines, killing it.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace ordo::storage::test {

class child_proc {
public:
  /// Starts argv[0] (a path) with stdout on a pipe; stderr is inherited.
  explicit child_proc(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~child_proc() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      wait_exit();
    }
    if (fd_ >= 0) close(fd_);
  }
  child_proc(const child_proc&) = delete;
  child_proc& operator=(const child_proc&) = delete;

  bool started() const { return pid_ > 0 && fd_ >= 0; }

  /// Reads complete lines until `deadline`, EOF, or (if min_lines > 0) that many lines total.
  /// Returns false on EOF.
  bool read_until(std::chrono::steady_clock::time_point deadline, size_t min_lines = 0) {
    while (min_lines == 0 || lines.size() < min_lines) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left < 0) return true;
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(left));
      if (r <= 0) continue;
      char buf[65536];
      auto n = read(fd_, buf, sizeof buf);
      if (n <= 0) return false;
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == '\n') {
          lines.push_back(std::move(partial_));
          partial_.clear();
        } else {
          partial_.push_back(buf[i]);
        }
      }
    }
    return true;
  }

  /// Reads everything up to EOF (the child is dead or exiting). A partial last line is dropped.
  void drain() {
    while (read_until(std::chrono::steady_clock::now() + std::chrono::seconds(60))) {
    }
  }

  void kill_now() { kill(pid_, SIGKILL); }

  /// Waits for exit; returns the raw wait status.
  int wait_exit() {
    int st = 0;
    if (!reaped_) waitpid(pid_, &st, 0);
    reaped_ = true;
    status_ = st;
    return status_;
  }

  std::vector<std::string> lines;

private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string partial_;
};

} // namespace ordo::storage::test
