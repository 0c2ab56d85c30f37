#include "worker.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <random>
#include <stdexcept>

#include <fmt/core.h>

#include "json_scan.hpp"

namespace ordo::loadgen {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr uint64_t timer_tag = UINT64_MAX;
// How often deadlines and pending reconnects are checked: the resolution of --timeout.
constexpr milliseconds scan_period{5};
constexpr milliseconds publish_period{100};
constexpr milliseconds backoff_base{10};
constexpr milliseconds backoff_max{1000};

uint64_t ns_between(clock_type::time_point from, clock_type::time_point to) {
  return to > from ? static_cast<uint64_t>(duration_cast<nanoseconds>(to - from).count()) : 0;
}

} // namespace

worker::worker(const options& opts, unsigned index, unsigned connections, const endpoint& node,
               const run_clock& timeline, ack_log* acks, const std::atomic<bool>& stop)
    : opts_(opts), index_(index), node_(node), clock_(timeline), acks_(acks), stop_(stop),
      slots_(connections), driver_(make_driver(opts, index, connections, timeline, stats_)) {
  idle_.reserve(connections);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (epoll_fd_ < 0 || timer_fd_ < 0)
    throw std::runtime_error(fmt::format("epoll/timerfd: {}", std::strerror(errno)));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = timer_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
  if (opts.open_loop()) total_k_ = first_at_or_after(clock_.end);
}

