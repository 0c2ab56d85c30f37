#include "actors/runtime/feed_signal.hpp"

#include <algorithm>

namespace ordo {

void feed_signal::listener::arm() {
  if (!armed_.exchange(true)) signal_.armed_.fetch_add(1);
}

void feed_signal::listener::disarm() {
  if (armed_.exchange(false)) signal_.armed_.fetch_sub(1);
}

feed_signal::listener::~listener() {
  std::lock_guard<std::mutex> g{signal_.mu_};
  disarm();
  auto& ls = signal_.listeners_;
  ls.erase(std::remove(ls.begin(), ls.end(), this), ls.end());
}

std::unique_ptr<feed_signal::listener> feed_signal::listen(std::function<void()> wake) {
  std::unique_ptr<listener> l{new listener(*this, std::move(wake))};
  std::lock_guard<std::mutex> g{mu_};
  listeners_.push_back(l.get());
  return l;
}

void feed_signal::committed() {
  commits_.fetch_add(1);
  if (armed_.load() == 0) return;
  std::lock_guard<std::mutex> g{mu_};
  for (auto* l : listeners_)
    if (l->armed_.exchange(false)) {
      armed_.fetch_sub(1);
      l->wake_();
    }
}

} // namespace ordo
