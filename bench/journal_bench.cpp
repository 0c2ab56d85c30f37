// journal_bench: durable appends/s and commit latency (submit -> completion) of the storage
// journal on real LMDB with full sync, for 1, 16, 256 and 4096 closed-loop submitters, then
// replay speed, then a restart after kill -9 with a full un-checkpointed log. Prints a human
// summary and, as the last line, one JSON object.
//
//   journal_bench [--dir D] [--seconds S] [--preload N] [--submitters 1,16,256,4096]
//                 [--old-percent 5] [--restart-mb 64] [--keep]
//
// The physical floor: before the phases, 4 KiB pwrite + fdatasync one at a time, sequentially
// into a zero-filled file in the same directory (what one log frame costs at best); the
// 1-submitter p50 is reported as a multiple of that p50. After the table, one line per phase
// splits the log appends (frame write + fdatasync) into those that overlapped a checkpoint's
// LMDB commit and those that did not: what the checkpoints' I/O costs the commit point.
//
// Workload: each submitter walks one order's saga (6 appends of one 200-500 byte event plus an
// idempotency record), then starts a NEW order with a fresh time-ordered id; 5% of appends go
// to a random old order among the --preload (default 1,000,000) orders created up front.

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "bench/journal_bench_driver.hpp"

using namespace journal_bench;

namespace {

struct flags {
  std::string dir;
  double seconds = 10;
  uint64_t preload = 1'000'000;
  std::vector<size_t> submitters{1, 16, 256, 4096};
  uint64_t old_percent = 5;
  uint64_t restart_mb = 64;
  bool keep = false;
};

flags parse(int argc, char** argv) {
  flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "missing value for {}\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--dir")
      f.dir = next();
    else if (a == "--seconds")
      f.seconds = std::stod(next());
    else if (a == "--restart-mb")
      f.restart_mb = std::stoull(next());
    else if (a == "--preload")
      f.preload = std::stoull(next());
    else if (a == "--keep")
      f.keep = true;
    else if (a == "--old-percent")
      f.old_percent = std::stoull(next());
    else if (a == "--submitters") {
      f.submitters.clear();
      auto s = next();
      for (size_t p = 0; p < s.size();) {
        auto q = s.find(',', p);
        f.submitters.push_back(std::stoul(s.substr(p, q - p)));
        p = q == std::string::npos ? s.size() : q + 1;
      }
    } else {
      fmt::print(stderr, "usage: journal_bench [--dir D] [--seconds S] [--preload N] "
                         "[--submitters 1,16,256,4096] [--old-percent 5] [--keep]\n");
      std::exit(2);
    }
  }
  return f;
}

// p50/p99 of 4 KiB pwrite + fdatasync, one at a time, sequential offsets in a zero-filled file.
struct floor_result {
  double p50_ms = 0, p99_ms = 0;
  uint64_t n = 0;
};
floor_result raw_floor(const std::string& dir, double seconds) {
  const auto path = dir + "/floor.tmp";
  const size_t file_bytes = size_t{64} << 20;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return {};
  std::string zeros(size_t{1} << 20, '\0');
  for (size_t at = 0; at < file_bytes; at += zeros.size())
    if (::pwrite(fd, zeros.data(), zeros.size(), static_cast<off_t>(at)) < 0) break;
  ::fdatasync(fd);
  std::string page(4096, 'p');
  std::vector<double> ms;
  auto end = clock_type::now() + std::chrono::duration<double>(seconds);
  for (size_t at = 0; clock_type::now() < end; at = (at + 4096) % file_bytes) {
    auto t0 = clock_type::now();
    if (::pwrite(fd, page.data(), page.size(), static_cast<off_t>(at)) < 0 || ::fdatasync(fd) != 0)
      break;
    ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
  }
  ::close(fd);
  ::unlink(path.c_str());
  floor_result r;
  if (ms.empty()) return r;
  std::sort(ms.begin(), ms.end());
  r.n = ms.size();
  r.p50_ms = ms[ms.size() / 2];
  r.p99_ms = ms[static_cast<size_t>(0.99 * static_cast<double>(ms.size() - 1))];
  return r;
}

struct restart_result {
  double open_s = 0, close_s = 0;
  uint64_t frames = 0, records = 0, bytes = 0;
};

// A child fills the log's tail (checkpoints off) to `mb` MiB with 256 submitters and exits
// without closing, as kill -9 would leave it; the parent times open() — the replay of the whole
// tail into memory, after which the store serves — and then close(), which checkpoints it.
restart_result restart_phase(const std::string& dir, uint64_t mb) {
  restart_result r;
  pid_t pid = ::fork();
  if (pid == 0) {
    auto j = open_journal(dir, durability::full_sync, false);
    if (!j) _exit(3);
    std::mt19937_64 rng(7);
    uint64_t next = 0;
    std::vector<uint8_t> none;
    driver d(**j, rng, 0, 0, next, none);
    while ((*j)->stats().tail_bytes < (mb << 20))
      d.run(256, 0.5);
    _exit(0); // no close(): the tail is in the log only
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fmt::print(stderr, "restart phase: the child failed ({})\n", st);
    return r;
  }
  auto t0 = clock_type::now();
  auto j = open_journal(dir, durability::full_sync);
  if (!j) {
    fmt::print(stderr, "restart phase: open: {}\n", describe(j.error()));
    return r;
  }
  auto head = (*j)->feed_head(); // served from the replayed tail
  r.open_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (!head) fmt::print(stderr, "restart phase: feed_head: {}\n", describe(head.error()));
  auto s = (*j)->stats();
  r.frames = s.log_position - s.applied_position;
  r.records = s.tail_records;
  r.bytes = s.tail_bytes;
  auto t1 = clock_type::now();
  (*j)->close();
  r.close_s = std::chrono::duration<double>(clock_type::now() - t1).count();
  return r;
}

