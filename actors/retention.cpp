#include "actors/retention.hpp"

#include <pthread.h>

#include <fmt/core.h>

namespace ordo {

idempotency_retention::idempotency_retention(storage::journal& j, retention_options o,
                                             std::function<int64_t()> now_ms)
    : journal_(j), opt_(o), now_ms_(std::move(now_ms)) {
  if (opt_.retention.count() <= 0) return;
  thread_ = std::thread([this] { run(); });
}

idempotency_retention::~idempotency_retention() {
  stop();
}

void idempotency_retention::stop() {
  {
    std::lock_guard<std::mutex> g{mu_};
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void idempotency_retention::run() {
  pthread_setname_np(pthread_self(), "ordo-retention");
  std::unique_lock<std::mutex> lock{mu_};
  while (!cv_.wait_for(lock, opt_.every, [this] { return stopping_; })) {
    lock.unlock();
    round();
    lock.lock();
  }
}

void idempotency_retention::round() {
  const int64_t cutoff = now_ms_() - opt_.retention.count();
  if (cutoff <= 0) return;
  for (size_t b = 0; b < opt_.batches_per_round; ++b) {
    {
      std::lock_guard<std::mutex> g{mu_};
      if (stopping_) return;
    }
    auto n = journal_.expire_idempotency(static_cast<uint64_t>(cutoff), opt_.batch);
    if (!n) {
      // Logged once per round; the next round tries again (a fail-stopped journal keeps
      // refusing, and says why on every write).
      fmt::print(stderr, "[error] idempotency retention: {}\n", to_string(n.error()));
      return;
    }
    expired_ += *n;
    if (*n < opt_.batch) return; // nothing older left
  }
}

} // namespace ordo
