// GET /v1/events: a page of the event feed, and long polls that wait for the next event.
#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/core.h>

#include "actors/journal_io.hpp"
#include "actors/runtime.hpp"
#include "app/node/api.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/errors.hpp"
#include "app/node/json.hpp"
#include "ordo/v1/api.pb.h"

namespace ordo::node {

void api::answer_events(uint64_t after, size_t limit, responder& respond) {
  auto items = rt_.read_feed(after, limit);
  if (!items) {
    // Below the retention's low-water mark: gone for good, and the reader must be told so.
    if (ordo::code_of(items.error()) == "truncated")
      return respond(error(410, "truncated", describe(items.error())));
    respond(error(500, "read_failed", describe(items.error())));
    return;
  }
  v1::FeedPage page;
  page.set_next_after(after);
  for (auto& it : *items) {
    auto* f = page.add_events();
    f->set_position(it.position);
    *f->mutable_event() = std::move(it.event);
    page.set_next_after(it.position);
  }
  respond(json_response(200, json::print(page)));
}

void api::answer_consumers(const http_request& req, std::string_view name, responder& respond) {
  auto head = rt_.feed_head();
  if (!head) return respond(error(500, "read_failed", describe(head.error())));
  auto fill = [&](v1::FeedConsumer& c, std::string_view consumer, uint64_t offset) {
    c.set_name(std::string{consumer});
    c.set_offset(offset);
    c.set_lag(*head > offset ? *head - offset : 0);
  };
  if (req.method == "DELETE") {
    std::string error_text;
    auto last = consumers_.remove(std::string{name}, &error_text);
    if (!error_text.empty()) return respond(error(503, "storage_error", error_text));
    if (!last)
      return respond(
          error(404, "unknown_consumer", fmt::format("no feed consumer named {}", name)));
    v1::FeedConsumer c;
    fill(c, name, *last);
    return respond(json_response(200, json::print(c)));
  }
  v1::FeedConsumers page;
  page.set_head(*head);
  for (auto& [consumer, offset] : consumers_.list())
    fill(*page.add_consumers(), consumer, offset);
  respond(json_response(200, json::print(page)));
}

// Long polls: one thread answers the waiting requests when a commit adds events (the
// runtime's feed signal wakes it; no polling), at their deadline, or at shutdown, and saves
// the named consumers' pending offsets every quarter of http.feed_offset_save_every
// (10-250 ms). Bounded: long_polls_max requests, one thread.
void api::waiter_loop() {
  using clock = std::chrono::steady_clock;
  const auto flush_every =
      std::clamp<clock::duration>(cfg_.http.feed_offset_save_every / 4,
                                  std::chrono::milliseconds{10}, std::chrono::milliseconds{250});
  auto& signal = rt_.feed_commits();
  auto next_flush = clock::now() + flush_every;
  std::unique_lock<std::mutex> g{polls_mu_};
  while (!stopping_) {
    auto now = clock::now();
    if (now >= next_flush) {
      g.unlock();
      consumers_.flush(); // offsets not yet saved for http.feed_offset_save_every
      g.lock();
      next_flush = now + flush_every;
      continue;
    }
    const uint64_t seen = signal.commits(); // before the head: a later commit wakes us
    std::vector<long_poll> due;
    if (!polls_.empty()) {
      auto head = rt_.feed_head();
      for (auto it = polls_.begin(); it != polls_.end();) {
        if (now >= it->deadline || !head || *head > it->after) {
          due.push_back(std::move(*it));
          it = polls_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (!due.empty()) {
      g.unlock();
      for (auto& p : due)
        answer_events(p.after, p.limit, p.respond);
      g.lock();
      continue;
    }
    auto until = next_flush;
    for (const auto& p : polls_)
      until = std::min(until, p.deadline);
    if (!polls_.empty()) {
      feed_listener_->arm(); // its wake takes polls_mu_, held from here until we wait
      if (signal.commits() != seen) {
        feed_listener_->disarm();
        continue;
      }
    }
    polls_cv_.wait_until(g, until); // a new poll, a commit, stop(), or the time
    feed_listener_->disarm();
  }
  auto rest = std::move(polls_);
  g.unlock();
  for (auto& p : rest)
    answer_events(p.after, p.limit, p.respond);
}

} // namespace ordo::node
