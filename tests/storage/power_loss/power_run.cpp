#include "power_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <fmt/core.h>

namespace ordo::storage::power {

namespace fs = std::filesystem;

scratch_dir::scratch_dir() {
  char shm[] = "/dev/shm/ordo-power-XXXXXX";
  char tmp[] = "/tmp/ordo-power-XXXXXX";
  if (access("/dev/shm", W_OK) == 0 && mkdtemp(shm) != nullptr)
    path = shm;
  else if (mkdtemp(tmp) != nullptr)
    path = tmp;
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  if (!path.empty()) fs::remove_all(path, ec);
}

bool long_form() {
  const char* v = std::getenv("ORDO_LONG");
  return v != nullptr && std::string(v) == "1";
}

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Starts the child with the shim preloaded and waits (bounded). Returns the wait status.
int spawn_and_wait(const std::vector<std::string>& argv, const std::string& out_path,
                   const std::string& data_dir, const std::string& log_path, int max_seconds) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || dup2(fd, 1) < 0) _exit(126);
    ::close(fd);
    setenv("LD_PRELOAD", POWER_SHIM_PATH, 1);
    setenv("ORDO_PL_DIR", data_dir.c_str(), 1);
    setenv("ORDO_PL_LOG", log_path.c_str(), 1);
    // An ASan-built child refuses a preloaded library ahead of its runtime unless told.
    std::string asan = "verify_asan_link_order=0";
    if (const char* a = std::getenv("ASAN_OPTIONS"); a != nullptr && *a != '\0')
      asan = std::string(a) + ":" + asan;
    setenv("ASAN_OPTIONS", asan.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) return -1;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(max_seconds + 60);
  int st = 0;
  for (;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      return st;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

} // namespace

phase run_phase(const std::string& name, const std::string& mode, const std::string& data_dir,
                const std::string& work_dir, uint64_t batches, int max_seconds) {
  phase ph;
  ph.name = name;
  ph.base = read_files(data_dir);
  auto log_path = work_dir + "/" + name + ".log";
  auto out_path = work_dir + "/" + name + ".out";
  ph.exit_status = spawn_and_wait(
      {POWER_CHILD_PATH, mode, data_dir, std::to_string(batches), std::to_string(max_seconds)},
      out_path, data_dir, log_path, max_seconds);
  ph.stdout_bytes = slurp(out_path);
  if (!WIFEXITED(ph.exit_status) || WEXITSTATUS(ph.exit_status) != 0) {
    ph.problem = fmt::format("child {} {}: wait status {:#x}", mode, name, ph.exit_status);
    return ph;
  }
  std::string err;
  auto log = read_op_log(log_path, err);
  if (!log) {
    ph.problem = err;
    return ph;
  }
  ph.log = std::move(*log);
  if (ph.log.truncated_tail) {
    ph.problem = "op log ends in a partial record";
    return ph;
  }
  // The recording must be complete and faithful before any image means anything.
  std::string markers;
  for (const auto& o : ph.log.ops)
    if (o.type == PL_MARKER) markers.append(o.data);
  if (markers != ph.stdout_bytes) {
    ph.problem = fmt::format("markers ({} bytes) differ from the child's stdout ({} bytes)",
                             markers.size(), ph.stdout_bytes.size());
    return ph;
  }
  if (ph.stdout_bytes.rfind("E ", 0) == 0 || ph.stdout_bytes.find("\nE ") != std::string::npos) {
    ph.problem = "the child reported an error (an E line)";
    return ph;
  }
  image_builder b(ph.log, ph.base);
  b.advance_to(ph.log.ops.size());
  if (!b.problems().empty()) {
    ph.problem = fmt::format("the model cannot represent the log: {}", b.problems().front());
    return ph;
  }
  auto mapped = b.mapped_files();
  for (const auto& m : mapped)
    if (m != "lock.mdb") {
      ph.problem = fmt::format("{} was written through a shared mapping: not modelled", m);
      return ph;
    }
  std::mt19937_64 unused_rng(0);
  auto all = b.image(persist::all, unused_rng);
  auto real = read_files(data_dir);
  for (const auto& [file, bytes] : real) {
    auto it = all.find(file);
    if (it == all.end()) {
      ph.problem = fmt::format("{} exists but the recording never created it", file);
      return ph;
    }
    bool same = mapped.count(file) != 0 ? it->second.size() == bytes.size() : it->second == bytes;
    if (!same) {
      ph.problem = fmt::format("{}: the recording does not reproduce it ({} vs {} bytes)", file,
                               it->second.size(), bytes.size());
      return ph;
    }
  }
  for (const auto& [file, bytes] : all)
    if (real.count(file) == 0) {
      ph.problem = fmt::format("{} is in the recording but not in the directory", file);
      return ph;
    }
  return ph;
}

std::vector<size_t> choose_cuts(const op_log& log, bool syncs, bool acks, size_t random,
                                std::mt19937_64& rng) {
  std::vector<size_t> cuts;
  const auto& ops = log.ops;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (syncs && is_sync_point(ops[i])) cuts.push_back(i + 1);
    if (acks && ops[i].type == PL_MARKER && (i + 1 == ops.size() || ops[i + 1].type != PL_MARKER))
      cuts.push_back(i + 1);
  }
  cuts.push_back(ops.size());
  std::uniform_int_distribution<size_t> any(0, ops.size());
  for (size_t i = 0; i < random; ++i)
    cuts.push_back(any(rng));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

