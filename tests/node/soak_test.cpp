// Overload soak: a node (saga on, simulated gateway and warehouse) offered about twice what
// it can take, for minutes. It passes when
//   - memory stays bounded: the node's anonymous RSS in the last third of the run is not
//     above the middle third's peak by more than a margin (live actors, the gateway's keys,
//     queues: all bounded; growth with every order would show here);
//   - the pipeline's backlog stays bounded: the saga never trails the feed without bound
//     (placements are refused while it trails by more than limits.saga_lag_max);
//   - every refusal is explicit: 429 (overloaded) or 503 (Retry-After), never a 5xx error,
//     a reset connection or a timeout;
//   - accepted work stays within its latency budget (p99 of the 2xx answers from the moment
//     each was sent);
//   - every acknowledged placement is there afterwards.
// Capacity is measured first (closed loop, 5 s); the soak then runs open loop at twice it.
// CI form: 120 s. Long form: ORDO_SOAK_SECONDS=1800 build/release/tests/node/node_tests
// --test-suite=node_soak (docs: tests/README.md).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "api_support.hpp"

#ifndef ORDO_LOADGEN_BIN
#error "ORDO_LOADGEN_BIN must name the ordo-loadgen binary"
#endif

using namespace ordo::test;
using ordo::net::http_client;

namespace {

constexpr int skus = 20;
constexpr double p99_budget_ms = 3'000; // accepted work at twice the capacity, 2 shared cores

// loadgen's price of SKU-nnnnn (bench/loadgen/workload.cpp): the SKUs are priced the same.
int64_t loadgen_price(unsigned sku) {
  return 100 + (int64_t{sku} * 7919) % 9900;
}

// The node's anonymous resident memory in KiB (heap, stacks; not the LMDB file mapping).
long rss_anon_kib(pid_t pid) {
  std::ifstream in{fmt::format("/proc/{}/status", pid)};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("RssAnon:", 0) == 0) return std::atol(line.c_str() + 8);
  return -1;
}

// A number from loadgen's last JSON line ("key":value).
double json_number(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  REQUIRE_MESSAGE(at != std::string::npos, key, " missing in ", json);
  return std::atof(json.c_str() + at + key.size() + 3);
}

// Runs ordo-loadgen to its end while `each_second` samples the node; returns its last line.
std::string run_loadgen(const std::vector<std::string>& args,
                        const std::function<void()>& each_second) {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 2); // the per-second progress lines
    ::close(out[0]);
    std::vector<std::string> all = {ORDO_LOADGEN_BIN};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  ::close(out[1]);
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  std::string got;
  int status = 0;
  for (;;) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof buf)) > 0)
      got.append(buf, static_cast<size_t>(n));
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    each_second();
    std::this_thread::sleep_for(std::chrono::seconds{1});
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0)
    got.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  const bool exited_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  REQUIRE_MESSAGE(exited_ok, "ordo-loadgen failed: ", got);
  while (!got.empty() && got.back() == '\n')
    got.pop_back();
  return got.substr(got.rfind('\n') + 1);
}

} // namespace

