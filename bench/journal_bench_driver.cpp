// journal_bench's closed-loop driver and its workload: new orders' sagas, 5% to old orders.
#include "bench/journal_bench_driver.hpp"

#include <atomic>
#include <cstdlib>
#include <thread>

#include <fmt/core.h>

namespace journal_bench {

namespace {

// Payloads are random slices of one random buffer: generating them must not compete with
// the writer for the 2 cores.
const std::string& noise() {
  static const std::string buf = [] {
    std::mt19937_64 r(7);
    std::string s(1 << 20, '\0');
    for (auto& c : s)
      c = static_cast<char>('a' + r() % 26);
    return s;
  }();
  return buf;
}

} // namespace

std::string order_id(uint64_t n) {
  return fmt::format("o/{:016x}", n);
}

std::string payload(std::mt19937_64& rng) {
  size_t n = 200 + rng() % 301;
  return noise().substr(rng() % (noise().size() - n), n);
}

caf::expected<std::unique_ptr<journal>> open_journal(const std::string& dir, durability mode,
                                                     bool checkpoints) {
  journal_options o;
  o.dir = dir;
  o.mode = mode;
  if (!checkpoints) { // the restart phase: everything stays in the log's tail
    o.checkpoint_interval_ms = 3'600'000;
    o.checkpoint_max_records = SIZE_MAX;
    o.log_tail_max_bytes = SIZE_MAX;
  }
  o.queue_max_requests = 1 << 20;
  if (const char* w = std::getenv("ORDO_BENCH_WAIT_US")) o.batch_max_wait_us = std::stoull(w);
  return journal::open(o);
}

void preload(journal& j, uint64_t n, std::mt19937_64& rng) {
  std::atomic<uint64_t> done{0};
  for (uint64_t i = 0; i < n; ++i) {
    append_request r;
    r.entity = order_id(i);
    r.events.push_back(payload(rng));
    for (;;) {
      auto err = j.submit(r, [&](caf::expected<append_result>) { ++done; });
      if (!err) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  while (done.load() < n)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

phase_result driver::run(size_t n, double seconds) {
  subs_.assign(n, sub{});
  for (auto& s : subs_)
    start_new_order(s);
  latencies_us_.clear();
  latencies_us_.reserve(1 << 22);
  phase_result res;
  res.submitters = n;
  auto stats0 = j_.stats();
  auto t0 = clock_type::now();
  auto end = t0 + std::chrono::duration<double>(seconds);
  for (size_t i = 0; i < n; ++i)
    submit(i);
  bool stopping = false;
  size_t in_flight = n;
  std::vector<done_item> batch;
  while (in_flight > 0) {
    {
      std::unique_lock<std::mutex> lk{mu_};
      cv_.wait(lk, [&] { return !done_.empty(); });
      batch.swap(done_);
    }
    if (!stopping && clock_type::now() >= end) {
      stopping = true;
      res.seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
    }
    for (const auto& d : batch) {
      auto& s = subs_[d.index];
      if (!stopping) latencies_us_.push_back(d.latency_us);
      if (d.ok) {
        if (!stopping) ++res.events;
        advance(s);
      } else if (d.conflict) {
        ++res.conflicts;
        start_new_order(s);
      } else {
        ++res.errors;
        start_new_order(s);
      }
      if (stopping)
        --in_flight;
      else
        submit(d.index);
    }
    batch.clear();
  }
  auto st = j_.stats();
  res.avg_batch = static_cast<double>(st.requests - stats0.requests) /
                  static_cast<double>(std::max<uint64_t>(1, st.batches - stats0.batches));
  std::sort(latencies_us_.begin(), latencies_us_.end());
  auto pct = [&](double p) {
    if (latencies_us_.empty()) return 0.0;
    auto i = static_cast<size_t>(p * static_cast<double>(latencies_us_.size() - 1));
    return static_cast<double>(latencies_us_[i]) / 1000.0;
  };
  res.p50_ms = pct(0.5);
  res.p99_ms = pct(0.99);
  res.p999_ms = pct(0.999);
  res.max_ms = pct(1.0);
  return res;
}

void driver::start_new_order(sub& s) {
  s.entity = order_id(next_order_++);
  s.seq = 0;
  s.left = 6;
}

void driver::advance(sub& s) {
  if (s.old >= 0) {
    ++old_seq_[static_cast<size_t>(s.old)];
    s.old = -1;
    return;
  }
  ++s.seq;
  if (--s.left == 0) start_new_order(s);
}

void driver::submit(size_t i) {
  auto& s = subs_[i];
  append_request r;
  s.old = -1;
  if (preload_ > 0 && rng_() % 100 < old_percent_) {
    auto idx = rng_() % preload_;
    s.old = static_cast<int64_t>(idx);
    r.entity = order_id(idx);
    r.expected_seq = old_seq_[idx];
  } else {
    r.entity = s.entity;
    r.expected_seq = s.seq;
  }
  r.events.push_back(payload(rng_));
  r.idempotency.push_back({"", fmt::format("cmd-{}", rng_()), "accepted"});
  r.now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
  auto t0 = clock_type::now();
  auto err = j_.submit(std::move(r), [this, i, t0](caf::expected<append_result> res) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - t0);
    done_item d{i, static_cast<bool>(res),
                !res && storage_errc_of(res.error()) == storage_errc::sequence_conflict,
                static_cast<uint32_t>(us.count())};
    std::lock_guard<std::mutex> g{mu_};
    done_.push_back(d);
    cv_.notify_one();
  });
  if (err) {
    fmt::print(stderr, "submit refused: {}\n", describe(err));
    std::exit(1);
  }
}

} // namespace journal_bench
