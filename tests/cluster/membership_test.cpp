// Membership change: a 4th node joins a 3-node cluster under load. Shards move to it by
// handoff while the cluster keeps serving; at the end every acknowledged order is there,
// stock adds up, and no (order, sequence) was ever written by two nodes.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "cluster_support.hpp"
#include "messages/json/json.hpp"
#include "net/http_client.hpp"
#include "ordo/v1/api.pb.h"

using namespace ordo::test::cluster_support;

namespace {

// Every (entity, sequence) in a node's event feed, paging through GET /v1/events.
std::vector<std::pair<std::string, uint64_t>> feed_of(const std::string& url) {
  http_client c{url};
  std::vector<std::pair<std::string, uint64_t>> out;
  uint64_t after = 0;
  for (int page = 0; page < 100'000; ++page) {
    auto r = c.get(fmt::format("/v1/events?after={}&limit=1000", after));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    ordo::v1::FeedPage p;
    REQUIRE(ordo::json::parse(r.body, p).empty());
    if (p.events().empty()) break;
    for (const auto& e : p.events())
      out.emplace_back(e.event().entity_id(), e.event().sequence());
    after = p.next_after();
  }
  return out;
}

// Waits (up to 120 s) until the change coordinated by `url` stops; returns its result.
std::string await_change(const std::string& url) {
  http_client c{url};
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds{120};
  for (;;) {
    auto r = c.get("/v1/cluster");
    REQUIRE(r.status == 200);
    auto at = r.body.find(R"("running":false,"result":")");
    if (at != std::string::npos && r.body.find(R"("result":"")") == std::string::npos) {
      auto from = at + std::string(R"("running":false,"result":")").size();
      return r.body.substr(from, r.body.find('"', from) - from);
    }
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "the change never finished");
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

// Asks `url`'s node to change the membership to `body` (must be accepted, 202) and waits for
// the change to end; returns its result.
std::string run_change(const std::string& url, const std::string& body) {
  http_client c{url};
  auto started = c.post("/v1/cluster/members", body);
  REQUIRE_MESSAGE(started.status == 202, started.body);
  return await_change(url);
}

// How many shards `url`'s view gives node `id`.
int shards_of(const std::string& url, int id) {
  http_client c{url};
  auto body = c.get("/v1/cluster").body;
  auto at = body.find(fmt::format(R"({{"id":{},)", id));
  if (at == std::string::npos) return -1;
  auto open = body.find("\"shards\":[", at) + 10;
  auto list = body.substr(open, body.find(']', open) - open);
  return list.empty() ? 0 : 1 + static_cast<int>(std::count(list.begin(), list.end(), ','));
}

// Closed-loop placements through the given nodes, one thread each, until stop().
struct placement_load {
  std::mutex mu;
  std::vector<std::string> acked;
  std::vector<std::pair<std::string, std::string>> unknown; // (key, body) answered 503
  std::atomic<bool> stopping{false}, changing{false};
  std::atomic<int> ok_during{0}, retry_during{0}, other{0}, conn_errors{0};
  std::vector<std::thread> ts;

  placement_load(const cluster& cl, const std::vector<std::string>& skus, int threads,
                 const std::string& tag) {
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([this, url = cl.url(t), skus, t, tag] {
        http_client c{url};
        for (int i = 0; !stopping; ++i) {
          auto key = fmt::format("{}-{}-{}", tag, t, i);
          auto body = place_body(skus[i % 9], skus[(i + t + 1) % 9]);
          auto r = c.post("/v1/orders", body, {{"Idempotency-Key", key}});
          std::lock_guard<std::mutex> g{mu};
          if (r.status == 201) {
            ordo::v1::CommandAnswer a;
            ordo::json::parse(r.body, a);
            acked.push_back(a.order_id());
            if (changing) ++ok_during;
          } else if (r.status == 503) { // a shard between owners: retry later, same key
            unknown.emplace_back(key, body);
            if (changing) ++retry_during;
          } else if (r.status == 0) { // the node went away: maybe applied; this client stops
            unknown.emplace_back(key, body);
            ++conn_errors;
            return;
          } else {
            ++other;
            MESSAGE("unexpected answer " << r.status << " " << r.body);
          }
        }
      });
  }
  void stop() {
    stopping = true;
    for (auto& t : ts)
      t.join();
    ts.clear();
  }
  ~placement_load() {
    if (!ts.empty()) stop();
  }
};

// The POST /v1/cluster/members body for nodes 1..n of `cl`.
std::string members_json(const cluster& cl, int n) {
  std::string members;
  for (int i = 0; i < n; ++i)
    members += fmt::format(R"({}{{"id":{},"host":"127.0.0.1","port":{}}})", i ? "," : "", i + 1,
                           cl.ports[static_cast<size_t>(i)]);
  return fmt::format(R"({{"nodes":[{}]}})", members);
}

std::string all_four(const cluster& cl) {
  return members_json(cl, 4);
}

// The 503s of a load, resolved by retrying with the same key through `via`: each was applied
// once or not at all, and a retry finds the order its first attempt created wherever that
// shard lives now. Returns every order of the load.
std::vector<std::string> resolve(placement_load& load, const std::string& via) {
  std::vector<std::string> all = load.acked;
  http_client c{via};
  for (const auto& [key, body] : load.unknown) {
    auto r = c.post("/v1/orders", body, {{"Idempotency-Key", key}});
    REQUIRE_MESSAGE((r.status == 200 || r.status == 201), r.status << " " << r.body);
    ordo::v1::CommandAnswer a;
    REQUIRE(ordo::json::parse(r.body, a).empty());
    all.push_back(a.order_id());
  }
  for (const auto& id : load.acked) {
    int status = 0;
    order(c, id, &status);
    REQUIRE_MESSAGE(status == 200, "acknowledged order " << id << ": " << status);
  }
  return all;
}

// Every order settled, stock adds up, and no (entity, sequence) written by two nodes.
void audit(cluster& cl, const std::vector<std::string>& all, const std::vector<std::string>& skus,
           const std::string& via) {
  await_settled(via, all);
  // Plenty of stock, no declines, no gateway outage: every order is delivered — none
  // cancelled by its payment timeout because the saga lost track of it during a handoff.
  {
    http_client c{via};
    std::map<std::string, int> by_status;
    for (const auto& id : all)
      ++by_status[ordo::v1::OrderStatus_Name(order(c, id).status())];
    for (const auto& [st, n] : by_status)
      CHECK_MESSAGE(st == "ORDER_STATUS_DELIVERED", n << " orders ended " << st);
  }
  audit_stock(via, skus, 100000, all);
  std::map<std::pair<std::string, uint64_t>, int> writers;
  size_t events = 0;
  for (int i = 0; i < 4; ++i)
    for (auto& k : feed_of(cl.url(i))) {
      ++writers[k];
      ++events;
    }
  int twice = 0;
  for (const auto& [k, n] : writers)
    twice += n > 1;
  MESSAGE(events << " events in the 4 feeds, " << all.size() << " orders audited");
  CHECK(twice == 0);
}

// The end of every join test: the new map everywhere, placements through the new node, the
// 503s resolved, the audit. Returns every order.
std::vector<std::string> audit_after_join(cluster& cl, placement_load& load,
                                          const std::vector<std::string>& skus) {
  for (int i = 0; i < 4; ++i)
    for (int id = 1; id <= 4; ++id)
      CHECK_MESSAGE(shards_of(cl.url(i), id) == 16, "node " << i + 1 << "'s view of " << id);
  auto all = resolve(load, cl.url(3));
  http_client c4{cl.url(3)};
  // Placements through the new node, for shards it owns and for the others.
  for (int i = 0; i < 40; ++i) {
    auto r = c4.post("/v1/orders", place_body(skus[i % 9], skus[(i + 2) % 9]),
                     {{"Idempotency-Key", fmt::format("after-{}", i)}});
    REQUIRE_MESSAGE(r.status == 201, r.status << " " << r.body);
    ordo::v1::CommandAnswer a;
    REQUIRE(ordo::json::parse(r.body, a).empty());
    all.push_back(a.order_id());
  }
  audit(cl, all, skus, cl.url(3));
  return all;
}

} // namespace

TEST_SUITE("cluster_membership") {
  TEST_CASE("a 4th node joins under load: shards move by handoff, nothing acknowledged lost") {
    cluster cl{4, 3};
    auto skus = cl.start_stocked(9, 100000);
    placement_load load{cl, skus, 3, "m"};
    std::this_thread::sleep_for(std::chrono::milliseconds{700});
    cl.start(3); // node 4, joining: owns nothing yet
    {
      http_client c4{cl.url(3)};
      auto r = c4.get("/v1/cluster");
      REQUIRE(r.status == 200);
      CHECK(r.body.find(R"("shards_owned":0)") != std::string::npos);
      // Before it is added it serves nothing (it does not know the owners): 503, not a guess.
      auto p = c4.post("/v1/orders", place_body(skus[0], skus[1]), {{"Idempotency-Key", "early"}});
      CHECK(p.status == 503);
    }
    http_client ops{cl.url(0)};
    load.changing = true;
    auto t_change = std::chrono::steady_clock::now();
    auto started = ops.post("/v1/cluster/members", all_four(cl));
    REQUIRE_MESSAGE(started.status == 202, started.body);
    // A second change while one runs is refused.
    CHECK(ops.post("/v1/cluster/members", all_four(cl)).status == 409);
    auto result = await_change(cl.url(0));
    load.changing = false;
    CHECK_MESSAGE(result == "done", result);
    MESSAGE("the change took " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::steady_clock::now() - t_change)
                                      .count()
                               << " ms (polled every 100 ms)");
    std::this_thread::sleep_for(std::chrono::milliseconds{700}); // load on the new map
    load.stop();
    MESSAGE(load.acked.size() << " acknowledged; during the change " << load.ok_during.load()
                              << " placed, " << load.retry_during.load()
                              << " answered 503 (retried below)");
    CHECK(load.other.load() == 0);
    CHECK(load.ok_during.load() > 0); // the rest of the cluster kept serving
    auto first_round = audit_after_join(cl, load, skus);

    // Node 4 took its 16 shards by handoff; 3→4 nodes moved 18 shards in all (2 between old
    // nodes: the fair-share cap), each out of exactly one node.
    int moved_in = 0, moved_out = 0;
    for (int i = 0; i < 4; ++i) {
      http_client c{cl.url(i)};
      auto m = c.get("/metrics").body;
      auto value = [&](const std::string& name) {
        auto at = m.find("\n" + name + " ");
        REQUIRE(at != std::string::npos);
        return std::stoi(m.substr(at + name.size() + 2));
      };
      moved_in += value("ordo_cluster_shards_moved_in_total");
      moved_out += value("ordo_cluster_shards_moved_out_total");
      if (i == 3) CHECK(value("ordo_cluster_shards_moved_in_total") == 16);
    }
    CHECK(moved_in == moved_out);
    CHECK(moved_in >= 16);

    // Removing node 4 again, under load: its shards go back to nodes that hold an older copy
    // of them (only the events they lack are imported).
    placement_load load2{cl, skus, 3, "r"};
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    auto removed = run_change(cl.url(0), members_json(cl, 3));
    CHECK_MESSAGE(removed == "done", removed);
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    load2.stop();
    CHECK(load2.other.load() == 0);
    MESSAGE(load2.acked.size() << " acknowledged around the removal, " << load2.unknown.size()
                               << " answered 503");
    for (int i = 0; i < 4; ++i) {
      http_client c{cl.url(i)};
      if (i == 3) CHECK(c.get("/v1/cluster").body.find(R"("shards_owned":0)") != std::string::npos);
      int total = 0;
      for (int id = 1; id <= 3; ++id) {
        int n = shards_of(cl.url(i), id);
        CHECK_MESSAGE((n == 21 || n == 22), "node " << i + 1 << "'s view of " << id << ": " << n);
        total += n;
      }
      CHECK(total == 64);
    }
    auto all = resolve(load2, cl.url(1));
    for (const auto& id : first_round) {
      int status = 0;
      http_client c{cl.url(2)};
      order(c, id, &status);
      REQUIRE_MESSAGE(status == 200, "order " << id << " after the removal: " << status);
    }
    all.insert(all.end(), first_round.begin(), first_round.end());
    audit(cl, all, skus, cl.url(2));
  }

