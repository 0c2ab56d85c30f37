// The node-wide event feed as the runtime serves it: reads by position and subscriptions that
// follow the feed on a delivery thread of their own, woken by commits (feed_signal.hpp).
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include <fmt/core.h>

#include "actors/runtime/runtime_impl.hpp"
#include "domain/envelope.hpp"

namespace ordo {

caf::expected<std::vector<feed_item>> runtime::read_feed(uint64_t after, size_t max) {
  std::vector<feed_item> out;
  std::string bad;
  auto err = impl_->journal->read_feed(
      after, max, [&](uint64_t pos, std::string_view, uint64_t, std::string_view bytes) {
        // Parsed, refused when written by a newer schema, upcast: what evolve() would see.
        auto read = domain::read_event(bytes);
        if (auto* e = std::get_if<domain::event_read_error>(&read)) {
          bad = fmt::format("{}: feed record at position {}: {}",
                            e->code == domain::event_read_errc::schema_too_new ? "schema_too_new"
                                                                                : "corrupted",
                            pos, e->message);
          return false;
        }
        out.push_back(feed_item{pos, std::move(std::get<v1::Envelope>(read))});
        return true;
      });
  if (err) return err;
  if (!bad.empty()) return caf::make_error(caf::sec::runtime_error, bad);
  return out;
}

std::unique_ptr<subscription> runtime::subscribe(uint64_t after,
                                                 std::function<bool(const feed_item&)> on_item,
                                                 std::chrono::milliseconds idle_poll) {
  auto sub = std::make_shared<impl::feed_follower>();
  if (impl_->stopped.load()) return std::make_unique<subscription>([] {});
  auto* self = this;
  auto& signal = impl_->env.feed;
  sub->listener = signal.listen([f = sub.get()] { f->wake(); });
  sub->thread = std::thread([self, sub, after, on_item, idle_poll, &signal] {
    uint64_t pos = after;
    while (!sub->stop.load()) {
      const uint64_t seen = signal.commits();
      auto batch = self->read_feed(pos, 1024);
      if (!batch) {
        fmt::print(stderr, "[error] feed subscription stopped at position {}: {}\n", pos,
                   to_string(batch.error()));
        return;
      }
      for (const auto& item : *batch) {
        if (sub->stop.load() || !on_item(item)) return;
        pos = item.position;
      }
      if (batch->empty() && !sub->stop.load()) sub->wait(signal, seen, idle_poll);
    }
  });
  {
    std::lock_guard<std::mutex> g{impl_->subscriptions_mu};
    impl_->subscriptions.push_back(sub);
  }
  return std::make_unique<subscription>([sub] { sub->end(); });
}

feed_signal& runtime_internals::feed_commits(runtime& rt) {
  return rt.impl_->env.feed;
}

} // namespace ordo
