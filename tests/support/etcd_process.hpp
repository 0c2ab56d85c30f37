#pragma once
// A single-member etcd on loopback for tests: its own data directory (fresh_dir), client and
// peer ports the kernel had free, short raft timings so it elects itself in well under a
// second (and grants leases as short as 1 s). start() waits at most 15 s for /health;
// the destructor SIGKILLs it and reaps it. The binary is $ORDO_ETCD_BIN or etcd on the
// usual paths (Debian's etcd-server); binary() is "" when there is none, for a SKIP line.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "net/http_client.hpp"
#include "support/exec_args.hpp"
#include "support/fresh_dir.hpp"
#include "support/loopback_listener.hpp"

namespace ordo::test {

class etcd_process {
public:
  static std::string binary() {
    if (const char* env = std::getenv("ORDO_ETCD_BIN"); env && *env) return env;
    for (const char* p : {"/usr/bin/etcd", "/usr/local/bin/etcd"})
      if (::access(p, X_OK) == 0) return p;
    return {};
  }

  etcd_process() : dir_(fresh_dir("etcd")) {}
  ~etcd_process() { kill_now(); }
  etcd_process(const etcd_process&) = delete;
  etcd_process& operator=(const etcd_process&) = delete;

  /// Starts etcd; false (with why()) when it does not answer /health within 15 s.
  bool start() {
    client_port_ = unused_port();
    const auto peer_port = unused_port();
    const auto client = url(), peer = fmt::format("http://127.0.0.1:{}", peer_port);
    std::vector<std::string> args = {binary(),
                                     "--name=t",
                                     "--data-dir=" + dir_ + "/data",
                                     "--listen-client-urls=" + client,
                                     "--advertise-client-urls=" + client,
                                     "--listen-peer-urls=" + peer,
                                     "--initial-advertise-peer-urls=" + peer,
                                     "--initial-cluster=t=" + peer,
                                     "--heartbeat-interval=20",
                                     "--election-timeout=200"};
    pid_ = ::fork();
    if (pid_ == 0) {
      int log = ::open((dir_ + "/etcd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (log >= 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
      }
      exec_args(std::move(args));
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{15};
    while (std::chrono::steady_clock::now() < deadline) {
      net::http_client c{client, "", std::chrono::milliseconds{500}};
      auto r = c.get("/health");
      if (r.status == 200 && r.body.find("true") != std::string::npos) return true;
      if (int status = 0; ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        why_ = "etcd exited at start; its log: " + log();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    kill_now();
    why_ = "etcd did not answer /health within 15 s; its log: " + log();
    return false;
  }

  std::string url() const { return fmt::format("http://127.0.0.1:{}", client_port_); }
  const std::string& why() const { return why_; }
  std::string log() const {
    std::ifstream in(dir_ + "/etcd.log");
    std::stringstream s;
    s << in.rdbuf();
    auto text = s.str();
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  }

  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

private:
  std::string dir_;
  uint16_t client_port_ = 0;
  pid_t pid_ = -1;
  std::string why_;
};

} // namespace ordo::test
