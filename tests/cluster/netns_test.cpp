// The 3-node cluster again, each node in its own network namespace (its own addresses and
// ports, a bridge between them): nothing relies on loopback. Needs root and `ip netns`;
// skips with a message elsewhere (run it as root for the full check).
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "messages/json/json.hpp"
#include "net/http_client.hpp"
#include "ordo/v1/api.pb.h"
#include "ordo/v1/order.pb.h"
#include "support/api_client.hpp"
#include "support/node_process.hpp"
#include "test_ca.hpp"

using ordo::net::http_client;

namespace {

const std::string key = "netns-ops-key-0123456789";
constexpr int64_t unit_price = 100; // every SKU's price of record, what the orders pay

int sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str());
}

// Three namespaces on a bridge: 10.<net>.0.1 is this (root) namespace, .11/.12/.13 the nodes.
// Names carry the pid so parallel runs do not collide; the destructor removes everything.
struct netns_lab {
  std::string tag = fmt::format("o{}", ::getpid() % 100000);
  int net = 100 + ::getpid() % 100;
  int hosts = 3;
  bool ok = false;
  std::string ns(int i) const { return fmt::format("{}n{}", tag, i); }
  std::string ip(int i) const { return fmt::format("10.{}.0.{}", net, 10 + i); }
  std::string bridge() const { return tag + "br"; }

  explicit netns_lab(int n = 3) : hosts(n) {
    if (::geteuid() != 0) return;
    clean(); // leftovers of a killed run with the same pid
    if (sh(fmt::format("ip link add {} type bridge", bridge())) != 0) return;
    sh(fmt::format("ip addr add 10.{}.0.1/24 dev {}", net, bridge()));
    sh(fmt::format("ip link set {} up", bridge()));
    for (int i = 1; i <= hosts; ++i) {
      auto veth = fmt::format("{}v{}", tag, i), peer = fmt::format("{}p{}", tag, i);
      if (sh("ip netns add " + ns(i)) != 0 ||
          sh(fmt::format("ip link add {} type veth peer name {}", veth, peer)) != 0 ||
          sh(fmt::format("ip link set {} netns {}", veth, ns(i))) != 0)
        return;
      sh(fmt::format("ip link set {} master {} up", peer, bridge()));
      sh(fmt::format("ip netns exec {} ip addr add {}/24 dev {}", ns(i), ip(i), veth));
      sh(fmt::format("ip netns exec {} ip link set {} up", ns(i), veth));
      sh(fmt::format("ip netns exec {} ip link set lo up", ns(i)));
    }
    ok = sh(fmt::format("ping -c1 -W1 {}", ip(hosts))) == 0 ||
         sh(fmt::format("ip netns exec {} true", ns(hosts))) == 0;
  }
  ~netns_lab() {
    if (::geteuid() == 0) clean();
  }
  void clean() {
    for (int i = 1; i <= 4; ++i) { // the most any test creates

      sh(fmt::format("ip link del {}p{}", tag, i));
      sh("ip netns del " + ns(i));
    }
    sh("ip link del " + bridge());
  }
};

// The certificates of nodes 1-4 (TLS is required off loopback), made once, removed at exit.
const ordo::test::test_ca& netns_ca() {
  static const ordo::test::test_ca ca{4};
  return ca;
}

// Nodes 1-3 found the cluster; node 4 (when a test has it) joins later.
std::string config(const netns_lab& lab, int i) {
  std::string c = fmt::format("[node]\nid = {}\n[http]\nlisten = \"{}:8080\"\n", i, lab.ip(i));
  c += "[cluster]\n" + netns_ca().settings(i);
  if (i > 3) c += "join = true\n";
  for (int k = 1; k <= std::max(3, i); ++k)
    c += fmt::format("[[cluster.nodes]]\nid = {}\nhost = \"{}\"\nport = 7101\n", k, lab.ip(k));
  c += fmt::format("[[auth.keys]]\nname = \"ops\"\nkey = \"{}\"\nrole = \"operations\"\n", key);
  return c;
}

std::unique_ptr<ordo::test::node_process> start(const netns_lab& lab, const std::string& dir,
                                                int i) {
  auto d = fmt::format("{}/n{}", dir, i);
  std::filesystem::create_directories(d);
  auto n = std::make_unique<ordo::test::node_process>(
      d, config(lab, i), std::vector<std::string>{"--listen", lab.ip(i) + ":8080"});
  n->set_prefix({"/usr/sbin/ip", "netns", "exec", lab.ns(i)});
  REQUIRE_MESSAGE(n->start(), n->why());
  return n;
}

