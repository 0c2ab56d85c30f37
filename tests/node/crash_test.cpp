// The node killed under HTTP load (SIGKILL), and stopped under load (SIGTERM): afterwards
// every 2xx-acknowledged order is present with all its acknowledged events, none twice.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api_support.hpp"
#include "storage/journal.hpp"

using namespace ordo::test;
using ordo::net::http_client;

namespace {

struct acked {
  std::string id, key;
  uint64_t last_seq = 0;
};

// Clients placing orders as fast as the node answers, until told to stop or the node is gone.
struct load {
  std::mutex mu;
  std::vector<acked> acks;
  std::atomic<bool> stop{false};
  std::atomic<int> statuses[600] = {};
  std::atomic<int> unreachable{0};
  std::vector<std::thread> threads;

  void start(const std::string& url, int clients) {
    for (int t = 0; t < clients; ++t)
      threads.emplace_back([this, url, t] {
        http_client c{url, alice_key, std::chrono::seconds{10}};
        for (int i = 0; !stop; ++i) {
          auto key = fmt::format("crash-{}-{}", t, i);
          auto r =
              c.post("/v1/orders", place_body("c-alice", fmt::format("SKU-{}", i % 4)), idem(key));
          if (r.status == 0) {
            ++unreachable;
            if (unreachable > 50) return; // the node is gone
            std::this_thread::sleep_for(std::chrono::milliseconds{20});
            continue;
          }
          ++statuses[std::min(r.status, 599)];
          if (r.status == 201) {
            auto a = answer(r);
            std::lock_guard<std::mutex> g{mu};
            acks.push_back({a.order_id(), key, a.last_seq()});
          }
        }
      });
  }
  void join() {
    stop = true;
    for (auto& t : threads)
      t.join();
  }
};

// Every feed record, paged.
std::vector<ordo::v1::FeedItem> whole_feed(http_client& ops) {
  std::vector<ordo::v1::FeedItem> all;
  uint64_t after = 0;
  for (;;) {
    auto r = ops.get(fmt::format("/v1/events?after={}&limit=1000", after));
    REQUIRE(r.status == 200);
    ordo::v1::FeedPage p;
    REQUIRE(ordo::json::parse(r.body, p).empty());
    if (p.events().empty()) return all;
    for (auto& e : *p.mutable_events())
      all.push_back(std::move(e));
    after = p.next_after();
  }
}

// Each acknowledged order is there, at least at its acknowledged sequence, and its placement
// retried with the same key answers the same order.
void audit_orders(const std::string& url, const std::vector<acked>& acks) {
  http_client ops{url, ops_key}, alice{url, alice_key};
  for (const auto& a : acks) {
    auto st = state(ops, a.id);
    REQUIRE_MESSAGE(st.status() != ordo::v1::ORDER_STATUS_UNSPECIFIED, "lost order " << a.id);
    CHECK(st.last_sequence() >= a.last_seq);
  }
  size_t step = std::max<size_t>(1, acks.size() / 200); // retry a sample of keys
  for (size_t i = 0; i < acks.size(); i += step) {
    auto r = alice.post("/v1/orders", place_body("c-alice"), idem(acks[i].key));
    REQUIRE(r.status == 200);
    auto an = answer(r);
    CHECK(an.duplicate());
    CHECK(an.order_id() == acks[i].id);
  }
}

// The audit: audit_orders, and in the feed every entity's events are 1..n without gaps or
// repeats and each order was placed exactly once.
void audit(const std::string& url, const std::vector<acked>& acks) {
  audit_orders(url, acks);
  http_client ops{url, ops_key};
  std::map<std::string, uint64_t> last_seq;
  std::map<std::string, int> placed;
  for (const auto& item : whole_feed(ops)) {
    const auto& e = item.event();
    auto& prev = last_seq[e.entity_id()];
    CHECK_MESSAGE(e.sequence() == prev + 1, e.entity_id()
                                                << " seq " << e.sequence() << " after " << prev);
    prev = e.sequence();
    if (e.has_order_event() && e.order_event().has_order_placed()) ++placed[e.entity_id()];
  }
  for (const auto& a : acks)
    CHECK_MESSAGE(placed[a.id] == 1, a.id << " placed " << placed[a.id] << " times");
  for (const auto& [id, n] : placed)
    CHECK_MESSAGE(n == 1, id << " placed " << n << " times");
}

std::string crash_config() {
  // The saga on (simulated gateway and warehouse): orders keep moving while the node dies.
  return keys_toml();
}

void restock(const std::string& url) {
  http_client ops{url, ops_key};
  for (int i = 0; i < 4; ++i)
    stock_sku(ops, fmt::format("SKU-{}", i), 1'000'000);
}

// `rounds` times: start the node on `dir` (stocked the first time), put 8 placing clients
// on it, SIGKILL it after 0.7 s (+0.3 s a round). Returns every placement acknowledged.
std::vector<acked> kill_rounds(const std::string& dir, const std::string& config, int rounds) {
  std::vector<acked> all;
  for (int round = 0; round < rounds; ++round) {
    node_process node{dir, config};
    REQUIRE_MESSAGE(node.start(), node.why());
    if (round == 0) restock(node.url());
    load l;
    l.start(node.url(), 8);
    std::this_thread::sleep_for(std::chrono::milliseconds{700 + 300 * round});
    CHECK(node.stop(SIGKILL) == 128 + SIGKILL);
    l.join();
    MESSAGE("round " << round << ": " << l.acks.size() << " placements acknowledged before "
                     << "the kill; 429s " << l.statuses[429].load());
    CHECK(l.acks.size() > 0);
    CHECK(l.statuses[500].load() == 0);
    all.insert(all.end(), l.acks.begin(), l.acks.end());
  }
  return all;
}

} // namespace

