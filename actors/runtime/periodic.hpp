#pragma once
// A background thread that runs `work` every `every` until stopped: the shape of both
// retentions (idempotency, feed). stop() wakes it at once; a run in progress finishes first
// (its work checks stopping() between bounded steps).

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ordo {

class periodic {
public:
  periodic() = default;
  ~periodic() { stop(); }
  periodic(const periodic&) = delete;
  periodic& operator=(const periodic&) = delete;

  /// Starts the thread (named `name`, at most 15 characters) unless already running.
  void start(std::string name, std::chrono::milliseconds every, std::function<void()> work) {
    if (thread_.joinable()) return;
    thread_ = std::thread([this, name = std::move(name), every, work = std::move(work)] {
      pthread_setname_np(pthread_self(), name.c_str());
      std::unique_lock<std::mutex> lock{mu_};
      while (!cv_.wait_for(lock, every, [this] { return stopping_; })) {
        lock.unlock();
        work();
        lock.lock();
      }
    });
  }

  void stop() {
    {
      std::lock_guard<std::mutex> g{mu_};
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  bool stopping() {
    std::lock_guard<std::mutex> g{mu_};
    return stopping_;
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false; // guarded by mu_
  std::thread thread_;
};

} // namespace ordo
