#pragma once
// The cluster tests' harness: N real ordo-node processes on loopback, and the checks every
// cluster test ends with (orders settled, stock audited).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "messages/json/json.hpp"
#include "net/http_client.hpp"
#include "ordo/v1/api.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"
#include "support/api_client.hpp"
#include "support/node_process.hpp"
#include "test_ca.hpp"

namespace ordo::test::cluster_support {

using ordo::net::http_client;
using ordo::test::fresh_dir;
using ordo::test::node_process;

// A port the kernel just had free (bound to 0, then released).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// The price of record of every SKU the cluster tests stock, and what their orders pay.
inline constexpr int64_t unit_price = 100;

struct cluster {
  std::string dir = fresh_dir("cluster");
  std::vector<uint16_t> ports;
  ordo::test::test_ca ca; // every node's certificate, made by scripts/make-test-ca.sh
  bool tls = true;        // false: cluster.tls = false (loopback), no certificates
  std::vector<std::unique_ptr<node_process>> nodes;
  size_t founding;              // nodes 1..founding found the cluster; the others join it later
  std::string cluster_settings; // extra `key = value` lines for every node's [cluster]
  std::string node_settings;    // ... and for its [node]

  explicit cluster(int n, int founders = 0)
      : ca(n), founding(founders > 0 ? size_t(founders) : size_t(n)) {
    for (int i = 0; i < n; ++i)
      ports.push_back(free_port());
    for (int i = 0; i < n; ++i)
      nodes.push_back(nullptr);
  }
  std::string config(int i) const {
    std::string c = fmt::format("[node]\nid = {}\n", i + 1) + node_settings;
    // A shard stopped mid-move (a killed node, a slow re-run under a loaded CI machine) can
    // hold an order's payment step longer than the default 30 s payment timeout, which then
    // cancels it by design. The audits require every order DELIVERED to catch a saga that
    // loses track of an order; with a long timeout such an order stays unsettled instead
    // (await_settled fails), and a legitimate timeout cannot fail them.
    c += "[saga]\npayment_timeout = \"10m\"\n";
    const bool joins = size_t(i) >= founding;
    c += "[cluster]\n" + cluster_settings;
    c += tls ? ca.settings(i + 1) : std::string("tls = false\n");
    if (joins) c += "join = true\n";
    for (size_t k = 0; k < (joins ? ports.size() : founding); ++k)
      c += fmt::format("[[cluster.nodes]]\nid = {}\nhost = \"127.0.0.1\"\nport = {}\n", k + 1,
                       ports[k]);
    return c;
  }
  void start(int i) {
    auto d = fmt::format("{}/n{}", dir, i + 1);
    std::filesystem::create_directories(d);
    nodes[static_cast<size_t>(i)] = std::make_unique<node_process>(d, config(i));
    REQUIRE_MESSAGE(nodes[static_cast<size_t>(i)]->start(), nodes[static_cast<size_t>(i)]->why());
  }
  std::string url(int i) const { return nodes[static_cast<size_t>(i)]->url(); }
  // Starts every node, waits until they see each other, and stocks SKU-0.. with `qty` each at
  // the price of record `unit_price`
  // (through every node in turn: any node accepts any SKU).
  std::vector<std::string> start_stocked(int sku_count, int64_t qty) {
    for (size_t i = 0; i < founding; ++i)
      start(static_cast<int>(i));
    await_connected();
    std::vector<std::string> skus;
    for (int i = 0; i < sku_count; ++i) {
      skus.push_back(fmt::format("SKU-{}", i));
      http_client c{url(i % static_cast<int>(founding))};
      ordo::test::stock_sku(c, skus.back(), qty, unit_price);
    }
    return skus;
  }
  size_t running() const {
    size_t n = 0;
    for (const auto& p : nodes)
      n += p != nullptr;
    return n;
  }
  // Until every node reports its peers connected (the connector retries every 250 ms).
  void await_connected() {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{15};
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!nodes[i]) continue;
      http_client c{nodes[i]->url()};
      for (;;) {
        auto m = c.get("/metrics");
        size_t up = 0, pos = 0;
        while ((pos = m.body.find("ordo_cluster_peer_up{", pos)) != std::string::npos) {
          auto nl = m.body.find('\n', pos);
          if (m.body[nl - 1] == '1') ++up;
          pos = nl;
        }
        if (up + 1 == running()) break;
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until, "peers never connected");
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
      }
    }
  }
};

inline std::string place_body(const std::string& sku_a, const std::string& sku_b) {
  return ordo::test::place_json("c-1", {{sku_a, 1, unit_price}, {sku_b, 2, unit_price}});
}

inline ordo::v1::OrderState order(http_client& c, const std::string& id, int* status = nullptr) {
  return ordo::test::order_state(c, id, status);
}

inline bool settled(const ordo::v1::OrderState& s) {
  return s.status() == ordo::v1::ORDER_STATUS_DELIVERED ||
         s.status() == ordo::v1::ORDER_STATUS_REJECTED ||
         s.status() == ordo::v1::ORDER_STATUS_CANCELLED;
}

// Waits until every order settled (read through `via`), up to 60 s.
inline void await_settled(const std::string& via, const std::vector<std::string>& ids) {
  http_client c{via};
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  for (const auto& id : ids) {
    for (;;) {
      auto s = order(c, id);
      if (settled(s)) break;
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < until,
                      id << " never settled, is " << ordo::v1::OrderStatus_Name(s.status()));
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  }
}

// Stock audit: for every SKU, on_hand = initial − units of delivered orders, nothing reserved.
inline void audit_stock(const std::string& via, const std::vector<std::string>& skus,
                        int64_t initial, const std::vector<std::string>& ids) {
  http_client c{via};
  std::map<std::string, int64_t> shipped;
  for (const auto& id : ids) {
    auto s = order(c, id);
    if (s.status() != ordo::v1::ORDER_STATUS_DELIVERED) continue;
    for (const auto& l : s.lines())
      shipped[l.sku()] += l.quantity();
  }
  for (const auto& sku : skus) {
    auto r = c.get("/v1/inventory/" + sku);
    REQUIRE(r.status == 200);
    ordo::v1::InventoryState st;
    REQUIRE(ordo::json::parse(r.body, st).empty());
    CHECK_MESSAGE(st.on_hand() == initial - shipped[sku], sku);
    CHECK_MESSAGE(st.reserved_total() == 0, sku);
  }
}

} // namespace ordo::test::cluster_support