TEST_SUITE("node_soak") {
  TEST_CASE("twice the capacity for minutes: bounded memory, explicit refusals, fast accepts") {
    const int seconds = std::getenv("ORDO_SOAK_SECONDS") ? std::atoi(std::getenv("ORDO_SOAK_SECONDS"))
                                                         : 120;
    auto dir = fresh_dir("soak");
    // Small bounds, so the run meets every one of them: in-flight commands, live actors, the
    // simulated gateway's remembered keys.
    node_process node{dir,
                      keys_toml(),
                      {"--limits.in_flight_max=256", "--limits.active_max=20000",
                       "--saga.gateway_keys_max=20000", "--http.connections_max=4096",
                       "--http.connections_per_client_max=4096"}};
    REQUIRE_MESSAGE(node.start(), node.why());
    http_client ops{node.url(), ops_key};
    for (unsigned s = 0; s < skus; ++s)
      stock_sku(ops, fmt::format("SKU-{:05}", s), 1'000'000, loadgen_price(s));
    const std::vector<std::string> common = {"--url",  node.url(), "--key", ops_key,
                                             "--skus", std::to_string(skus)};
    auto with = [&](std::vector<std::string> more) {
      more.insert(more.begin(), common.begin(), common.end());
      return more;
    };

    // Capacity: what the node answers 2xx per second in a closed loop.
    auto cal = run_loadgen(with({"--connections", "64", "--duration", "5s", "--warmup", "1s"}),
                           [] {});
    const double capacity = json_number(cal, "status_2xx") / json_number(cal, "duration_s");
    MESSAGE("capacity: ", capacity, " placements/s (closed loop, 64 connections)");
    REQUIRE(capacity > 50);

    // The soak: open loop at twice that.
    std::vector<long> rss;
    std::vector<uint64_t> lag;
    auto saga_lag = [&] {
      auto text = ops.get("/metrics").body;
      const std::string key = "ordo_feed_consumer_lag{consumer=\"saga\"} ";
      auto at = text.find(key);
      return at == std::string::npos ? 0 : std::strtoull(text.c_str() + at + key.size(), nullptr, 10);
    };
    auto acks = dir + "/acks.log";
    auto soak = run_loadgen(
        with({"--rate", fmt::format("{:.0f}", 2 * capacity), "--connections", "512",
              "--duration", fmt::format("{}s", seconds), "--warmup", "2s", "--timeout", "10s",
              "--ack-log", acks}),
        [&] {
          rss.push_back(rss_anon_kib(node.pid()));
          lag.push_back(saga_lag());
        });
    MESSAGE("soak: ", soak);
    // Bounded: after the bounds fill (the first third), the last third's peak is within 10 %
    // (+16 MiB) of the middle third's. Memory that grows with every order grows between them.
    REQUIRE(rss.size() > 15);
    const auto third = static_cast<long>(rss.size() / 3);
    const long middle_peak = *std::max_element(rss.begin() + third, rss.begin() + 2 * third);
    const long last_peak = *std::max_element(rss.begin() + 2 * third, rss.end());
    std::string curve;
    for (size_t i = 0; i < rss.size(); i += std::max<size_t>(1, rss.size() / 12))
      curve += fmt::format(" {}s:{}", i, rss[i] / 1024);
    MESSAGE("RssAnon MiB over time:", curve, "; middle third peak ", middle_peak / 1024,
            ", last third peak ", last_peak / 1024);
    const long allowed = middle_peak + middle_peak / 10 + 16 * 1024;
    CHECK(last_peak <= allowed);
    CHECK(last_peak < 2L * 1024 * 1024); // 2 GiB: far above any bounded configuration
    // The saga's backlog: placements get 429 while it trails the feed by more than
    // limits.saga_lag_max (100,000), but orders admitted before keep adding their later events
    // (stock, payment, shipping), so it swings above the limit. Seen over 120 s at 2x the
    // closed-loop capacity: 50K-211K positions; with the admission off (saga_lag_max = 0)
    // 105K-370K. The check catches a saga that stalls or trails without bound (at this rate
    // the feed grows by millions of positions in 120 s), not the swing.
    std::string lag_curve;
    for (size_t i = 0; i < lag.size(); i += std::max<size_t>(1, lag.size() / 12))
      lag_curve += fmt::format(" {}s:{}", i, lag[i]);
    MESSAGE("saga lag (feed positions) over time:", lag_curve);
    CHECK(*std::max_element(lag.begin(), lag.end()) <= 1'000'000);
    // Refusals are explicit; nothing failed otherwise.
    CHECK(json_number(soak, "status_429") > 0); // the overload really happened
    CHECK(json_number(soak, "status_5xx") == 0);
    CHECK(json_number(soak, "status_4xx") == 0);
    CHECK(json_number(soak, "status_other") == 0);
    CHECK(json_number(soak, "conn_errors") == 0);
    CHECK(json_number(soak, "timeouts") == 0);
    CHECK(json_number(soak, "proto_errors") == 0);
    const double accepted_min = capacity * seconds / 4;
    CHECK(json_number(soak, "status_2xx") > accepted_min);
    // Once sent, accepted work is answered within the budget. (Measured from each request's
    // intended time it is not: at twice the capacity the load generator, on the same 2 cores,
    // cannot even send every request in time — `unsent`, `p99_2xx_ms` — while the node is
    // busy refusing the excess; that queue is the client's, and it is reported, not judged.)
    CHECK(json_number(soak, "p99_2xx_service_ms") <= p99_budget_ms);
    // Every acknowledged placement is there.
    std::ifstream in{acks};
    std::string id, key;
    int checked = 0, missing = 0;
    while (in >> id >> key)
      if (checked++ % 97 == 0 && ops.get("/v1/orders/" + id).status != 200) ++missing;
    CHECK(checked > 0);
    CHECK(missing == 0);
    CHECK(node.stop() == 0);
  }
}
