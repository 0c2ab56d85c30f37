// GET /v1/events: a page of the event feed, and long polls that wait for the next event.
#include <vector>

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

// Long polls: one thread checks the feed head every few ms for the waiting requests — cheap
// (one read of a counter) and bounded (long_polls_max), instead of a thread per request.
void api::waiter_loop() {
  std::unique_lock<std::mutex> g{polls_mu_};
  while (!stopping_) {
    polls_cv_.wait_for(g, std::chrono::milliseconds{10});
    if (polls_.empty()) continue;
    auto head = rt_.feed_head();
    auto now = std::chrono::steady_clock::now();
    std::vector<long_poll> due;
    for (auto it = polls_.begin(); it != polls_.end();) {
      if (stopping_ || now >= it->deadline || !head || *head > it->after) {
        due.push_back(std::move(*it));
        it = polls_.erase(it);
      } else {
        ++it;
      }
    }
    g.unlock();
    for (auto& p : due)
      answer_events(p.after, p.limit, p.respond);
    g.lock();
  }
  auto rest = std::move(polls_);
  g.unlock();
  for (auto& p : rest)
    answer_events(p.after, p.limit, p.respond);
}

} // namespace ordo::node