std::vector<cut_spec> mixed_policies(const std::vector<size_t>& cuts, std::mt19937_64& rng) {
  std::discrete_distribution<int> pick({30, 25, 25, 15, 5});
  const persist by_index[] = {persist::synced, persist::subset, persist::torn, persist::ordered,
                              persist::all};
  std::bernoulli_distribution in_flight(0.2);
  std::vector<cut_spec> out;
  for (size_t c : cuts)
    out.push_back({c, by_index[pick(rng)], in_flight(rng)});
  return out;
}

std::vector<cut_spec> one_policy(const std::vector<size_t>& cuts, persist p) {
  std::vector<cut_spec> out;
  for (size_t c : cuts)
    out.push_back({c, p, false});
  return out;
}

std::vector<size_t> thin(const std::vector<size_t>& cuts, size_t n) {
  if (cuts.size() <= n || n == 0) return cuts;
  if (n == 1) return {cuts.back()};
  std::vector<size_t> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(cuts[(cuts.size() - 1) * i / (n - 1)]);
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

expectations after_phase(const phase& ph, expectations before) {
  for (const auto& o : ph.log.ops)
    if (o.type == PL_MARKER) before.add(o.data);
  return before;
}

namespace {

// Keeps a failing image with what is needed to replay it by hand.
void keep_failure(const phase& ph, const file_map& files, const cut_spec& c,
                  const std::string& acks, const std::string& summary, sweep_totals& t) {
  if (t.kept_dir.empty()) {
    if (const char* k = std::getenv("ORDO_POWER_KEEP"); k != nullptr && *k != '\0') {
      t.kept_dir = k;
      fs::create_directories(t.kept_dir);
    } else {
      char tmpl[] = "/tmp/ordo-power-loss-kept-XXXXXX";
      if (mkdtemp(tmpl) == nullptr) return;
      t.kept_dir = tmpl;
    }
  }
  auto phase_dir = t.kept_dir + "/" + ph.name;
  if (!fs::exists(phase_dir + "/op.log")) {
    fs::create_directories(phase_dir);
    std::ofstream(phase_dir + "/op.log", std::ios::binary) << *ph.log.bytes;
    write_image(ph.base, phase_dir + "/base");
  }
  auto dir = fmt::format("{}/cut-{}-{}{}", phase_dir, c.cut, to_string(c.policy),
                         c.in_flight ? "-inflight" : "");
  write_image(files, dir + "/image");
  std::ofstream(dir + "/acks.txt") << acks;
  std::ofstream(dir + "/result.txt") << summary << "\n";
}

} // namespace

void sweep(const phase& ph, const expectations& before, std::vector<cut_spec> cuts,
           model_options mo, std::mt19937_64& rng, bool keep_failures, sweep_totals& t) {
  auto start = std::chrono::steady_clock::now();
  std::stable_sort(cuts.begin(), cuts.end(),
                   [](const cut_spec& a, const cut_spec& b) { return a.cut < b.cut; });
  image_builder b(ph.log, ph.base, mo);
  expectations e = before;
  std::string acks; // this phase's acknowledgements so far (for kept failures)
  size_t markers_to = 0;
  scratch_dir scratch;
  const auto img = scratch.path + "/image";
  size_t kept = 0;
  for (const auto& c : cuts) {
    b.advance_to(c.cut);
    for (; markers_to < c.cut && markers_to < ph.log.ops.size(); ++markers_to)
      if (ph.log.ops[markers_to].type == PL_MARKER) {
        e.add(ph.log.ops[markers_to].data);
        acks.append(ph.log.ops[markers_to].data);
      }
    auto files = b.image(c.policy, rng, c.in_flight);
    std::error_code ec;
    fs::remove_all(img, ec);
    write_image(files, img);
    auto r = check_image(img, e);
    ++t.images;
    ++t.per_policy[to_string(c.policy)];
    t.events_checked += r.events_checked;
    if (r.open_failed && !e.opened && !r.crashed) ++t.unopenable_fresh;
    if (!r.clean(e.opened)) {
      ++t.failed;
      if (r.lost > 0) ++t.with_loss;
      if (e.opened && r.open_failed) ++t.unopenable;
      if (r.crashed || (e.opened && r.verify_before > 0) || r.damaged > 0 || r.read_errors > 0 ||
          r.verify_after > 0)
        ++t.corrupt;
      auto what =
          fmt::format("{} cut {}/{} ({}{}; {} events acked): {}", ph.name, c.cut, ph.log.ops.size(),
                      to_string(c.policy), c.in_flight ? ", next write in flight" : "",
                      e.acked_events, r.summary());
      if (t.failures.size() < 5) t.failures.push_back(what);
      if (t.worst.empty() || r.lost > t.worst_lost) {
        t.worst = what;
        t.worst_lost = r.lost;
      }
      if (keep_failures && kept < 5) {
        keep_failure(ph, files, c, acks, what, t);
        ++kept;
      }
    }
    fs::remove_all(img, ec);
  }
  t.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace ordo::storage::power
