// The cluster port with TLS (docs/cluster.md, "TLS between nodes"): 3 real ordo-node
// processes on loopback, and raw CAF clients of this test's own making that speak the
// cluster's wire protocol. A client with a certificate of another CA, or in plaintext, cannot
// forward a command (a restock) or read an order; the same client with a cluster certificate
// can (so the refusals are the certificate's doing). A holder of a valid cluster certificate
// still cannot take or give away a shard: control messages are signed, addressed, and checked
// against the pending change.
#include <fstream>
#include <optional>
#include <set>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <doctest/doctest.h>
#include <fmt/core.h>

#include "actors/cluster/control_auth.hpp"
#include "actors/cluster/link_impl.hpp"
#include "actors/cluster/ownership.hpp"
#include "actors/cluster/shard_map.hpp"
#include "actors/cluster/tls.hpp"
#include "actors/runtime/placement.hpp"
#include "app/node/config.hpp"
#include "app/node/errors.hpp"
#include "cluster_support.hpp"
#include "domain/envelope.hpp"
#include "domain/order_id.hpp"
#include "ordo/v1/cluster.pb.h"

using namespace ordo::test::cluster_support;
namespace cl_ = ordo::cluster;

namespace {

// A CAF peer: the node's own transport code (tls.hpp), with whatever credentials the test
// gives it (none: plaintext).
struct raw_peer {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  bool tls;
  explicit raw_peer(std::optional<cl_::tls_options> t) : tls(t.has_value()) {
    cfg.load<caf::io::middleman>();
    cfg.set("logger.verbosity", caf::atom("quiet"));
    if (t) cl_::configure(cfg, *t);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
  caf::expected<caf::actor> connect(uint16_t port) {
    return cl_::connect(*sys, "127.0.0.1", port, tls, std::chrono::seconds{5});
  }
  template <class Atom>
  caf::expected<std::string> ask(const caf::actor& to, Atom, std::string bytes) {
    caf::scoped_actor self{*sys};
    caf::expected<std::string> out = caf::make_error(caf::sec::request_timeout);
    self->request(to, std::chrono::seconds{5}, Atom::value, std::move(bytes))
        .receive([&](std::string& r) { out = std::move(r); }, [&](caf::error& e) { out = e; });
    return out;
  }
};

struct attempt {
  bool connected = false, read = false, restocked = false;
};

// The node owning `shard` on the founding map of 3 nodes, 64 shards.
uint16_t owner_of(uint16_t shard) {
  return cl_::shard_map{{1, 2, 3}, 64}.owner(shard);
}

// Reads order `id` from its owner's ingress and forwards a restock of 1000 `sku` to its owner.
attempt try_peer(raw_peer& p, const cluster& cl, const std::string& id, const std::string& sku,
                 const std::string& key) {
  attempt a;
  const auto cluster_id = cl_::ownership::founding_id({1, 2, 3}, 64);
  const auto order_shard = ordo::domain::shard_of(id).value();
  const auto sku_shard = static_cast<uint16_t>(ordo::stable_hash(sku) % 64);
  auto h = p.connect(cl.ports[owner_of(order_shard) - 1u]);
  if (!h) {
    MESSAGE("could not connect: " << caf::to_string(h.error()));
    return a;
  }
  a.connected = true;
  ordo::v1::ForwardedRead r;
  r.set_from_node(1);
  r.set_cluster_id(cluster_id);
  r.set_entity_type(ordo::v1::ENTITY_TYPE_ORDER);
  r.set_entity_id(id);
  if (auto got = p.ask(*h, cl_::read_atom{}, r.SerializeAsString())) {
    ordo::v1::ForwardedState fs;
    ordo::v1::OrderState st;
    a.read = fs.ParseFromString(*got) && fs.error().empty() && st.ParseFromString(fs.state()) &&
             st.order_id() == id;
  }
  ordo::v1::ForwardedCommand fc;
  fc.set_from_node(1);
  fc.set_cluster_id(cluster_id);
  fc.set_shard(sku_shard);
  auto& e = *fc.mutable_command();
  e.set_schema_version(ordo::domain::schema_version_current);
  e.set_entity_type(ordo::v1::ENTITY_TYPE_INVENTORY);
  e.set_entity_id(sku);
  e.set_idempotency_key(key);
  e.mutable_inventory_command()->set_sku(sku);
  e.mutable_inventory_command()->mutable_restock()->set_quantity(1000);
  auto h2 = p.connect(cl.ports[owner_of(sku_shard) - 1u]);
  if (!h2) return a;
  if (auto got = p.ask(*h2, cl_::fwd_atom{}, fc.SerializeAsString())) {
    ordo::v1::ForwardedOutcome o;
    a.restocked = o.ParseFromString(*got) && o.status() == "accepted";
    if (!a.restocked) MESSAGE("restock answered " << o.status() << " " << o.message());
  }
  return a;
}

int64_t on_hand(http_client& c, const std::string& sku) {
  auto r = c.get("/v1/inventory/" + sku);
  REQUIRE(r.status == 200);
  ordo::v1::InventoryState st;
  REQUIRE(ordo::json::parse(r.body, st).empty());
  return st.on_hand();
}

// Which node pairs lost their connection (the nodes' cluster_peer_down lines; both ends log
// a drop). Checked against pairs_down_tolerated: on a loaded 2-core machine (CI runs another
// cluster test beside this one) a node starved of CPU for longer than the middleman's
// connection timeout (1 s) may drop one connection — seen in 2 of 4 runs beside the membership
// test, each time one pair, logged by both ends. The failure these checks catch drops every
// pair, again and again: without the OpenSSL error-queue workaround one run logged two dozen
// lines over all three pairs and could not even stock its SKUs.
constexpr size_t pairs_down_tolerated = 1;

size_t pairs_down(const cluster& cl) {
  std::set<std::pair<size_t, size_t>> pairs;
  for (size_t i = 0; i < cl.nodes.size(); ++i) {
    std::ifstream log{fmt::format("{}/n{}/node.log", cl.dir, i + 1)};
    for (std::string line; std::getline(log, line);) {
      const auto at = line.find("event=cluster_peer_down");
      if (at == std::string::npos) continue;
      MESSAGE("node " << i + 1 << ": " << line);
      const auto peer_at = line.find(" peer=", at);
      REQUIRE(peer_at != std::string::npos);
      const size_t peer = std::stoul(line.substr(peer_at + 6));
      pairs.emplace(std::min(i + 1, peer), std::max(i + 1, peer));
    }
  }
  return pairs.size();
}

// Stops the nodes and removes their directory (kept when a REQUIRE stopped the test early).
void clean_up(cluster& cl) {
  for (auto& n : cl.nodes)
    n.reset();
  std::filesystem::remove_all(cl.dir);
}

// "id:[shards]" for each node as `url` sees it, with its epochs: what a control message that
// got through would change.
std::string ownership_view(const std::string& url) {
  http_client c{url};
  auto body = c.get("/v1/cluster").body;
  std::string out;
  for (auto key : {"\"epoch\":", "\"pending_epoch\":", "\"shards_owned\":"}) {
    auto at = body.find(key);
    REQUIRE(at != std::string::npos);
    out += body.substr(at, body.find(',', at) - at) + ";";
  }
  for (int id = 1; id <= 3; ++id) {
    auto at = body.find(fmt::format(R"({{"id":{},)", id));
    REQUIRE(at != std::string::npos);
    auto open = body.find("\"shards\":[", at);
    out += fmt::format("{}:{};", id, body.substr(open, body.find(']', open) - open + 1));
  }
  return out;
}

} // namespace

TEST_SUITE("cluster_tls") {
  TEST_CASE("another CA's certificate or plaintext cannot forward a command or read an order") {
    cluster cl{3};
    auto skus = cl.start_stocked(2, 100);
    http_client c1{cl.url(0)};
    auto placed = c1.post("/v1/orders", place_body(skus[0], skus[1]), {{"Idempotency-Key", "t1"}});
    REQUIRE_MESSAGE(placed.status == 201, placed.body);
    ordo::v1::CommandAnswer a;
    REQUIRE(ordo::json::parse(placed.body, a).empty());
    const auto id = a.order_id(); // read below
    await_settled(cl.url(0), {id});
    REQUIRE(order(c1, id).status() == ordo::v1::ORDER_STATUS_DELIVERED);
    // Its one unit of skus[0] leaves on_hand when the saga commits the stock, which may come
    // after the order reads DELIVERED; after that nothing moves it.
    const int64_t stock = 100 - 1;
    for (int i = 0; i < 100 && on_hand(c1, skus[0]) != stock; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    REQUIRE(on_hand(c1, skus[0]) == stock);

    ordo::test::test_ca other{3}; // another CA, with the same names as the cluster's
    {
      // Its certificate, while trusting the cluster's CA: only the node can refuse.
      raw_peer p{cl_::tls_options{true, other.cert(1), other.key(1), cl.ca.ca()}};
      auto r = try_peer(p, cl, id, skus[0], "restock-foreign");
      CHECK_FALSE(r.read);
      CHECK_FALSE(r.restocked);
    }
    {
      raw_peer p{std::nullopt}; // plaintext
      auto r = try_peer(p, cl, id, skus[0], "restock-plain");
      CHECK_FALSE(r.read);
      CHECK_FALSE(r.restocked);
    }
    CHECK(on_hand(c1, skus[0]) == stock);
    // The refused clients did not disturb the nodes' connections to each other: CAF 0.17
    // leaves OpenSSL's error queue dirty after a failed handshake, and before
    // ssl_error_queue.cpp the next read on every other connection failed with it.
    std::this_thread::sleep_for(std::chrono::milliseconds{300}); // a drop shows within ~150 ms
    CHECK(pairs_down(cl) <= pairs_down_tolerated);
    {
      // The same client with a cluster certificate gets through: the refusals above were the
      // certificate's doing, not a broken client.
      raw_peer p{cl_::tls_options{true, cl.ca.cert(1), cl.ca.key(1), cl.ca.ca()}};
      auto r = try_peer(p, cl, id, skus[0], "restock-member");
      CHECK(r.connected);
      CHECK(r.read);
      CHECK(r.restocked);
    }
    CHECK(on_hand(c1, skus[0]) == stock + 1000);
    CHECK(pairs_down(cl) <= pairs_down_tolerated);
    clean_up(cl);
  }

  TEST_CASE("a cluster certificate cannot take or give away a shard: control messages are "
            "signed, addressed, and checked against the pending change") {
    cluster cl{3};
    for (int i = 0; i < 3; ++i)
      cl.start(i);
    cl.await_connected();
    const auto cluster_id = cl_::ownership::founding_id({1, 2, 3}, 64);
    cl_::shard_map map{{1, 2, 3}, 64};
    uint16_t theirs = 0, mine = 0; // a shard of node 3's, and one of node 2's
    for (uint16_t s = 0; s < 64; ++s) {
      if (map.owner(s) == 3) theirs = s;
      if (map.owner(s) == 2) mine = s;
    }
    const auto before = ownership_view(cl.url(1));

    // A peer holding node 1's certificate and key (a valid cluster certificate), talking to
    // node 2's ingress.
    raw_peer p{cl_::tls_options{true, cl.ca.cert(1), cl.ca.key(1), cl.ca.ca()}};
    auto creds = cl_::credentials::load({true, cl.ca.cert(1), cl.ca.key(1), cl.ca.ca()}, 1);
    REQUIRE(creds);
    auto h = p.connect(cl.ports[1]);
    REQUIRE_MESSAGE(h, caf::to_string(h.error()));
    auto send = [&](ordo::v1::ClusterControl msg, bool sign = true) {
      msg.set_cluster_id(cluster_id);
      auto got = p.ask(*h, cl_::ctl_atom{}, sign ? (*creds)->seal(msg) : cl_::seal(nullptr, msg));
      REQUIRE_MESSAGE(got, caf::to_string(got.error()));
      ordo::v1::ControlAnswer ans;
      REQUIRE(ans.ParseFromString(*got));
      return ans.error();
    };
    auto activate = [&](uint32_t from, uint32_t to, uint64_t epoch) {
      ordo::v1::ClusterControl m;
      m.set_from_node(from);
      m.set_to_node(to);
      m.mutable_activate()->set_epoch(epoch);
      m.mutable_activate()->set_shard(theirs);
      return m;
    };
    // Activate node 3's shard at node 2, with no change pending: at the current epoch, a
    // stale one, a future one — each refused.
    for (uint64_t epoch : {1, 0, 2, 9}) {
      auto why = send(activate(1, 2, epoch));
      CHECK_MESSAGE(why.find("no membership change is pending") != std::string::npos, why);
    }
    // Claiming to be node 3 (the shard's owner) with node 1's certificate; unsigned; signed
    // for node 3 but sent to node 2.
    auto why = send(activate(3, 2, 2));
    CHECK_MESSAGE(why.find("signed with the certificate of 'ordo-node-1'") != std::string::npos,
                  why);
    why = send(activate(3, 2, 2), false);
    CHECK_MESSAGE(why.find("unsigned") != std::string::npos, why);
    why = send(activate(1, 3, 2));
    CHECK_MESSAGE(why.find("meant for node 3") != std::string::npos, why);
    // Tell node 2 to hand its own shard to node 1, and commit a made-up membership.
    ordo::v1::ClusterControl move;
    move.set_from_node(1);
    move.set_to_node(2);
    move.mutable_move()->set_epoch(2);
    move.mutable_move()->set_shard(mine);
    move.mutable_move()->set_to_node(1);
    why = send(move);
    CHECK_MESSAGE(why.find("no membership change is pending") != std::string::npos, why);
    ordo::v1::ClusterControl commit;
    commit.set_from_node(1);
    commit.set_to_node(2);
    commit.mutable_commit()->set_epoch(2);
    for (uint16_t s = 0; s < 64; ++s)
      commit.mutable_commit()->add_owner(1);
    why = send(commit);
    CHECK_MESSAGE(why.find("no membership change is pending") != std::string::npos, why);
    // Nothing changed at node 2, which counted the refusals and kept serving.
    CHECK(ownership_view(cl.url(1)) == before);
    http_client c2{cl.url(1)};
    auto m = c2.get("/metrics").body;
    auto at = m.find("\nordo_cluster_refused_total ");
    REQUIRE(at != std::string::npos);
    CHECK(std::stoi(m.substr(at + 28)) >= 9);
    CHECK(pairs_down(cl) <= pairs_down_tolerated);
    clean_up(cl);
  }

  TEST_CASE("a cluster needs TLS settings (off only on loopback), and a node refuses to start "
            "with another node's certificate") {
    ordo::node::node_config c;
    c.cluster = {{1, "127.0.0.1", 7001}, {2, "localhost", 7002}};
    auto v = ordo::node::validate(c);
    REQUIRE_FALSE(v);
    CHECK(ordo::node::describe(v.error()).find("needs TLS") != std::string::npos);
    c.cluster_tls = false; // every node on loopback: allowed
    CHECK(ordo::node::validate(c));
    c.cluster.push_back({3, "10.0.0.3", 7003});
    v = ordo::node::validate(c);
    REQUIRE_FALSE(v);
    CHECK(ordo::node::describe(v.error()).find("node 3 is at 10.0.0.3") != std::string::npos);
    c.cluster_tls = true;
    c.tls_certificate = "/etc/ordo/node.pem";
    c.tls_key = "/etc/ordo/node.key";
    c.tls_ca = "/etc/ordo/ca.pem";
    CHECK(ordo::node::validate(c));

    // Node 1 given node 2's certificate and key (all valid, of the cluster CA).
    ordo::test::test_ca ca{2};
    auto dir = fresh_dir("tls-wrong-cert");
    auto config = fmt::format("[node]\nid = 1\n[cluster]\ntls_certificate = \"{}\"\ntls_key = "
                              "\"{}\"\ntls_ca = \"{}\"\n[[cluster.nodes]]\nid = 1\nhost = "
                              "\"127.0.0.1\"\nport = {}\n[[cluster.nodes]]\nid = 2\nhost = "
                              "\"127.0.0.1\"\nport = {}\n",
                              ca.cert(2), ca.key(2), ca.ca(), free_port(), free_port());
    node_process n{dir, config};
    CHECK_FALSE(n.start());
    CHECK_MESSAGE(n.why().find("is for 'ordo-node-2'") != std::string::npos, n.why());
    std::filesystem::remove_all(dir);
  }
}