worker::~worker() {
  for (slot& s : slots_)
    s.conn.close(); // before the epoll fd goes
  if (timer_fd_ >= 0) ::close(timer_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

void worker::run() {
  clock_type::time_point now = clock_type::now();
  for (size_t i = 0; i < slots_.size(); ++i)
    start_connect(i, now);
  clock_type::time_point next_scan = now + scan_period;
  clock_type::time_point next_publish = now + publish_period;
  epoll_event events[256];
  for (;;) {
    now = clock_type::now();
    if (!driver_->active(now) || stop_.load(std::memory_order_relaxed)) break;
    if (opts_.open_loop())
      dispatch_due(now);
    else
      dispatch_idle(now);
    if (now >= next_scan) {
      scan(now);
      next_scan = now + scan_period;
    }
    if (now >= next_publish) {
      publish();
      next_publish = now + publish_period;
    }
    clock_type::time_point wake = std::min(next_scan, next_publish);
    // An idle connection left by dispatch_idle means the driver's next work is in the future
    // (a due poll would have been sent); with none idle, a due poll waits for an answer.
    if (!opts_.open_loop() && !idle_.empty()) wake = std::min(wake, driver_->wake_at());
    if (now < clock_.end) wake = std::min(wake, clock_.end); // a flow may run past it
    // With a backlog every idle connection is already busy: a response, not the clock, is
    // what lets the next request go.
    if (opts_.open_loop() && next_k_ < total_k_ && intended_at(next_k_) > now)
      wake = std::min(wake, intended_at(next_k_));
    arm_timer(wake);
    int n = ::epoll_wait(epoll_fd_, events, static_cast<int>(std::size(events)), -1);
    for (int e = 0; e < n; ++e) {
      if (events[e].data.u64 == timer_tag) {
        uint64_t expirations = 0;
        (void)!::read(timer_fd_, &expirations, sizeof expirations);
        armed_ = {};
        continue;
      }
      handle(static_cast<size_t>(events[e].data.u64), events[e].events);
    }
  }
  if (opts_.open_loop()) {
    uint64_t due = std::min(total_k_, first_at_or_after(clock_type::now() + nanoseconds(1)));
    uint64_t from = std::max(next_k_, first_at_or_after(clock_.measure_start));
    stats_.backlog_at_end = due > from ? due - from : 0;
  }
  driver_->finish(clock_type::now());
  publish();
  for (slot& s : slots_)
    s.conn.close(); // requests still in flight at the end are neither counted nor failed
  done_.store(true, std::memory_order_release);
}

void worker::arm_timer(clock_type::time_point wake) {
  if (wake == armed_) return;
  itimerspec spec{};
  auto ns = duration_cast<nanoseconds>(wake.time_since_epoch()).count();
  spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  ::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
  armed_ = wake;
}

void worker::start_connect(size_t i, clock_type::time_point now) {
  slot& s = slots_[i];
  s.reconnect_pending = false;
  if (!s.conn.connect(epoll_fd_, i, reinterpret_cast<const sockaddr*>(&node_.addr), node_.len)) {
    on_failure(i, failure::conn_error, now);
    return;
  }
  s.deadline = now + opts_.timeout;
}

void worker::handle(size_t i, uint32_t events) {
  slot& s = slots_[i];
  switch (s.conn.on_ready(events)) {
  case http_conn::event::none:
    return;
  case http_conn::event::connected:
    become_ready(i, clock_type::now());
    return;
  case http_conn::event::response:
    on_response(i);
    return;
  case http_conn::event::closed_idle:
    on_failure(i, failure::idle_close, clock_type::now());
    return;
  case http_conn::event::conn_error:
    on_failure(i, failure::conn_error, clock_type::now());
    return;
  case http_conn::event::proto_error:
    on_failure(i, failure::proto_error, clock_type::now());
    return;
  }
}

void worker::on_response(size_t i) {
  clock_type::time_point now = clock_type::now();
  slot& s = slots_[i];
  const http_response_parser& r = s.conn.response();
  s.in_flight = false;
  s.failures = 0;
  uint64_t latency_ns = ns_between(s.intended, now);
  if (measured(s.intended)) {
    op_stats& st = stats_.ops[op_index(s.op)];
    st.c.count_status(r.status());
    st.latency.record(latency_ns);
    if (r.status() >= 200 && r.status() < 300) {
      st.latency_2xx.record(latency_ns);
      st.service_2xx.record(ns_between(s.sent, now));
    }
  }
  progress_local_.c.count_status(r.status());
  progress_local_.latency.record(latency_ns);
  if (s.op == op_kind::place && r.status() >= 200 && r.status() < 300) {
    ++stats_.acked_orders;
    std::string_view id = find_order_id(r.body());
    // An acknowledged placement without a readable id is still logged, visibly, for the audit.
    if (acks_ != nullptr) acks_->append(id.empty() ? std::string_view("?") : id, s.idem_key);
  }
  driver_->on_answer(i, s.op, r.status(), r.body(), now);
  if (!r.keep_alive()) {
    s.conn.close(); // the server's choice, not a failure: reconnect at once
    start_connect(i, now);
    return;
  }
  become_ready(i, now);
}

void worker::on_failure(size_t i, failure kind, clock_type::time_point now) {
  slot& s = slots_[i];
  s.conn.close();
  if (kind != failure::idle_close) {
    counters* c = nullptr;
    if (s.in_flight)
      c = measured(s.intended) ? &stats_.ops[op_index(s.op)].c : nullptr;
    else
      c = measured(now) ? &stats_.unassigned : nullptr;
    for (counters* target : {c, &progress_local_.c}) {
      if (target == nullptr) continue;
      if (kind == failure::timeout)
        ++target->timeouts;
      else if (kind == failure::proto_error)
        ++target->proto_errors;
      else
        ++target->conn_errors;
    }
  }
  if (s.in_flight) driver_->on_lost(i, s.op, now);
  s.in_flight = false;
  // Jittered exponential backoff so a restarting node is not hit by every connection at once.
  // An idle keep-alive close reconnects at once the first time, but repeated ones back off
  // too (a server that accepts and drops must not make us spin).
  unsigned step = kind == failure::idle_close ? s.failures : s.failures + 1;
  ++s.failures;
  nanoseconds delay{0};
  if (step > 0) {
    auto base = std::min<nanoseconds>(backoff_max, backoff_base * (1u << std::min(step - 1, 7u)));
    double jitter = std::uniform_real_distribution<double>(0.5, 1.5)(driver_->rng());
    delay = duration_cast<nanoseconds>(base * jitter);
  }
  if (delay.count() == 0) {
    start_connect(i, now);
    return;
  }
  s.reconnect_pending = true;
  s.reconnect_at = now + delay;
}

void worker::become_ready(size_t i, clock_type::time_point now) {
  if (!driver_->active(now)) return;
  if (!opts_.open_loop()) {
    if (!send_on(i, now, now)) mark_idle(i);
    return;
  }
  mark_idle(i);
  dispatch_due(now);
}

void worker::mark_idle(size_t i) {
  slot& s = slots_[i];
  if (!s.listed_idle) {
    s.listed_idle = true;
    idle_.push_back(i);
  }
}

bool worker::send_on(size_t i, clock_type::time_point intended, clock_type::time_point now) {
  slot& s = slots_[i];
  if (!driver_->next(i, now, s.op, request_, s.idem_key)) return false;
  s.intended = intended;
  s.sent = now;
  s.deadline = now + opts_.timeout;
  s.in_flight = true;
  if (!s.conn.send(request_)) on_failure(i, failure::conn_error, now);
  return true;
}

void worker::dispatch_idle(clock_type::time_point now) {
  while (!idle_.empty()) {
    size_t i = pop_idle();
    if (i == SIZE_MAX) return;
    if (!send_on(i, now, now)) {
      mark_idle(i);
      return; // the driver has nothing now; it will after an answer or at wake_at()
    }
  }
}

void worker::scan(clock_type::time_point now) {
  for (size_t i = 0; i < slots_.size(); ++i) {
    slot& s = slots_[i];
    switch (s.conn.current_state()) {
    case http_conn::state::closed:
      if (s.reconnect_pending && now >= s.reconnect_at) start_connect(i, now);
      break;
    case http_conn::state::connecting:
      if (now >= s.deadline) on_failure(i, failure::conn_error, now);
      break;
    case http_conn::state::open:
      if (s.in_flight && now >= s.deadline) on_failure(i, failure::timeout, now);
      break;
    }
  }
}

void worker::publish() {
  std::lock_guard<std::mutex> lock(progress_mu_);
  progress_shared_.merge(progress_local_);
  progress_local_.reset();
}

void worker::take_progress(op_stats& into) {
  std::lock_guard<std::mutex> lock(progress_mu_);
  into.merge(progress_shared_);
  progress_shared_.reset();
}

clock_type::time_point worker::intended_at(uint64_t k) const {
  double index = static_cast<double>(index_) + static_cast<double>(k) * opts_.threads;
  return clock_.start + nanoseconds(static_cast<int64_t>(std::llround(index * 1e9 / opts_.rate)));
}

uint64_t worker::first_at_or_after(clock_type::time_point t) const {
  if (t <= clock_.start) return 0;
  double index = static_cast<double>(ns_between(clock_.start, t)) * opts_.rate / 1e9;
  double k = std::ceil((index - index_) / opts_.threads);
  auto guess = static_cast<uint64_t>(std::max(0.0, k));
  // The division may round either way; settle on the exact boundary.
  while (guess > 0 && intended_at(guess - 1) >= t)
    --guess;
  while (intended_at(guess) < t)
    ++guess;
  return guess;
}

size_t worker::pop_idle() {
  while (!idle_.empty()) {
    size_t i = idle_.back();
    idle_.pop_back();
    slot& s = slots_[i];
    s.listed_idle = false;
    // Entries go stale when their connection closed after being listed; skip those.
    if (s.conn.current_state() == http_conn::state::open && !s.in_flight) return i;
  }
  return SIZE_MAX;
}

void worker::dispatch_due(clock_type::time_point now) {
  while (next_k_ < total_k_) {
    clock_type::time_point intended = intended_at(next_k_);
    if (intended > now) return;
    if (now - intended > opts_.timeout) {
      // Waited longer than the timeout for a connection: give up on every request this late
      // at once (keeps the backlog bounded by rate x timeout).
      uint64_t late_end = std::min(total_k_, first_at_or_after(now - opts_.timeout));
      uint64_t first_measured = std::max(next_k_, first_at_or_after(clock_.measure_start));
      if (late_end > first_measured) stats_.unassigned.unsent += late_end - first_measured;
      progress_local_.c.unsent += late_end - next_k_;
      next_k_ = late_end;
      continue;
    }
    size_t i = pop_idle();
    if (i == SIZE_MAX) return;
    send_on(i, intended, now); // the mix always has a request
    ++next_k_;
  }
}

} // namespace ordo::loadgen