  TEST_CASE("the new node is SIGKILLed mid-change: moving shards wait, nothing is lost, "
            "the change completes when re-run") {
    cluster cl{4, 3};
    cl.cluster_settings = "handoff_batch_kb = 1\n"; // many small batches: a slower change
    auto skus = cl.start_stocked(9, 100000);
    placement_load load{cl, skus, 3, "k"};
    std::this_thread::sleep_for(std::chrono::milliseconds{1500}); // records to move
    cl.start(3);
    http_client ops{cl.url(0)};
    auto started = ops.post("/v1/cluster/members", all_four(cl));
    REQUIRE_MESSAGE(started.status == 202, started.body);
    // Kill node 4 once some shards reached it and most have not: a handoff to it is in
    // progress or next.
    bool killed = false;
    for (int i = 0; i < 20'000 && !killed; ++i) {
      auto body = ops.get("/v1/cluster").body;
      auto at = body.find(R"("moves":)");
      REQUIRE(at != std::string::npos);
      int moves = std::stoi(body.substr(at + 8));
      int open = static_cast<int>(std::count(body.begin(), body.end(), '{')) - 2; // handoffs
      auto h = body.find(R"("handoffs":[)");
      open =
          h == std::string::npos
              ? 0
              : static_cast<int>(std::count(body.begin() + static_cast<long>(h), body.end(), '{'));
      if (moves - open >= 1 && open > 3) {
        CHECK(cl.nodes[3]->stop(SIGKILL) == 128 + SIGKILL);
        killed = true;
      }
      if (body.find(R"("running":false)") != std::string::npos) break;
    }
    REQUIRE_MESSAGE(killed, "the change finished before node 4 could be killed mid-way");
    auto first = await_change(cl.url(0));
    MESSAGE("the first attempt: " << first);
    CHECK(first.find("failed") != std::string::npos);
    // The shard whose move was cut off is stopped at its old owner, not served by two.
    int stuck = 0;
    for (int i = 0; i < 3; ++i) {
      http_client c{cl.url(i)};
      auto body = c.get("/v1/cluster").body;
      auto m = body.find(R"("moving_out":[)");
      stuck += body[m + 14] == '{';
    }
    MESSAGE(stuck << " node(s) hold a shard stopped mid-move");
    CHECK(stuck <= 1);
    cl.start(3); // same data: the shards it took are still its own
    cl.await_connected();
    auto second = run_change(cl.url(0), all_four(cl));
    CHECK_MESSAGE(second == "done", second);
    std::this_thread::sleep_for(std::chrono::milliseconds{500});
    load.stop();
    MESSAGE(load.acked.size() << " acknowledged, " << load.unknown.size()
                              << " answered 503 during the change and the outage");
    CHECK(load.other.load() == 0);
    for (int i = 0; i < 4; ++i) {
      http_client c{cl.url(i)};
      CHECK(c.get("/v1/cluster").body.find(R"("moving_out":[])") != std::string::npos);
    }
    audit_after_join(cl, load, skus);
  }

