#pragma once
// Runs functions after a delay on one thread of its own: the latency of the simulated
// services (gateway, warehouse). Zero delay runs the function inline, on the caller's thread.
// Destroying it drops what has not run yet.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace ordo::saga {

class delay_line {
public:
  delay_line() = default;
  ~delay_line();
  delay_line(const delay_line&) = delete;
  delay_line& operator=(const delay_line&) = delete;

  void after(std::chrono::milliseconds d, std::function<void()> fn);

private:
  void run();

  struct item {
    std::chrono::steady_clock::time_point due;
    uint64_t n;
    std::function<void()> fn;
    bool operator>(const item& o) const { return due != o.due ? due > o.due : n > o.n; }
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<item, std::vector<item>, std::greater<>> queue_; // guarded by mu_
  uint64_t n_ = 0;
  bool stop_ = false;
  std::thread thread_; // started by the first delayed function
};

} // namespace ordo::saga
