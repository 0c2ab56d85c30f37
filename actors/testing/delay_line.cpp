#include "actors/testing/delay_line.hpp"

namespace ordo::saga {

delay_line::~delay_line() {
  {
    std::lock_guard<std::mutex> g{mu_};
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void delay_line::after(std::chrono::milliseconds d, std::function<void()> fn) {
  if (d.count() <= 0) {
    fn();
    return;
  }
  {
    std::lock_guard<std::mutex> g{mu_};
    queue_.push(item{std::chrono::steady_clock::now() + d, n_++, std::move(fn)});
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  cv_.notify_all();
}

void delay_line::run() {
  std::unique_lock<std::mutex> lock{mu_};
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = queue_.top().due;
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    auto fn = std::move(const_cast<item&>(queue_.top()).fn);
    queue_.pop();
    lock.unlock();
    fn();
    lock.lock();
  }
}

} // namespace ordo::saga
