#pragma once
// Starts a real ordo-node process for the API tests: writes its config, starts it on port 0,
// reads the "listening on HOST:PORT" line, and stops it with a signal. Everything bounded:
// a node that does not come up within 20 s fails the test instead of hanging it.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "support/exec_args.hpp"
#include "support/fresh_dir.hpp"

#ifndef ORDO_NODE_BIN
#error "ORDO_NODE_BIN must name the ordo-node binary"
#endif

namespace ordo::test {

class node_process {
public:
  /// `config` is TOML; `dir` holds the config, the data and the node's log (node.log).
  node_process(std::string dir, std::string config, std::vector<std::string> extra = {})
      : dir_(std::move(dir)), config_(std::move(config)), extra_(std::move(extra)) {}
  ~node_process() { kill_now(); }

  /// Starts the node; returns false (with why()) if it did not report listening in time.
  bool start() {
    { std::ofstream(dir_ + "/node.toml") << config_; }
    int out[2];
    if (::pipe(out) != 0) return fail("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      int log = ::open((dir_ + "/node.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) ::dup2(log, 2);
      ::close(out[0]);
      std::vector<std::string> args = prefix_;
      std::vector<std::string> node = {ORDO_NODE_BIN,  "--config", dir_ + "/node.toml", "--data",
                                       dir_ + "/data", "--listen", "127.0.0.1:0"};
      args.insert(args.end(), node.begin(), node.end());
      args.insert(args.end(), extra_.begin(), extra_.end());
      exec_args(std::move(args));
    }
    ::close(out[1]);
    std::string got;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
      auto at = got.find("listening on ");
      auto nl = at == std::string::npos ? std::string::npos : got.find('\n', at);
      if (nl != std::string::npos) {
        address_ = got.substr(at + 13, nl - at - 13);
        ::close(out[0]);
        return true;
      }
    }
    ::close(out[0]);
    kill_now();
    return fail("node did not report listening within 20 s; its log: " + log());
  }

  /// Sends `sig` and waits up to `wait` for the exit; returns the exit status (or -1).
  int stop(int sig = SIGTERM, std::chrono::seconds wait = std::chrono::seconds{60}) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + wait;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    // Did not exit in time: keep a stack dump next to the log for the post-mortem.
    std::system(
        fmt::format("gdb -p {} -batch -ex 'thread apply all bt 16' > {}/hang.txt 2>&1", pid_, dir_)
            .c_str());
    kill_now();
    return -1;
  }

  /// The process was reaped elsewhere (the test waited for it itself).
  void forget() { pid_ = -1; }

  void kill_now() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  /// Runs the node under a wrapper, e.g. {"/usr/sbin/ip", "netns", "exec", "ns1"} (the
  /// wrapper must exec the node, so the pid stays the node's).
  void set_prefix(std::vector<std::string> prefix) { prefix_ = std::move(prefix); }

  const std::string& address() const { return address_; }
  pid_t pid() const { return pid_; }
  std::string url() const { return "http://" + address_; }
  const std::string& why() const { return why_; }
  std::string log() const {
    std::ifstream in{dir_ + "/node.log"};
    return std::string{std::istreambuf_iterator<char>{in}, {}};
  }

private:
  bool fail(std::string why) {
    why_ = std::move(why);
    return false;
  }
  std::string dir_, config_;
  std::vector<std::string> extra_, prefix_;
  pid_t pid_ = -1;
  std::string address_, why_;
};

} // namespace ordo::test
