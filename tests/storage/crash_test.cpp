// Crash safety: SIGKILL a child appending under load at random moments; every acknowledged
// append must survive whole. ORDO_LONG=1 runs 500 kills instead of 50.
// Negative control: a child that acknowledges before commit must be caught.

#include <doctest/doctest.h>

#include <random>
#include <thread>

#include "child_util.hpp"
#include "crash_checker.hpp"
#include "support/seed.hpp"

using namespace ordo::storage;
using namespace ordo::storage::test;

namespace {

std::vector<std::string> child_entities() {
  std::vector<std::string> out;
  for (int e = 0; e < 64; ++e)
    out.push_back(fmt::format("c{}", e));
  return out;
}

// One run: start the child, let it ack at least one event, kill it after a random delay.
// Returns the lines it wrote.
std::vector<std::string> run_and_kill(const std::string& mode, const std::string& dir, int run,
                                      std::mt19937_64& rng) {
  child_proc c({CRASH_CHILD_PATH, mode, dir, std::to_string(run)});
  REQUIRE(c.started());
  auto now = std::chrono::steady_clock::now;
  c.read_until(now() + std::chrono::seconds(10), 1);
  c.read_until(now() + std::chrono::milliseconds(rng() % 40));
  c.kill_now();
  c.drain();
  int st = c.wait_exit();
  CHECK(WIFSIGNALED(st));
  return std::move(c.lines);
}

} // namespace

TEST_SUITE("storage_crash") {

  TEST_CASE("every acknowledged append survives SIGKILL under load") {
    const uint64_t seed = ordo::test::seed_for("storage_crash");
    std::mt19937_64 rng(seed);
    const char* long_env = std::getenv("ORDO_LONG");
    const int kills = (long_env != nullptr && std::string(long_env) == "1") ? 500 : 50;
    temp_dir d;
    std::vector<ack> acks;
    check_result last;
    for (int run = 0; run < kills; ++run) {
      auto lines = run_and_kill("append", d.path, run, rng);
      parse_acks(lines, acks);
      last = check_store(d.path, acks, child_entities());
      if (!last.clean()) FAIL("after kill ", run, ": ", last.summary());
    }
    MESSAGE(kills, " kills; ", last.summary());
    CHECK(last.acked > static_cast<uint64_t>(kills));
  }

  TEST_CASE("negative control: acking before commit is caught") {
    std::mt19937_64 rng(ordo::test::seed_for("storage_crash_negative"));
    int caught = 0;
    const int runs = 5;
    for (int run = 0; run < runs; ++run) {
      temp_dir d;
      std::vector<ack> acks;
      parse_acks(run_and_kill("lying", d.path, run, rng), acks);
      auto r = check_store(d.path, acks, {});
      if (r.lost > 0) ++caught;
      MESSAGE("lying child run ", run, ": ", r.summary());
    }
    CHECK(caught >= 1);
  }

} // TEST_SUITE