std::string body(int i) {
  return ordo::test::place_json(
      fmt::format("c-{}", i),
      {{fmt::format("SKU-{}", i % 6), 1, unit_price},
       {fmt::format("SKU-{}", (i + 3) % 6), 1, unit_price}});
}

ordo::v1::OrderStatus status_of(http_client& c, const std::string& id) {
  return ordo::test::order_state(c, id).status();
}

} // namespace

TEST_SUITE("cluster_netns") {
  TEST_CASE("3 nodes in separate network namespaces: routing, sagas, a node killed and back") {
    netns_lab lab;
    if (!lab.ok) {
      MESSAGE("SKIPPED: needs root and `ip netns`/veth/bridge support (run the suite as root "
              "on a machine that allows network namespaces for the full check)");
      return;
    }
    auto dir = ordo::test::fresh_dir("netns");
    std::vector<std::unique_ptr<ordo::test::node_process>> nodes;
    for (int i = 1; i <= 3; ++i)
      nodes.push_back(start(lab, dir, i));
    std::vector<std::unique_ptr<http_client>> c;
    for (int i = 0; i < 3; ++i)
      c.push_back(std::make_unique<http_client>(nodes[static_cast<size_t>(i)]->url(), key));
    // Until every node sees the other two (the connector retries every 250 ms).
    auto all_up = [&] {
      for (auto& cl : c)
        if (cl->get("/v1/cluster").body.find("\"up\":false") != std::string::npos) return false;
      return true;
    };
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{15};
    while (!all_up()) {
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    for (int s = 0; s < 6; ++s)
      ordo::test::stock_sku(*c[static_cast<size_t>(s % 3)], fmt::format("SKU-{}", s), 1000,
                            unit_price);
    std::vector<std::string> ids;
    for (int i = 0; i < 30; ++i) {
      auto r = c[static_cast<size_t>(i % 3)]->post("/v1/orders", body(i),
                                                   {{"Idempotency-Key", fmt::format("ns-{}", i)}});
      REQUIRE_MESSAGE(r.status == 201, r.body);
      ordo::v1::CommandAnswer a;
      REQUIRE(ordo::json::parse(r.body, a).empty());
      ids.push_back(a.order_id());
    }
    for (const auto& id : ids) { // every order delivered, read through another node
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
      while (status_of(*c[1], id) != ordo::v1::ORDER_STATUS_DELIVERED) {
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, id << " not delivered");
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
      }
    }
    // Node 3 killed: its orders answer 503 at once through node 1; the others still serve.
    CHECK(nodes[2]->stop(SIGKILL) == 128 + SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds{300});
    int ok = 0, refused = 0;
    for (const auto& id : ids) {
      auto r = c[0]->get("/v1/orders/" + id);
      if (r.status == 200) ++ok;
      if (r.status == 503) ++refused;
    }
    CHECK(ok > 0);
    CHECK(refused > 0);
    CHECK(ok + refused == 30);
    nodes[2] = start(lab, dir, 3);
    until = std::chrono::steady_clock::now() + std::chrono::seconds{15};
    while (!all_up()) {
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    for (const auto& id : ids)
      CHECK(status_of(*c[0], id) == ordo::v1::ORDER_STATUS_DELIVERED);
  }
}

TEST_SUITE("cluster_netns") {
  TEST_CASE("a vanished host (packets dropped) does not stall reconnecting the others") {
    netns_lab lab;
    if (!lab.ok) {
      MESSAGE("SKIPPED: needs root and `ip netns` (run as root for the full check)");
      return;
    }
    auto dir = ordo::test::fresh_dir("netns-blackhole");
    std::vector<std::unique_ptr<ordo::test::node_process>> nodes;
    for (int i = 1; i <= 3; ++i)
      nodes.push_back(start(lab, dir, i));
    http_client c1{nodes[0]->url(), key};
    auto peer_up = [&](int id) {
      return c1.get("/v1/cluster").body.find(fmt::format(R"({{"id":{},"up":true)", id)) !=
             std::string::npos;
    };
    auto wait_up = [&](int id, std::chrono::seconds limit) {
      auto until = std::chrono::steady_clock::now() + limit;
      while (!peer_up(id))
        if (std::chrono::steady_clock::now() >= until)
          return false;
        else
          std::this_thread::sleep_for(std::chrono::milliseconds{50});
      return true;
    };
    REQUIRE(wait_up(2, std::chrono::seconds{15}));
    REQUIRE(wait_up(3, std::chrono::seconds{15}));
    // Node 3's host vanishes: its process dies, and node 1's packets to it go to a MAC address
    // nobody has (a permanent neighbour entry), so a connect neither succeeds nor is refused —
    // it hangs, as for a host that lost power.
    CHECK(nodes[2]->stop(SIGKILL) == 128 + SIGKILL);
    REQUIRE(sh(fmt::format("ip netns exec {} ip neigh replace {} lladdr 02:00:00:00:00:99 dev "
                           "{}v1 nud permanent",
                           lab.ns(1), lab.ip(3), lab.tag)) == 0);
    // Node 2 restarts; node 1 must reconnect to it promptly, whatever node 3 does.
    CHECK(nodes[1]->stop(SIGKILL) == 128 + SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds{500}); // node 1 notices, starts probing
    nodes[1] = start(lab, dir, 2);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(wait_up(2, std::chrono::seconds{10}));
    auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    MESSAGE("node 1 reconnected to the restarted node 2 after " << took << " ms");
    CHECK_FALSE(peer_up(3));
  }
}

TEST_SUITE("cluster_netns") {
  TEST_CASE("a 4th node in its own namespace joins: shards move over the network, orders flow") {
    netns_lab lab{4};
    if (!lab.ok) {
      MESSAGE("SKIPPED: needs root and `ip netns` (run as root for the full check)");
      return;
    }
    auto dir = ordo::test::fresh_dir("netns-join");
    std::vector<std::unique_ptr<ordo::test::node_process>> nodes;
    for (int i = 1; i <= 3; ++i)
      nodes.push_back(start(lab, dir, i));
    http_client c1{nodes[0]->url(), key};
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{15};
    while (c1.get("/v1/cluster").body.find(R"({"id":3,"up":true)") == std::string::npos ||
           c1.get("/v1/cluster").body.find(R"({"id":2,"up":true)") == std::string::npos) {
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    for (int s = 0; s < 6; ++s)
      ordo::test::stock_sku(c1, fmt::format("SKU-{}", s), 1000, unit_price);
    std::vector<std::string> ids;
    auto place = [&](http_client& via, int i) {
      auto r = via.post("/v1/orders", body(i), {{"Idempotency-Key", fmt::format("nj-{}", i)}});
      REQUIRE_MESSAGE(r.status == 201, r.body);
      ordo::v1::CommandAnswer a;
      REQUIRE(ordo::json::parse(r.body, a).empty());
      ids.push_back(a.order_id());
    };
    for (int i = 0; i < 30; ++i)
      place(c1, i);
    nodes.push_back(start(lab, dir, 4));
    std::string members;
    for (int i = 1; i <= 4; ++i)
      members +=
          fmt::format(R"({}{{"id":{},"host":"{}","port":7101}})", i > 1 ? "," : "", i, lab.ip(i));
    auto r = c1.post("/v1/cluster/members", fmt::format(R"({{"nodes":[{}]}})", members));
    REQUIRE_MESSAGE(r.status == 202, r.body);
    until = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    for (;;) {
      auto st = c1.get("/v1/cluster").body;
      if (st.find(R"("running":false,"result":"done")") != std::string::npos) break;
      const bool still_running = st.find(R"("running":true)") != std::string::npos;
      REQUIRE_MESSAGE(still_running, st); // stopped without "done": it failed
      REQUIRE(std::chrono::steady_clock::now() < until);
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
    http_client c4{nodes[3]->url(), key};
    CHECK(c4.get("/v1/cluster").body.find(R"("shards_owned":16)") != std::string::npos);
    for (int i = 30; i < 60; ++i)
      place(c4, i);
    for (const auto& id : ids) { // every order delivered, read through the new node
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
      while (status_of(c4, id) != ordo::v1::ORDER_STATUS_DELIVERED) {
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, id << " not delivered");
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
      }
    }
  }
}
