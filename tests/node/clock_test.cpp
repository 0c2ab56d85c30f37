// Wall-clock steps on a running node. A real ordo-node runs with its wall clock shifted by an
// offset the test changes while the node runs; CLOCK_MONOTONIC stays real, as it does when
// NTP or an operator steps a real clock. The shift is tests/node/clock_shift.cpp, preloaded
// (libfaketime cannot start a jemalloc-linked ordo-node; ORDO_CLOCK_TOOL=faketime uses it for
// a node built with -DORDO_JEMALLOC=OFF: FAKETIME_TIMESTAMP_FILE + FAKETIME_NO_CACHE=1 +
// FAKETIME_DONT_FAKE_MONOTONIC=1).
// The clock goes real → +3 h → real (a −3 h step) → −3 h, while orders wait for a payment
// that never comes (webhook gateway, 5 s payment timeout). Checked:
//  - no valid command is refused (placements, payment, cancel, shipment, delivery,
//    restock, adjust), although events are now decided before the state's time;
//  - a placement retried with its Idempotency-Key after a step answers the first order id as a
//    duplicate, and the feed holds exactly one OrderPlaced per key; the idempotency retention
//    (4 h, running every 200 ms) expires nothing after the +3 h step (and does after +5 h);
//  - no order is cancelled by the payment timeout before 5 s of REAL time since it was placed
//    (early), and every waiting order is cancelled within 5 s + slack of reaching
//    stock_reserved (late).
// Negative control: the same scenario with ORDO_TEST_WALL_CLOCK_TIMERS=1 (timers fired by the
// wall clock, the rule before steady-clock firing) must show early AND late cancellations.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>

#include "api_support.hpp"

using namespace ordo::test;
using ordo::net::http_client;
using sclock = std::chrono::steady_clock;

namespace {

constexpr auto payment_timeout = std::chrono::seconds{5};
// A timeout fires within a poll (50 ms) and a commit of its deadline; the test polls every
// 50 ms. Generous, because this 2-core machine is shared with builds.
constexpr auto late_slack = std::chrono::seconds{3};
constexpr int64_t hour_ms = 3'600'000;

#ifndef ORDO_CLOCK_SHIFT_LIB
#error "ORDO_CLOCK_SHIFT_LIB must name the clock_shift preload library"
#endif

// libfaketime's multi-threaded preload library; empty when it is not installed.
std::string faketime_lib() {
  if (const char* e = std::getenv("ORDO_FAKETIME_LIB")) return e;
  for (const char* p :
       {"/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/faketime/libfaketimeMT.so.1", "/usr/local/lib/faketime/libfaketimeMT.so.1"})
    if (std::filesystem::exists(p)) return p;
  return {};
}

bool use_faketime() {
  const char* t = std::getenv("ORDO_CLOCK_TOOL");
  return t != nullptr && std::string_view(t) == "faketime";
}

int64_t real_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The node's wall-clock offset, stepped while it runs.
class clock_stepper {
public:
  explicit clock_stepper(const std::string& dir) {
    if (use_faketime()) {
      file_ = dir + "/faketime";
      set(0);
      return;
    }
    // clock_shift.cpp: an int64 of milliseconds, stored atomically into a shared mapping.
    file_ = dir + "/clock-offset";
    int fd = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, 4096) == 0);
    void* m = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    REQUIRE(m != MAP_FAILED);
    offset_ms_ = static_cast<int64_t*>(m);
  }
  ~clock_stepper() {
    if (offset_ms_ != nullptr) ::munmap(offset_ms_, 4096);
  }
  clock_stepper(const clock_stepper&) = delete;
  clock_stepper& operator=(const clock_stepper&) = delete;

  /// What to run the node under.
  std::vector<std::string> env() const {
    if (use_faketime())
      return {"LD_PRELOAD=" + faketime_lib(), "FAKETIME_TIMESTAMP_FILE=" + file_,
              "FAKETIME_NO_CACHE=1", "FAKETIME_DONT_FAKE_MONOTONIC=1", "NO_FAKE_STAT=1"};
    return {std::string("LD_PRELOAD=") + ORDO_CLOCK_SHIFT_LIB, "ORDO_CLOCK_SHIFT_FILE=" + file_};
  }

  void set(int64_t hours) {
    if (offset_ms_ != nullptr) {
      __atomic_store_n(offset_ms_, hours * hour_ms, __ATOMIC_SEQ_CST);
      return;
    }
    // libfaketime re-reads the file on every call: write it whole, then rename it in place.
    auto tmp = file_ + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fprintf(f, "%+lld\n", static_cast<long long>(hours * 3'600));
    std::fclose(f);
    REQUIRE(std::rename(tmp.c_str(), file_.c_str()) == 0);
  }

private:
  std::string file_;
  int64_t* offset_ms_ = nullptr;
};

std::string clock_config(std::chrono::seconds timeout = payment_timeout) {
  return fmt::format(R"(
[saga]
gateway = "webhook"
fulfilment = "external"
payment_timeout = "{}s"
)",
                     timeout.count()) +
         R"([payments]
webhook_secret = "clock-test-webhook-secret"
[journal]
idempotency_retention = "4h"
retention_every = "200ms"
)" + keys_toml();
}

