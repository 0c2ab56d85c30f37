#include "actors/saga/saga_dispatcher.hpp"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include <fmt/core.h>

#include <caf/send.hpp>

#include "actors/runtime/models.hpp"
#include "domain/envelope.hpp"
#include "ordo/runtime.hpp"
#include "ordo/outcome_code.hpp"
#include "storage/journal.hpp"

namespace ordo::saga {

struct dispatcher::command_job {
  uint64_t pos = 0;
  bool to_order = true;
  v1::OrderCommand order;
  v1::InventoryCommand inventory;
  std::string key;
  answer_fn then;
  int failures = 0, overloads = 0;
  bool parked = false;
  std::string what() const { return fmt::format("command {}", key); }
};

struct dispatcher::payment_job {
  uint64_t pos = 0;
  pay_op op = pay_op::authorize;
  payment_request req;
  paid_fn then;
  std::function<bool()> still_needed;
  int attempt = 0;
  bool done = false;
  bool parked = false;
  std::string what() const { return fmt::format("payment call {}", req.idempotency_key); }
};

dispatcher::dispatcher(runtime& rt, storage::journal& j, saga_config cfg,
                       std::shared_ptr<payment_gateway> gateway, std::function<int64_t()> now_ms,
                       timer_deadlines& deadlines, feed_signal& feed, caf::actor_system& sys,
                       std::function<void(std::function<void()>)> deliver)
    : rt_(rt), journal_(j), cfg_(std::move(cfg)), gateway_(std::move(gateway)),
      now_ms_(std::move(now_ms)), deadlines_(deadlines), feed_(feed), sys_(sys),
      deliver_(std::move(deliver)), gate_(std::make_shared<gate>()) {
  if (cfg_.start_after) {
    read_upto_ = *cfg_.start_after;
  } else if (auto off = journal_.load_offset(offset_name); off && *off) {
    read_upto_ = **off;
  } else if (!off) {
    fmt::print(stderr, "[error] saga: cannot load offset: {}; starting at 0\n",
               to_string(off.error()));
  }
  saved_ = read_upto_;
  // Held until the state above is complete: the actor's first messages wait for it.
  std::lock_guard<std::mutex> lock{gate_->mu};
  spawn_actor(sys);
}

dispatcher::~dispatcher() {
  stop();
}

void dispatcher::stop() {
  std::lock_guard<std::mutex> lock{gate_->mu};
  if (!gate_->open) return;
  gate_->open = false;
  feed_listener_.reset();
  save_offset();
  caf::anon_send_exit(self_, caf::exit_reason::user_shutdown);
}

saga_stats dispatcher::stats() const {
  std::lock_guard<std::mutex> g{stats_mu_};
  return stats_;
}

void dispatcher::read_feed() {
  if (feed_broken_ || holds_.size() >= cfg_.events_in_flight_max) return;
  size_t room = std::min<size_t>(512, cfg_.events_in_flight_max - holds_.size());
  // Only order events are parsed (inventory events, a third of a saga's feed, are skipped by
  // their storage key), into one arena that frees the batch at once: parsing and freeing
  // envelopes was half of this thread's CPU (docs/saga.md, "Performance").
  google::protobuf::Arena arena;
  std::vector<std::pair<uint64_t, v1::Envelope*>> batch;
  uint64_t last = read_upto_;
  std::string bad;
  auto err = journal_.read_feed(
      read_upto_, room,
      [&](uint64_t pos, std::string_view entity, uint64_t, std::string_view bytes) {
        if (entity.substr(0, order_model::key_prefix.size()) == order_model::key_prefix) {
          auto* e = google::protobuf::Arena::CreateMessage<v1::Envelope>(&arena);
          if (!e->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
            bad = fmt::format("corrupted: feed record at position {}: not an envelope", pos);
            return false;
          }
          // Refused when written by a newer schema, upcast otherwise (domain/envelope.hpp).
          if (auto error = domain::check_event(*e)) {
            bad = fmt::format("{}: feed record at position {}: {}",
                              error->code == domain::event_read_errc::schema_too_new
                                  ? "schema_too_new"
                                  : "corrupted",
                              pos, error->message);
            return false;
          }
          batch.emplace_back(pos, e);
        }
        last = pos;
        return true;
      });
  if (err || !bad.empty()) {
    // Corruption or truncation: stop here, loudly; the offset stays before the bad record.
    fmt::print(stderr,
               "[error] saga: reading the feed after position {} failed: {}; the saga "
               "stops following the feed\n",
               read_upto_, err ? to_string(err) : bad);
    feed_broken_ = true;
    return;
  }
  for (const auto& [pos, e] : batch) {
    read_upto_ = pos;
    if (e->has_order_event()) on_event(pos, *e);
  }
  read_upto_ = last; // past the inventory events after the last order event
}

uint64_t dispatcher::low_water() const {
  return holds_.empty() ? read_upto_ : holds_.begin()->first - 1;
}

void dispatcher::save_offset() {
  auto lw = low_water();
  {
    std::lock_guard<std::mutex> g{stats_mu_};
    stats_.low_water = lw;
  }
  if (lw == saved_) return;
  if (auto err = journal_.save_offset(offset_name, lw)) {
    // Once per failure, not every offset_save_every: a fail-stopped journal stays failed.
    if (!offset_save_failing_)
      fmt::print(stderr, "[error] saga: saving offset {} failed: {} (retried quietly)\n", lw,
                 to_string(err));
    offset_save_failing_ = true;
    return;
  }
  offset_save_failing_ = false;
  saved_ = lw;
}

void dispatcher::hold(uint64_t pos) {
  if (pos != 0) ++holds_[pos];
}

void dispatcher::release(uint64_t pos) {
  if (pos == 0) return;
  auto it = holds_.find(pos);
  if (it != holds_.end() && --it->second == 0) holds_.erase(it);
  if (waiting_for_room_ && holds_.size() < cfg_.events_in_flight_max) {
    waiting_for_room_ = false;
    schedule_feed();
  }
}

std::chrono::milliseconds dispatcher::backoff(int attempt) {
  auto base = cfg_.backoff_base.count() << std::min(attempt, 16);
  auto capped = std::min<int64_t>(base, cfg_.backoff_max.count());
  std::uniform_int_distribution<int64_t> jitter(capped / 2, std::max<int64_t>(capped, 1));
  return std::chrono::milliseconds{jitter(rng_)};
}

void dispatcher::park(bool& parked, uint64_t pos, const std::string& what, const std::string& why,
                      task again) {
  const auto every = cfg_.parked_retry_every;
  if (!parked) {
    parked = true;
    {
      std::lock_guard<std::mutex> g{stats_mu_};
      ++stats_.stuck;
    }
    if (every.count() > 0)
      fmt::print(stderr,
                 "[error] saga: {} (feed position {}) failed after its retries: {}; parked: "
                 "tried again every {} ms while the node runs, the saga offset stays before "
                 "it\n",
                 what, pos, why, every.count());
    else
      fmt::print(stderr,
                 "[error] saga: {} (feed position {}) gave up: {}; the saga offset stays "
                 "before it, so a restart retries\n",
                 what, pos, why);
  }
  if (every.count() > 0) after(every, std::move(again));
}

void dispatcher::unpark(bool& parked, const std::function<std::string()>& what) {
  if (!parked) return; // the common case: nothing to describe
  parked = false;
  {
    std::lock_guard<std::mutex> g{stats_mu_};
    --stats_.stuck;
    ++stats_.recovered;
  }
  fmt::print(stderr, "[info] saga: {} done after being parked\n", what());
}

void dispatcher::order_command(uint64_t pos, v1::OrderCommand cmd, std::string key,
                               answer_fn then) {
  auto job = std::make_shared<command_job>();
  job->pos = pos;
  job->order = std::move(cmd);
  job->key = std::move(key);
  job->then = std::move(then);
  hold(pos);
  submit(std::move(job));
}

void dispatcher::inventory_command(uint64_t pos, v1::InventoryCommand cmd, std::string key,
                                   answer_fn then) {
  auto job = std::make_shared<command_job>();
  job->pos = pos;
  job->to_order = false;
  job->inventory = std::move(cmd);
  job->key = std::move(key);
  job->then = std::move(then);
  hold(pos);
  submit(std::move(job));
}

void dispatcher::submit(std::shared_ptr<command_job> job) {
  {
    std::lock_guard<std::mutex> g{stats_mu_};
    ++stats_.commands;
  }
  auto done = [this, mb = mailbox(), job](outcome o) {
    mb([this, job, o = std::move(o)]() mutable { on_answer(job, std::move(o)); });
  };
  if (job->to_order)
    rt_.submit_order(job->order, job->key, std::move(done));
  else
    rt_.submit_inventory(job->inventory, job->key, std::move(done));
}

void dispatcher::on_answer(const std::shared_ptr<command_job>& job, outcome o) {
  if (o.status == outcome_status::accepted || o.status == outcome_status::rejected) {
    unpark(job->parked, [&] { return job->what(); });
    if (job->then) job->then(o);
    release(job->pos);
    return;
  }
  const auto& row = row_of(o.code);
  // The node is shutting down: the restart retries.
  if (row.code == outcome_code::stopping) return;
  // Backpressure, an owner node that is down, and a shard between owners (cluster) are
  // waits, not failures (include/ordo/outcome_code.hpp): the longer budget lets in-flight
  // sagas resume when the node is back or the handoff is done (~200 s at 1 s backoff).
  bool over = o.status == outcome_status::overloaded || row.wait;
  int n = over ? ++job->overloads : ++job->failures;
  if (n > (over ? cfg_.overloaded_retries_max : cfg_.retries_max)) {
    park(job->parked, job->pos, job->what(),
         fmt::format("{} {}: {}", to_string(o.status), o.code, o.message),
         [this, job] { submit(job); });
    return;
  }
  {
    std::lock_guard<std::mutex> g{stats_mu_};
    ++stats_.retries;
  }
  after(backoff(n), [this, job] { submit(job); });
}

void dispatcher::pay(uint64_t pos, pay_op op, payment_request req, paid_fn then,
                     std::function<bool()> still_needed) {
  auto job = std::make_shared<payment_job>();
  job->pos = pos;
  job->op = op;
  job->req = std::move(req);
  job->then = std::move(then);
  job->still_needed = std::move(still_needed);
  hold(pos);
  call_gateway(std::move(job));
}

void dispatcher::call_gateway(std::shared_ptr<payment_job> job) {
  if (job->done) return; // a late answer to an earlier attempt finished it meanwhile
  if (job->attempt > 0 && job->still_needed && !job->still_needed()) {
    job->done = true; // the order moved on (e.g. timed out): nothing left to do
    unpark(job->parked, [&] { return job->what(); });
    release(job->pos);
    return;
  }
  int attempt = ++job->attempt;
  {
    std::lock_guard<std::mutex> g{stats_mu_};
    ++stats_.gateway_calls;
  }
  auto retry = [this, job](const std::string& why) {
    if (job->attempt > cfg_.retries_max) {
      park(job->parked, job->pos, job->what(), why, [this, job] { call_gateway(job); });
      return;
    }
    {
      std::lock_guard<std::mutex> g{stats_mu_};
      ++stats_.retries;
    }
    after(backoff(job->attempt), [this, job] { call_gateway(job); });
  };
  auto done = [this, mb = mailbox(), job, retry, attempt](payment_result r) {
    mb([job, retry, attempt, r = std::move(r), this]() {
      if (job->done) return; // a late answer to an attempt we already replaced
      if (r.status == payment_status::failed) {
        if (attempt == job->attempt) retry("gateway error: " + r.reason);
        return;
      }
      job->done = true;
      unpark(job->parked, [&] { return job->what(); });
      if (job->then && r.status != payment_status::pending) job->then(r);
      release(job->pos);
    });
  };
  after(cfg_.gateway_call_timeout, [job, retry, attempt] {
    if (!job->done && attempt == job->attempt) retry("no answer within the call timeout");
  });
  switch (job->op) {
  case pay_op::authorize:
    gateway_->authorize(job->req, std::move(done));
    break;
  case pay_op::capture:
    gateway_->capture(job->req, std::move(done));
    break;
  case pay_op::void_payment:
    gateway_->void_payment(job->req, std::move(done));
    break;
  case pay_op::refund:
    gateway_->refund(job->req, std::move(done));
    break;
  }
}

} // namespace ordo::saga