  TEST_CASE("an old owner SIGKILLed while its shard is stopped mid-handoff resumes the move") {
    auto t0 = std::chrono::steady_clock::now();
    auto at = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - t0)
          .count();
    };
    cluster cl{4, 3};
    cl.node_settings = "shards = 8\n";                 // few moves: a short change
    cl.cluster_settings = "handoff_pause_ms = 1500\n"; // hold each stopped shard 1.5 s
    auto skus = cl.start_stocked(9, 100000);
    placement_load load{cl, skus, 3, "v"};
    std::this_thread::sleep_for(std::chrono::milliseconds{700});
    cl.start(3);
    http_client ops{cl.url(0)};
    auto started = ops.post("/v1/cluster/members", all_four(cl));
    REQUIRE_MESSAGE(started.status == 202, started.body);
    // The old owner holding a stopped shard ("moving_out" not empty) is the victim.
    int victim = -1;
    for (int round = 0; round < 500 && victim < 0; ++round) {
      for (int i = 0; i < 3 && victim < 0; ++i) {
        http_client c{cl.url(i)};
        if (c.get("/v1/cluster").body.find(R"("moving_out":[{)") != std::string::npos) victim = i;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    REQUIRE_MESSAGE(victim >= 0, "no shard was ever seen stopped mid-handoff");
    CHECK(cl.nodes[static_cast<size_t>(victim)]->stop(SIGKILL) == 128 + SIGKILL);
    MESSAGE("killed node " << victim + 1 << " with a shard stopped mid-handoff, at " << at()
                           << " ms");
    cl.start(victim); // same data: the shard is still "moving out" there, never served
    cl.await_connected();
    {
      // The restarted node finishes the move on its own (resume_moves).
      http_client c{cl.url(victim)};
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds{60};
      while (c.get("/v1/cluster").body.find(R"("moving_out":[])") == std::string::npos) {
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "the move never resumed");
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
      }
    }
    // The change itself: done by the coordinator's retries, or re-run (its coordinator died,
    // or gave up while the node was down).
    std::string result = victim == 0 ? "coordinator restarted" : await_change(cl.url(0));
    MESSAGE("the move resumed by " << at() << " ms; the change after the kill: " << result);
    if (result != "done") {
      auto second = run_change(cl.url(0), all_four(cl));
      CHECK_MESSAGE(second == "done", second);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{300});
    load.stop();
    CHECK(load.other.load() == 0);
    for (int i = 0; i < 4; ++i)
      for (int id = 1; id <= 4; ++id)
        CHECK_MESSAGE(shards_of(cl.url(i), id) == 2, "node " << i + 1 << "'s view of " << id);
    MESSAGE("change done at " << at() << " ms");
    auto all = resolve(load, cl.url(3));
    MESSAGE(load.acked.size() << " acknowledged, " << load.unknown.size() << " unknown (503 or "
                              << load.conn_errors.load() << " cut connections) resolved");
    audit(cl, all, skus, cl.url(3));
    MESSAGE("audited at " << at() << " ms");
  }
}