// The preloaded old orders, written without sync (setup only, not measured) and then flushed
// so their writeback does not land in the phases. False if the store did not open.
bool preload_store(const flags& f, std::mt19937_64& rng) {
  auto t_pre = clock_type::now();
  {
    auto j = open_journal(f.dir, durability::no_sync);
    if (!j) {
      fmt::print(stderr, "open: {}\n", describe(j.error()));
      return false;
    }
    preload(**j, f.preload, rng);
  }
  // The preload ran without sync: flush it now so its writeback does not land in the phases.
  if (int fd = ::open((f.dir + "/data.mdb").c_str(), O_RDONLY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  fmt::print("preload: {} orders in {:.1f} s (no_sync, setup only)\n", f.preload,
             std::chrono::duration<double>(clock_type::now() - t_pre).count());
  return true;
}

// One closed-loop phase per submitter count: a table row each, then one line per phase on what
// the checkpoints cost the log appends.
std::vector<phase_result> run_phases(journal& j, driver& drv, const flags& f) {
  std::vector<phase_result> results;
  fmt::print("\n{:>10} {:>12} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7} {:>7}\n", "submitters",
             "appends/s", "p50 ms", "p99 ms", "p999 ms", "max ms", "conflicts", "errors", "batch");
  std::vector<std::string> io_lines; // per phase: what the checkpoints cost the log appends
  for (auto n : f.submitters) {
    const auto before = j.stats();
    auto r = drv.run(n, f.seconds);
    const auto after = j.stats();
    fmt::print("{:>10} {:>12.0f} {:>9.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>10} {:>7} {:>7.0f}\n", n,
               r.per_s(), r.p50_ms, r.p99_ms, r.p999_ms, r.max_ms, r.conflicts, r.errors,
               r.avg_batch);
    results.push_back(r);
    auto avg_ms = [](uint64_t us, uint64_t count) {
      return count == 0 ? 0.0 : static_cast<double>(us) / 1e3 / static_cast<double>(count);
    };
    const uint64_t nq = after.log_appends_quiet - before.log_appends_quiet;
    const uint64_t no = after.log_appends_overlap - before.log_appends_overlap;
    io_lines.push_back(fmt::format(
        "{:>10}: log appends (write + fdatasync) {} alone, mean {:.3f} ms; {} overlapping a "
        "checkpoint commit, mean {:.3f} ms; {} checkpoints ({:.2f} s); {} batches waited for "
        "room in the tail",
        n, nq, avg_ms(after.log_append_us_quiet - before.log_append_us_quiet, nq), no,
        avg_ms(after.log_append_us_overlap - before.log_append_us_overlap, no),
        after.checkpoints - before.checkpoints,
        static_cast<double>(after.checkpoint_us_sum - before.checkpoint_us_sum) / 1e6,
        after.tail_waits - before.tail_waits));
  }
  fmt::print("\n");
  for (const auto& line : io_lines)
    fmt::print("{}\n", line);
  return results;
}

struct replay_result {
  double events_per_s = 0, feed_events_per_s = 0;
};

// Replay: whole histories of many orders (new ones and preloaded ones), then the feed from the
// start.
replay_result replay_phase(journal& j, const flags& f, uint64_t next_order,
                           std::mt19937_64& rng) {
  std::vector<uint64_t> sample;
  for (int i = 0; i < 20'000 && next_order > f.preload; ++i)
    sample.push_back(f.preload + rng() % (next_order - f.preload));
  for (int i = 0; i < 20'000 && f.preload > 0; ++i)
    sample.push_back(rng() % f.preload);
  uint64_t replayed = 0, bytes = 0;
  auto t_rep = clock_type::now();
  for (auto id : sample) {
    auto err = j.read_events(order_id(id), 1, [&](uint64_t, std::string_view b) {
      ++replayed;
      bytes += b.size();
      return true;
    });
    if (err) fmt::print(stderr, "replay: {}\n", describe(err));
  }
  double rep_s = std::chrono::duration<double>(clock_type::now() - t_rep).count();
  uint64_t fed = 0, pos = 0;
  auto t_feed = clock_type::now();
  for (;;) {
    uint64_t got = 0;
    auto err = j.read_feed(pos, 65'536,
                           [&](uint64_t p, std::string_view, uint64_t, std::string_view b) {
                             pos = p;
                             ++got;
                             bytes += b.size();
                             return true;
                           });
    if (err) fmt::print(stderr, "feed: {}\n", describe(err));
    fed += got;
    if (got == 0 || err) break;
  }
  double feed_s = std::chrono::duration<double>(clock_type::now() - t_feed).count();
  replay_result r;
  r.events_per_s = static_cast<double>(replayed) / rep_s;
  r.feed_events_per_s = static_cast<double>(fed) / feed_s;
  fmt::print("\nreplay read_events: {} events of {} orders in {:.2f} s = {:.0f} events/s\n",
             replayed, sample.size(), rep_s, r.events_per_s);
  fmt::print("replay read_feed:   {} events in {:.2f} s = {:.0f} events/s\n", fed, feed_s,
             r.feed_events_per_s);
  return r;
}

// The last line: every figure as one JSON object.
std::string json_summary(const std::vector<phase_result>& results, const replay_result& rp,
                         const floor_result& floor, double p50_1, const restart_result& rr) {
  std::string json = "{";
  for (const auto& r : results)
    json += fmt::format("\"appends_per_s_{0}\": {1:.0f}, \"p50_ms_{0}\": {2:.2f}, "
                        "\"p99_ms_{0}\": {3:.2f}, \"p999_ms_{0}\": {4:.2f}, ",
                        r.submitters, r.per_s(), r.p50_ms, r.p99_ms, r.p999_ms);
  json += fmt::format("\"replay_events_per_s\": {:.0f}, \"feed_events_per_s\": {:.0f}, ",
                      rp.events_per_s, rp.feed_events_per_s);
  json += fmt::format("\"floor_p50_ms\": {:.3f}, \"floor_p99_ms\": {:.3f}, "
                      "\"p50_1_over_floor\": {:.2f}, ",
                      floor.p50_ms, floor.p99_ms, floor.p50_ms > 0 ? p50_1 / floor.p50_ms : 0.0);
  json += fmt::format("\"restart_tail_mb\": {:.1f}, \"restart_records\": {}, "
                      "\"restart_serving_s\": {:.3f}, \"restart_checkpoint_s\": {:.2f}}}",
                      static_cast<double>(rr.bytes) / (1 << 20), rr.records, rr.open_s,
                      rr.close_s);
  return json;
}

} // namespace

int main(int argc, char** argv) {
  auto f = parse(argc, argv);
  bool made_dir = false;
  if (f.dir.empty()) {
    char tmpl[] = "/tmp/ordo-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    f.dir = tmpl;
    made_dir = true;
  }
  std::mt19937_64 rng(42);
  fmt::print("journal_bench: dir {}, {} s per phase, {} preloaded orders ({}% of appends go to "
             "them), full sync\n",
             f.dir, f.seconds, f.preload, f.old_percent);
  if (!preload_store(f, rng)) return 1;
  auto floor = raw_floor(f.dir, 3);
  fmt::print("physical floor: 4 KiB pwrite + fdatasync, sequential, one at a time: p50 {:.3f} ms, "
             "p99 {:.3f} ms ({} writes)\n",
             floor.p50_ms, floor.p99_ms, floor.n);
  auto j = open_journal(f.dir, durability::full_sync);
  if (!j) {
    fmt::print(stderr, "open: {}\n", describe(j.error()));
    return 1;
  }
  std::vector<uint8_t> old_seq(f.preload, 1);
  uint64_t next_order = f.preload;
  driver drv(**j, rng, f.preload, f.old_percent, next_order, old_seq);
  const auto results = run_phases(**j, drv, f);
  const auto rp = replay_phase(**j, f, next_order, rng);
  auto js = (*j)->stats();
  (*j)->close();
  auto size = std::filesystem::file_size(f.dir + "/data.mdb");
  fmt::print("store file: {:.1f} MiB; {} checkpoints applied {} records in {:.1f} s of checkpoint "
             "time; {} log syncs\n",
             static_cast<double>(size) / (1 << 20), js.checkpoints, js.checkpoint_records,
             static_cast<double>(js.checkpoint_us_sum) / 1e6, js.log_syncs);
  double p50_1 = 0;
  for (const auto& r : results)
    if (r.submitters == 1) p50_1 = r.p50_ms;
  if (p50_1 > 0 && floor.p50_ms > 0)
    fmt::print("1 submitter p50 / floor p50 = {:.2f}\n", p50_1 / floor.p50_ms);
  auto rr = restart_phase(f.dir + "/restart", f.restart_mb);
  fmt::print("restart after kill -9 with {:.1f} MiB un-checkpointed ({} frames, {} records): "
             "serving after {:.3f} s ({:.0f} records/s replayed); its checkpoint at close {:.2f} s\n",
             static_cast<double>(rr.bytes) / (1 << 20), rr.frames, rr.records, rr.open_s,
             rr.open_s > 0 ? static_cast<double>(rr.records) / rr.open_s : 0.0, rr.close_s);
  const std::string json = json_summary(results, rp, floor, p50_1, rr);
  if (made_dir && !f.keep) std::filesystem::remove_all(f.dir);
  fmt::print("{}\n", json);
  return 0;
}