// What one run saw. The real test wants every list empty; the negative control wants early
// and late cancellations.
struct report {
  std::vector<std::string> refused;    // a valid command answered other than 2xx
  std::vector<std::string> duplicated; // a retried placement not deduplicated
  std::vector<std::string> early;      // cancelled by the timeout before its real timeout
  std::vector<std::string> late;       // not cancelled by the timeout in time
  std::vector<std::string> other;      // anything else off (setup, steps not visible, ...)
  int64_t cancelled_after_min_ms = INT64_MAX, cancelled_after_max_ms = 0; // placed → cancelled
  bool clean() const {
    return refused.empty() && duplicated.empty() && early.empty() && late.empty() && other.empty();
  }
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v)
    s += "\n  " + x;
  return s;
}

// Orders that wait for a payment that never comes, watched from a thread of their own so an
// early cancellation is seen when it happens, not when the scenario looks next.
class watcher {
public:
  struct order {
    std::string key;
    sclock::time_point sent;                    // before the placement was sent
    std::optional<sclock::time_point> reserved; // first seen stock_reserved
    std::optional<sclock::time_point> cancelled;
    std::string close_reason;
  };

  explicit watcher(std::string url) : url_(std::move(url)) {
    thread_ = std::thread([this] { run(); });
  }
  ~watcher() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void add(const std::string& id, const std::string& key, sclock::time_point sent) {
    std::lock_guard<std::mutex> g{mu_};
    orders_[id] = order{key, sent, {}, {}, {}};
  }
  std::map<std::string, order> snapshot() const {
    std::lock_guard<std::mutex> g{mu_};
    return orders_;
  }
  bool all_reserved(const std::vector<std::string>& ids) const {
    std::lock_guard<std::mutex> g{mu_};
    for (const auto& id : ids)
      if (!orders_.at(id).reserved) return false;
    return true;
  }

private:
  void run() {
    http_client c{url_, ops_key};
    while (!stop_) {
      std::vector<std::string> ids;
      {
        std::lock_guard<std::mutex> g{mu_};
        for (const auto& [id, o] : orders_)
          if (!o.cancelled) ids.push_back(id);
      }
      for (const auto& id : ids) {
        auto s = order_state(c, id);
        auto now = sclock::now();
        std::lock_guard<std::mutex> g{mu_};
        auto& o = orders_[id];
        if (!o.reserved && s.status() == ordo::v1::ORDER_STATUS_STOCK_RESERVED) o.reserved = now;
        if (s.status() == ordo::v1::ORDER_STATUS_CANCELLED) {
          o.cancelled = now;
          o.close_reason = s.close_reason();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }

  std::string url_;
  mutable std::mutex mu_;
  std::map<std::string, order> orders_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The scenario; `wall_clock_timers` runs the node with the old firing rule.
report run_steps(bool wall_clock_timers) {
  report rep;
  auto dir = fresh_dir(wall_clock_timers ? "clock-control" : "clock");
  clock_stepper clock{dir};
  node_process node{dir, clock_config()};
  std::vector<std::string> prefix = {"/usr/bin/env"};
  for (auto& e : clock.env())
    prefix.push_back(e);
  if (wall_clock_timers) prefix.push_back("ORDO_TEST_WALL_CLOCK_TIMERS=1");
  node.set_prefix(prefix);
  REQUIRE_MESSAGE(node.start(), node.why());
  http_client alice{node.url(), alice_key}, shop{node.url(), shop_key}, ops{node.url(), ops_key};
  watcher watch{node.url()};

  // Every command here is valid: any answer but 2xx is a refusal.
  auto expect_ok = [&](const ordo::net::http_result& r, const std::string& what) {
    if (r.status < 200 || r.status > 299)
      rep.refused.push_back(fmt::format("{}: HTTP {} {}", what, r.status, r.body));
    return r.status >= 200 && r.status <= 299;
  };
  std::map<std::string, std::string> id_of; // placement key -> order id
  auto place = [&](const std::string& key, bool waits) {
    auto sent = sclock::now();
    auto r = alice.post("/v1/orders", place_body("c-alice", "SKU-T", 1), idem(key));
    if (!expect_ok(r, "place " + key)) return std::string{};
    auto id = answer(r).order_id();
    id_of[key] = id;
    if (waits) watch.add(id, key, sent);
    return id;
  };
  auto retry = [&](const std::string& key) {
    auto r = alice.post("/v1/orders", place_body("c-alice", "SKU-T", 1), idem(key));
    if (!expect_ok(r, "retry " + key)) return;
    auto a = answer(r);
    if (r.status != 200 || !a.duplicate() || a.order_id() != id_of[key])
      rep.duplicated.push_back(
          fmt::format("retry of {} (first {}): HTTP {}, order {}, duplicate {}", key, id_of[key],
                      r.status, a.order_id(), a.duplicate()));
  };
  auto reached = [&](const std::string& id, ordo::v1::OrderStatus want, const std::string& what) {
    if (!reaches(ops, id, want))
      rep.other.push_back(
          fmt::format("{} ({}) never reached {}", what, id, ordo::v1::OrderStatus_Name(want)));
  };
  auto wait_reserved = [&](const std::vector<std::string>& ids) {
    auto until = sclock::now() + std::chrono::seconds{10};
    while (!watch.all_reserved(ids) && sclock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
  };
  // The node's clock really moved: a new order's placed_at is real time + offset.
  auto check_offset = [&](const std::string& id, int64_t hours) {
    auto placed = state(ops, id).placed_at_ms();
    auto want = real_now_ms() + hours * hour_ms;
    if (std::llabs(placed - want) > 60'000)
      rep.other.push_back(fmt::format("order {} placed at {} ms, expected about {} (offset {} h): "
                                      "the fake clock did not step",
                                      id, placed, want, hours));
  };
  auto expired_keys = [&]() -> int64_t {
    auto m = ops.get("/metrics").body;
    const std::string name = "\nordo_idempotency_expired_total ";
    auto at = m.find(name);
    return at == std::string::npos ? -1 : std::stoll(m.substr(at + name.size()));
  };

  // Real time.
  expect_ok(shop.post("/v1/inventory/SKU-T/restock", R"({"quantity":"100"})", idem("rs-0")),
            "restock before the steps");
  expect_ok(shop.post("/v1/inventory/SKU-T/price",
                      R"({"price":{"amount_minor":"1500","currency":"EUR"}})", idem("price-0")),
            "price before the steps");
  std::vector<std::string> waiting_now;
  for (auto k : {"a0", "a1", "a2", "a3"})
    waiting_now.push_back(place(k, true));
  auto p = place("p", false); // paid, shipped and delivered across the steps
  auto x = place("x", false); // cancelled by the customer after +3 h
  reached(p, ordo::v1::ORDER_STATUS_STOCK_RESERVED, "p");
  reached(x, ordo::v1::ORDER_STATUS_STOCK_RESERVED, "x");
  wait_reserved(waiting_now);

  // +3 h: timers scheduled so far are past their wall deadline now.
  clock.set(+3);
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  waiting_now.clear();
  for (auto k : {"b0", "b1", "b2", "b3"})
    waiting_now.push_back(place(k, true));
  check_offset(waiting_now[0], +3);
  auto y = place("y", false); // cancelled by the customer after the step back
  retry("a0");
  retry("a1");
  // The gateway's answer as the operations API records it (the signed webhook's own clock
  // check is not what this test is about).
  const auto pay_p =
      fmt::format(R"({{"order_id":"{}","payment_authorized":{{"payment_id":)"
                  R"("pay-p","amount":{{"amount_minor":"1500","currency":"EUR"}}}}}})",
                  p);
  bool paid =
      expect_ok(ops.post("/v1/admin/order-commands", pay_p, idem("pay-p")), "payment of p at +3 h");
  expect_ok(alice.post("/v1/orders/" + x + "/cancel", R"({"reason":"cancelled at +3h"})",
                       idem("cancel-x")),
            "cancel x at +3 h");
  expect_ok(shop.post("/v1/inventory/SKU-T/restock", R"({"quantity":"5"})", idem("rs-1")),
            "restock at +3 h");
  expect_ok(shop.post("/v1/inventory/SKU-T/adjust", R"({"delta":"1","reason":"count +3h"})"),
            "adjust at +3 h");
  if (paid) reached(p, ordo::v1::ORDER_STATUS_FULFILLING, "p after its payment");
  reached(y, ordo::v1::ORDER_STATUS_STOCK_RESERVED, "y");
  wait_reserved(waiting_now);
  std::this_thread::sleep_for(std::chrono::milliseconds{500}); // retention runs twice or more
  if (auto n = expired_keys(); n != 0)
    rep.other.push_back(fmt::format("{} idempotency records expired after a +3 h step with a 4 h "
                                    "retention (-1: metric missing)",
                                    n));

  // −3 h (back to real time): the states above carry times 3 h ahead of the clock.
  clock.set(0);
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  waiting_now.clear();
  for (auto k : {"c0", "c1"})
    waiting_now.push_back(place(k, true));
  check_offset(waiting_now[0], 0);
  retry("b0");
  retry("a2");
  expect_ok(shop.post("/v1/orders/" + p + "/shipment", R"({"carrier":"DHL","tracking_number":"T"})",
                      idem("ship-p")),
            "shipment of p after the step back");
  expect_ok(shop.post("/v1/orders/" + p + "/delivery", "{}", idem("dlv-p")),
            "delivery of p after the step back");
  expect_ok(alice.post("/v1/orders/" + y + "/cancel", R"({"reason":"cancelled after the step"})",
                       idem("cancel-y")),
            "cancel y after the step back");
  expect_ok(shop.post("/v1/inventory/SKU-T/restock", R"({"quantity":"5"})", idem("rs-2")),
            "restock after the step back");
  expect_ok(shop.post("/v1/inventory/SKU-T/adjust", R"({"delta":"-1","reason":"count back"})"),
            "adjust after the step back");
  wait_reserved(waiting_now);

  // −3 h more: 3 h behind real time, before every stored time.
  clock.set(-3);
  std::this_thread::sleep_for(std::chrono::milliseconds{100});
  waiting_now = {place("d0", true)};
  check_offset(waiting_now[0], -3);
  retry("c0");
  retry("b1");
  retry("a3");
  expect_ok(shop.post("/v1/inventory/SKU-T/adjust", R"({"delta":"1","reason":"count -3h"})"),
            "adjust at -3 h");
  wait_reserved(waiting_now);

  // Every waiting order must now be cancelled by its timeout, on real time.
  auto deadline_of = [](const watcher::order& o) {
    return o.reserved.value_or(o.sent) + payment_timeout + late_slack;
  };
  sclock::time_point last{};
  for (const auto& [id, o] : watch.snapshot())
    last = std::max(last, deadline_of(o));
  while (sclock::now() < last) {
    bool all = true;
    for (const auto& [id, o] : watch.snapshot())
      all = all && o.cancelled.has_value();
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  watch.stop();
  using ms = std::chrono::milliseconds;
  for (const auto& [id, o] : watch.snapshot()) {
    if (!o.reserved)
      rep.other.push_back(fmt::format("{} ({}) never seen stock_reserved", o.key, id));
    if (o.cancelled && *o.cancelled < o.sent + payment_timeout)
      rep.early.push_back(fmt::format("{} ({}) cancelled {} ms after it was placed (timeout {} ms)",
                                      o.key, id,
                                      std::chrono::duration_cast<ms>(*o.cancelled - o.sent).count(),
                                      std::chrono::duration_cast<ms>(payment_timeout).count()));
    if (!o.cancelled || *o.cancelled > deadline_of(o))
      rep.late.push_back(
          fmt::format("{} ({}) not cancelled within {} ms of reaching stock_reserved{}", o.key, id,
                      std::chrono::duration_cast<ms>(payment_timeout + late_slack).count(),
                      o.cancelled ? "" : " (still waiting)"));
    if (o.cancelled) {
      auto after_ms = std::chrono::duration_cast<ms>(*o.cancelled - o.sent).count();
      rep.cancelled_after_min_ms = std::min(rep.cancelled_after_min_ms, after_ms);
      rep.cancelled_after_max_ms = std::max(rep.cancelled_after_max_ms, after_ms);
    }
    if (o.cancelled && o.close_reason != "payment timed out")
      rep.other.push_back(fmt::format("{} ({}) closed as '{}'", o.key, id, o.close_reason));
  }
  if (auto s = state(ops, p).status(); s != ordo::v1::ORDER_STATUS_DELIVERED)
    rep.other.push_back("p is " + ordo::v1::OrderStatus_Name(s) + ", not delivered");
  for (const auto& [name, id] : {std::pair{"x", x}, std::pair{"y", y}}) {
    auto s = state(ops, id);
    if (s.status() != ordo::v1::ORDER_STATUS_CANCELLED || s.close_reason().find("cancelled") != 0)
      rep.other.push_back(fmt::format("{} is {} ('{}'), not cancelled by its customer", name,
                                      ordo::v1::OrderStatus_Name(s.status()), s.close_reason()));
  }

  // The whole feed holds exactly one OrderPlaced per placement key: one for each first
  // answer's order, and no others (a retry that made a second order would add one).
  std::map<std::string, int> placed; // order id -> OrderPlaced events
  int placed_total = 0;
  uint64_t after = 0;
  for (int page = 0; page < 100; ++page) {
    auto f = ops.get(fmt::format("/v1/events?after={}&limit=1000", after));
    ordo::v1::FeedPage pg;
    if (f.status != 200 || !ordo::json::parse(f.body, pg).empty()) {
      rep.other.push_back("feed unreadable: " + f.body);
      break;
    }
    if (pg.events_size() == 0) break;
    for (const auto& e : pg.events())
      if (e.event().has_order_event() && e.event().order_event().has_order_placed()) {
        placed[e.event().entity_id()]++;
        ++placed_total;
      }
    after = pg.next_after();
  }
  for (const auto& [key, id] : id_of)
    if (placed[id] != 1)
      rep.duplicated.push_back(
          fmt::format("{} OrderPlaced events for order {} (key {})", placed[id], id, key));
  if (placed_total != static_cast<int>(id_of.size()))
    rep.duplicated.push_back(fmt::format("{} OrderPlaced events in the feed for {} placement keys",
                                         placed_total, id_of.size()));

  // The documented hazard, seen: a step forward past the retention (4 h) expires the keys at
  // once. (It also shows the check above can fail: the retention is running.)
  clock.set(+5);
  auto until = sclock::now() + std::chrono::seconds{5};
  while (expired_keys() <= 0 && sclock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  if (expired_keys() <= 0)
    rep.other.push_back("a +5 h step past the 4 h retention expired no idempotency record");

  if (ops.get("/healthz").status != 200) rep.other.push_back("the node stopped serving");
  int rc = node.stop();
  if (rc != 0) rep.other.push_back(fmt::format("node exit status {}; log:\n{}", rc, node.log()));
  if (rep.clean() || wall_clock_timers)
    std::filesystem::remove_all(dir);
  else
    MESSAGE("node directory kept for the post-mortem: " << dir);
  return rep;
}

// Across a restart only the wall clock exists: orders wait for payment, the node stops, the
// clock steps back 3 h, the node starts again. Their timers (wall deadlines 3 h ahead now)
// must fire at most one timeout after the start, not 3 h later — and not before their real
// timeout. Returns the lateness/earliness found, as run_steps does.
report run_restart(bool wall_clock_timers) {
  constexpr auto timeout = std::chrono::seconds{2};
  report rep;
  auto dir = fresh_dir(wall_clock_timers ? "clock-restart-control" : "clock-restart");
  clock_stepper clock{dir};
  node_process node{dir, clock_config(timeout)};
  std::vector<std::string> prefix = {"/usr/bin/env"};
  for (auto& e : clock.env())
    prefix.push_back(e);
  if (wall_clock_timers) prefix.push_back("ORDO_TEST_WALL_CLOCK_TIMERS=1");
  node.set_prefix(prefix);
  REQUIRE_MESSAGE(node.start(), node.why());
  std::map<std::string, sclock::time_point> sent; // order id -> placement sent
  {
    http_client alice{node.url(), alice_key}, shop{node.url(), shop_key}, ops{node.url(), ops_key};
    REQUIRE(shop.post("/v1/inventory/SKU-R/restock", R"({"quantity":"10"})", idem("rs")).status ==
            200);
    REQUIRE(shop.post("/v1/inventory/SKU-R/price",
                      R"({"price":{"amount_minor":"1500","currency":"EUR"}})", idem("pr"))
                .status == 200);
    for (auto k : {"r0", "r1"}) {
      auto t = sclock::now();
      auto r = alice.post("/v1/orders", place_body("c-alice", "SKU-R", 1), idem(k));
      REQUIRE_MESSAGE(r.status == 201, r.body);
      sent[answer(r).order_id()] = t;
    }
    for (const auto& [id, t] : sent)
      REQUIRE(reaches(ops, id, ordo::v1::ORDER_STATUS_STOCK_RESERVED));
  }
  REQUIRE(node.stop() == 0);
  clock.set(-3);
  auto started = sclock::now();
  REQUIRE_MESSAGE(node.start(), node.why());
  http_client ops{node.url(), ops_key};
  const auto until = started + timeout + late_slack;
  std::map<std::string, sclock::time_point> cancelled;
  while (cancelled.size() < sent.size() && sclock::now() < until) {
    for (const auto& [id, t] : sent)
      if (!cancelled.count(id) && order_state(ops, id).status() == ordo::v1::ORDER_STATUS_CANCELLED)
        cancelled[id] = sclock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  using ms = std::chrono::milliseconds;
  for (const auto& [id, t] : sent) {
    auto c = cancelled.find(id);
    if (c == cancelled.end()) {
      rep.late.push_back(fmt::format("{} not cancelled within {} ms of the restart", id,
                                     std::chrono::duration_cast<ms>(timeout + late_slack).count()));
      continue;
    }
    if (c->second < t + timeout)
      rep.early.push_back(fmt::format("{} cancelled {} ms after it was placed (timeout {} ms)", id,
                                      std::chrono::duration_cast<ms>(c->second - t).count(),
                                      std::chrono::duration_cast<ms>(timeout).count()));
    auto after_ms = std::chrono::duration_cast<ms>(c->second - started).count();
    rep.cancelled_after_min_ms = std::min(rep.cancelled_after_min_ms, after_ms);
    rep.cancelled_after_max_ms = std::max(rep.cancelled_after_max_ms, after_ms);
  }
  int rc = node.stop();
  if (rc != 0) rep.other.push_back(fmt::format("node exit status {}; log:\n{}", rc, node.log()));
  if (rep.clean() || wall_clock_timers)
    std::filesystem::remove_all(dir);
  else
    MESSAGE("node directory kept for the post-mortem: " << dir);
  return rep;
}

} // namespace

TEST_SUITE("node_clock") {
  TEST_CASE("wall-clock steps of +3 h and -3 h on a running node") {
    if (use_faketime() && faketime_lib().empty()) {
      MESSAGE("SKIP: ORDO_CLOCK_TOOL=faketime but libfaketime is not installed (apt-get install "
              "faketime, or scripts/install-deps.sh; ORDO_FAKETIME_LIB names another copy); "
              "without ORDO_CLOCK_TOOL the test uses its own clock shift and runs in full");
      return;
    }
    auto t0 = sclock::now();
    auto rep = run_steps(false);
    CHECK_MESSAGE(rep.refused.empty(), "valid commands refused:" << join(rep.refused));
    CHECK_MESSAGE(rep.duplicated.empty(), "placements not deduplicated:" << join(rep.duplicated));
    CHECK_MESSAGE(rep.early.empty(), "cancelled before the real timeout:" << join(rep.early));
    CHECK_MESSAGE(rep.late.empty(), "not cancelled after the real timeout:" << join(rep.late));
    CHECK_MESSAGE(rep.other.empty(), join(rep.other));
    MESSAGE("waiting orders cancelled " << rep.cancelled_after_min_ms << " to "
                                        << rep.cancelled_after_max_ms
                                        << " ms after they were placed (timeout 5000 ms)");
    MESSAGE("clock steps ("
            << (use_faketime() ? "libfaketime" : "clock_shift") << "): "
            << std::chrono::duration_cast<std::chrono::milliseconds>(sclock::now() - t0).count()
            << " ms");
  }

  TEST_CASE("negative control: timers fired by the wall clock are caught, early and late") {
    if (use_faketime() && faketime_lib().empty()) {
      MESSAGE("SKIP: ORDO_CLOCK_TOOL=faketime but libfaketime is not installed");
      return;
    }
    auto rep = run_steps(true);
    CHECK_MESSAGE(!rep.early.empty(),
                  "the +3 h step should fire the waiting orders' timers at once");
    CHECK_MESSAGE(!rep.late.empty(), "the -3 h steps should hold timers back for hours");
    MESSAGE("negative control saw " << rep.early.size() << " early and " << rep.late.size()
                                    << " late cancellations, " << rep.refused.size()
                                    << " refused commands:" << join(rep.early) << join(rep.late)
                                    << join(rep.refused));
  }

  TEST_CASE(
      "a clock stepped back while the node was down delays a timeout by one timeout at most") {
    if (use_faketime() && faketime_lib().empty()) {
      MESSAGE("SKIP: ORDO_CLOCK_TOOL=faketime but libfaketime is not installed");
      return;
    }
    auto rep = run_restart(false);
    CHECK_MESSAGE(rep.early.empty(), join(rep.early));
    CHECK_MESSAGE(rep.late.empty(), join(rep.late));
    CHECK_MESSAGE(rep.other.empty(), join(rep.other));
    MESSAGE("after the restart (clock 3 h back) the orders were cancelled "
            << rep.cancelled_after_min_ms << " to " << rep.cancelled_after_max_ms
            << " ms after the start (timeout 2000 ms)");
    // Negative control: fired by the wall clock, they would wait 3 h.
    auto control = run_restart(true);
    CHECK_MESSAGE(!control.late.empty(), "wall-clock firing should leave them waiting");
  }
}
