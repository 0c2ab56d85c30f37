#include "image_check.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

#include <fmt/core.h>

#include "power_common.hpp"
#include "storage/journal.hpp"

namespace ordo::storage::power {

void expectations::add(std::string_view bytes) {
  partial.append(bytes);
  size_t start = 0;
  for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
    std::istringstream in(partial.substr(start, nl - start));
    std::string tag, a, b, c;
    in >> tag >> a >> b >> c;
    if (tag == "R") {
      opened = true;
    } else if (tag == "A") {
      events[a][std::stoull(b)] = std::stoull(c);
      ++acked_events;
    } else if (tag == "I") {
      idempotency[{a, b}] = c;
    } else if (tag == "S") {
      auto& s = snapshots[a];
      s = std::max<uint64_t>(s, std::stoull(b));
    } else if (tag == "O") {
      auto& o = offsets[a];
      o = std::max<uint64_t>(o, std::stoull(b));
    } else if (tag == "E") {
      errors.push_back(a);
    }
  }
  partial.erase(0, start);
}

std::string image_result::summary() const {
  return fmt::format("open_failed {} crashed {} lost {} acked items, damaged {} read_errors {} "
                     "verify_problems {}+{} (events checked {}){}{}",
                     open_failed, crashed, lost, damaged, read_errors, verify_before, verify_after,
                     events_checked, first_problem.empty() ? "" : ": ", first_problem);
}

namespace {

void note(image_result& r, std::string what) {
  if (r.first_problem.empty()) r.first_problem = std::move(what);
}

void run_verify(const std::string& dir, image_result& r, uint64_t& problems, const char* when) {
  auto rep = verify(dir);
  if (!rep) {
    r.open_failed = true;
    note(r, fmt::format("verify {} cannot open: {}", when, describe(rep.error())));
    return;
  }
  problems += rep->problems.size();
  if (!rep->ok()) note(r, fmt::format("verify {}: {}", when, rep->problems.front()));
}

image_result check_in_process(const std::string& dir, const expectations& e) {
  image_result r;
  run_verify(dir, r, r.verify_before, "before open");
  if (r.verify_before == 1 && r.first_problem.starts_with("verify before open: tables:")) {
    // An LMDB env without the journal's tables: the store rolled back to before
    // journal::open's first commit. After "R" that loses what "R" acknowledged.
    r.verify_before = 0;
    r.first_problem.clear();
    if (e.opened) {
      ++r.lost;
      note(r, "the journal's tables are missing: the store rolled back to before "
              "journal::open committed");
    }
  }
  journal_options o;
  o.dir = dir;
  o.map_size_bytes = uint64_t{1} << 30;
  o.log_segment_bytes = 64 << 10; // as the child wrote them
  auto opened = journal::open(o);
  if (!opened) {
    r.open_failed = true;
    note(r, fmt::format("journal::open: {}", describe(opened.error())));
    return r;
  }
  auto& j = **opened;
  std::set<std::string> entities;
  for (int i = 0; i < child_entities; ++i)
    entities.insert(entity_name(i));
  for (const auto& [entity, acked] : e.events)
    entities.insert(entity);
  for (const auto& entity : entities) {
    std::map<uint64_t, std::string> stored;
    auto err = j.read_events(entity, 1, [&](uint64_t seq, std::string_view bytes) {
      stored.emplace(seq, std::string(bytes));
      return true;
    });
    if (err) {
      ++r.read_errors;
      note(r, fmt::format("read_events({}): {}", entity, describe(err)));
    }
    for (const auto& [seq, bytes] : stored)
      if (bytes != test::payload_for(entity, seq)) {
        ++r.damaged;
        note(r, fmt::format("{} seq {}: stored bytes differ from the written ones", entity, seq));
      }
    auto it = e.events.find(entity);
    if (it == e.events.end()) continue;
    for (const auto& [seq, hash] : it->second) {
      ++r.events_checked;
      auto s = stored.find(seq);
      if (s == stored.end()) {
        ++r.lost;
        note(r, fmt::format("{} seq {} acknowledged, not stored (stored up to {})", entity, seq,
                            stored.empty() ? 0 : stored.rbegin()->first));
      } else if (content_hash(s->second) != hash) {
        ++r.damaged;
        note(r, fmt::format("{} seq {}: content hash differs", entity, seq));
      }
    }
  }
  for (const auto& [key, result] : e.idempotency) {
    auto got = j.find_idempotency(key.first, key.second);
    if (!got) {
      ++r.read_errors;
      note(r, fmt::format("find_idempotency({}, {}): {}", key.first, key.second,
                          describe(got.error())));
    } else if (!*got) {
      ++r.lost;
      note(r,
           fmt::format("idempotency record {}/{} acknowledged, not stored", key.first, key.second));
    } else if (**got != result) {
      ++r.damaged;
      note(r, fmt::format("idempotency record {}/{} differs", key.first, key.second));
    }
  }
  for (const auto& entity : entities) {
    auto got = j.load_snapshot(entity);
    auto acked = e.snapshots.count(entity) != 0 ? e.snapshots.at(entity) : 0;
    if (!got) {
      ++r.read_errors;
      note(r, fmt::format("load_snapshot({}): {}", entity, describe(got.error())));
      continue;
    }
    if (*got && (*got)->bytes != snapshot_for(entity, (*got)->seq)) {
      ++r.damaged;
      note(r, fmt::format("snapshot of {} at {} differs", entity, (*got)->seq));
    }
    if (acked > 0 && (!*got || (*got)->seq < acked)) {
      ++r.lost;
      note(r, fmt::format("snapshot of {} at {} acknowledged, stored: {}", entity, acked,
                          *got ? (*got)->seq : 0));
    }
  }
  for (const auto& [name, position] : e.offsets) {
    auto got = j.load_offset(name);
    if (!got) {
      ++r.read_errors;
      note(r, fmt::format("load_offset({}): {}", name, describe(got.error())));
    } else if (!*got || **got < position) {
      ++r.lost;
      note(r,
           fmt::format("offset {} = {} acknowledged, stored {}", name, position, *got ? **got : 0));
    }
  }
  j.close();
  opened->reset();
  run_verify(dir, r, r.verify_after, "after reopen");
  return r;
}

} // namespace