TEST_SUITE("node_crash") {
  TEST_CASE("SIGKILL under HTTP load loses no acknowledged order or event") {
    auto dir = fresh_dir("kill");
    auto all = kill_rounds(dir, crash_config(), std::getenv("ORDO_LONG") ? 10 : 3);
    node_process node{dir, crash_config()};
    REQUIRE_MESSAGE(node.start(), node.why());
    audit(node.url(), all);
  }

  // Feed retention trimming all the time (events older than 1 ms, every 20 ms) while the node
  // is killed: kills land between and inside its snapshot and truncation transactions.
  // Afterwards every acknowledged order reads at its acknowledged sequence or later, its key
  // answers the same order, and the store verifies (the feed itself is mostly trimmed).
  TEST_CASE("SIGKILL while feed retention trims: nothing acknowledged lost, the store verifies") {
    auto dir = fresh_dir("kill-retention");
    auto config =
        crash_config() + "[journal]\nfeed_retention = \"1ms\"\nretention_every = \"20ms\"\n";
    auto all = kill_rounds(dir, config, 3);
    {
      node_process node{dir, config};
      REQUIRE_MESSAGE(node.start(), node.why());
      audit_orders(node.url(), all);
      http_client ops{node.url(), ops_key};
      auto m = ops.get("/metrics").body;
      auto at = m.find("\nordo_feed_truncated_total ");
      REQUIRE(at != std::string::npos);
      MESSAGE(all.size() << " acknowledged; after the restart "
                         << m.substr(at + 1, m.find('\n', at + 1) - at - 1));
      CHECK(node.stop(SIGTERM) == 0);
    }
    auto report = ordo::storage::verify(dir + "/data");
    REQUIRE(report);
    CHECK_MESSAGE(report->ok(), (report->problems.empty() ? "" : report->problems.front()));
  }

  TEST_CASE("SIGTERM under HTTP load answers what it took in and loses nothing") {
    auto dir = fresh_dir("term");
    std::vector<acked> acks;
    {
      node_process node{dir, crash_config()};
      REQUIRE_MESSAGE(node.start(), node.why());
      restock(node.url());
      load l;
      l.start(node.url(), 8);
      std::this_thread::sleep_for(std::chrono::milliseconds{800});
      CHECK(node.stop(SIGTERM) == 0); // exit 0: every received request was answered
      l.join();
      // Requests during shutdown are answered 503 (stopping) or find the port closed;
      // never a 500.
      CHECK(l.statuses[500].load() == 0);
      acks = l.acks;
      CHECK(node.log().find("event=stopped") != std::string::npos);
      CHECK(node.log().find("unanswered_requests=0") != std::string::npos);
    }
    node_process node{dir, crash_config()};
    REQUIRE_MESSAGE(node.start(), node.why());
    audit(node.url(), acks);
  }
}
