// GET /v1/events: a page of the event feed, long polls that wait for the next event, and
// the named consumers.
#include <algorithm>
#include <chrono>
#include <vector>

#include <fmt/core.h>

#include "actors/runtime/internals.hpp"
#include "actors/runtime/journal_io.hpp"
#include "ordo/runtime.hpp"
#include "app/node/api.hpp"
#include "app/node/api_answers.hpp"
#include "app/node/api_request.hpp"
#include "app/node/errors.hpp"
#include "messages/json/json.hpp"
#include "ordo/parse_number.hpp"
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

// GET /v1/events?after=&limit=&wait_ms=&consumer=: a page of the feed; with wait_ms, a long
// poll while nothing follows `after`; with consumer=NAME, a named reader's saved offset.
void api::get_events(const call& c) {
  uint64_t after = 0, limit = 100, wait_ms = 0;
  auto a = query_param(c.req.query, "after"), l = query_param(c.req.query, "limit"),
       w = query_param(c.req.query, "wait_ms");
  std::string consumer{query_param(c.req.query, "consumer")};
  // An absent parameter keeps its default; a present one must be a whole number.
  auto number = [](std::string_view text, uint64_t& out) {
    return text.empty() || parse_u64(text, out) == number_error::none;
  };
  if (!number(a, after) || !number(l, limit) || !number(w, wait_ms) || limit == 0 || limit > 1000)
    return c.respond(error(400, "INVALID_ARGUMENT",
                           "after, limit (1..1000) and wait_ms must be non-negative whole numbers"));
  wait_ms = std::min<uint64_t>(wait_ms, static_cast<uint64_t>(cfg_.http.events_wait_max.count()));
  auto head = rt_.feed_head();
  if (!consumer.empty()) {
    // A named consumer: without ?after= it resumes where it left off; with it, it commits
    // "everything up to `after` is handled" (then reads after it).
    if (!feed_consumers::valid_name(consumer))
      return c.respond(
          error(400, "INVALID_ARGUMENT",
                "consumer must be 1..64 characters of A-Z a-z 0-9 . _ - (not \"saga\")"));
    if (a.empty()) {
      after = consumers_.offset(consumer).value_or(0);
    } else if (head && after > *head) {
      return c.respond(error(400, "after_beyond_head",
                             fmt::format("after={} is beyond the feed head {}: a consumer "
                                         "commits only positions it has read",
                                         after, *head)));
    }
    auto r = consumers_.commit(consumer, after);
    if (r.st == feed_consumers::status::too_many)
      return c.respond(error(409, "too_many_consumers", r.message));
    if (r.st != feed_consumers::status::ok)
      return c.respond(error(503, "storage_error", r.message));
  }
  if (wait_ms == 0 || !head || *head > after) return answer_events(after, limit, c.respond);
  std::unique_lock<std::mutex> g{polls_mu_};
  if (stopping_ || polls_.size() >= long_polls_max) {
    const bool stopping = stopping_;
    g.unlock();
    return c.respond(error(503, stopping ? "stopping" : "too_many_long_polls",
                           fmt::format("at most {} GET /v1/events may wait at once",
                                       long_polls_max)));
  }
  polls_.push_back(long_poll{
      after, limit, std::chrono::steady_clock::now() + std::chrono::milliseconds{wait_ms},
      c.respond});
  g.unlock();
  polls_cv_.notify_one();
}

namespace {

void fill_consumer(v1::FeedConsumer& c, std::string_view name, uint64_t offset, uint64_t head) {
  c.set_name(std::string{name});
  c.set_offset(offset);
  c.set_lag(head > offset ? head - offset : 0);
}

} // namespace

// GET /v1/events/consumers: every named reader, its offset and lag behind the head.
void api::list_consumers(const call& c) {
  auto head = rt_.feed_head();
  if (!head) return c.respond(error(500, "read_failed", describe(head.error())));
  v1::FeedConsumers page;
  page.set_head(*head);
  for (auto& [consumer, offset] : consumers_.list())
    fill_consumer(*page.add_consumers(), consumer, offset, *head);
  c.respond(json_response(200, json::print(page)));
}

// DELETE /v1/events/consumers/NAME: forget a named reader; answers its last offset.
void api::remove_consumer(const call& c) {
  auto head = rt_.feed_head();
  if (!head) return c.respond(error(500, "read_failed", describe(head.error())));
  const auto name = c.at["consumer"];
  std::string error_text;
  auto last = consumers_.remove(std::string{name}, &error_text);
  if (!error_text.empty()) return c.respond(error(503, "storage_error", error_text));
  if (!last)
    return c.respond(error(404, "unknown_consumer", fmt::format("no feed consumer named {}", name)));
  v1::FeedConsumer out;
  fill_consumer(out, name, *last, *head);
  c.respond(json_response(200, json::print(out)));
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
  auto& signal = ordo::runtime_internals::feed_commits(rt_);
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