image_result check_image(const std::string& dir, const expectations& e, int timeout_s) {
  image_result r;
  int fds[2];
  if (pipe(fds) != 0) {
    r.crashed = true;
    r.first_problem = "pipe failed";
    return r;
  }
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    // The forked checker must not run the test framework's crash handlers or exit hooks.
    for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL})
      signal(sig, SIG_DFL);
    close(fds[0]);
    auto res = check_in_process(dir, e);
    auto line = fmt::format("{} {} {} {} {} {} {}\n{}", res.open_failed ? 1 : 0, res.lost,
                            res.damaged, res.read_errors, res.verify_before, res.verify_after,
                            res.events_checked, res.first_problem);
    for (size_t off = 0; off < line.size();) {
      auto n = write(fds[1], line.data() + off, line.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    r.crashed = true;
    r.first_problem = "fork failed";
    return r;
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    auto n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int st = 0;
  waitpid(pid, &st, 0);
  if (timed_out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    r.crashed = true;
    r.first_problem = timed_out
                          ? "checker timed out"
                          : fmt::format("checker died: {}",
                                        WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exit status");
    return r;
  }
  std::istringstream in(out);
  int open_failed = 0;
  in >> open_failed >> r.lost >> r.damaged >> r.read_errors >> r.verify_before >> r.verify_after >>
      r.events_checked;
  r.open_failed = open_failed != 0;
  std::string rest;
  std::getline(in, rest); // the end of the numbers line
  std::getline(in, r.first_problem);
  return r;
}

} // namespace ordo::storage::power
