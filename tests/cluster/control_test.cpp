// Control messages between nodes: who sent one (control_auth: signed with the node's
// certificate of the cluster CA, CN ordo-node-<id>) and whether it may run here
// (control_checks: a member, the pending change's epoch, the step that change names).
#include <string>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "actors/cluster/control_auth.hpp"
#include "actors/cluster/control_checks.hpp"
#include "actors/cluster/ownership.hpp"
#include "test_ca.hpp"

using namespace ordo;
using namespace ordo::cluster;
using ordo::test::test_ca;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::unique_ptr<ownership> node(uint16_t self, bool join = false) {
  ownership::options o;
  o.self = self;
  o.config_members = {{1, "127.0.0.1", 7001}, {2, "127.0.0.1", 7002}, {3, "127.0.0.1", 7003}};
  if (join) o.config_members.push_back({4, "127.0.0.1", 7004});
  o.shard_count = 16;
  o.join = join;
  auto own = ownership::open(o);
  REQUIRE(own);
  return std::move(*own);
}

// Node 1 coordinates epoch 2: 4 members, `shard` (node `from`'s) goes to node 4.
v1::MembershipChange change_to_four(const ownership& view, uint16_t shard) {
  v1::MembershipChange c;
  c.set_epoch(2);
  c.set_coordinator(1);
  for (uint32_t id = 1; id <= 4; ++id) {
    auto* m = c.add_members();
    m->set_id(id);
    m->set_host("127.0.0.1");
    m->set_port(7000 + id);
  }
  for (uint16_t s = 0; s < view.shard_count(); ++s) {
    c.add_owner(view.owner(s));
    c.add_owner_epoch(1);
    c.add_target(s == shard ? 4 : view.owner(s));
  }
  return c;
}

v1::ClusterControl from(uint32_t node) {
  v1::ClusterControl m;
  m.set_from_node(node);
  return m;
}

tls_options files_of(const test_ca& ca, int id) {
  return {true, ca.cert(id), ca.key(id), ca.ca()};
}

} // namespace

TEST_SUITE("cluster_control") {
  TEST_CASE("the receiver's checks: a member, the pending epoch, the step the change names") {
    auto n4 = node(4, true);
    auto n1 = node(1);
    const uint16_t s = n1->owned().front(); // node 1's shard, to node 4 at epoch 2
    auto change = change_to_four(*n1, s);

    // Anything: from another node that is a member.
    auto m = from(4);
    *m.mutable_commit() = v1::CommitMembership{};
    CHECK(has(check_control(*n4, m), "claiming to be from node 4"));
    m.set_from_node(9);
    CHECK(has(check_control(*n4, m), "node 9 is not a member"));

    // A change: its coordinator names itself and stays a member.
    auto c = from(2);
    *c.mutable_change() = change;
    CHECK(has(check_control(*n4, c), "its coordinator must name itself"));
    c.set_from_node(1);
    CHECK(check_control(*n4, c).empty());
    REQUIRE(!n4->prepare(n1->cluster_id(), change));

    // Records and activate, before node 1 (the old owner) has the change pending: refused;
    // at node 4, only from the shard's owner, for the pending epoch, for a shard given to it.
    auto act = from(1);
    act.mutable_activate()->set_epoch(2);
    act.mutable_activate()->set_shard(s);
    CHECK(check_control(*n4, act).empty());
    act.set_from_node(2);
    CHECK(has(check_control(*n4, act), "node 2 does not own shard"));
    act.set_from_node(1);
    act.mutable_activate()->set_epoch(1);
    CHECK(has(check_control(*n4, act), "the pending change is at epoch 2"));
    act.mutable_activate()->set_epoch(2);
    act.mutable_activate()->set_shard(static_cast<uint32_t>((s + 1) % 16));
    CHECK(has(check_control(*n4, act), "gives shard"));
    auto rec = from(1);
    rec.mutable_records()->set_epoch(2);
    rec.mutable_records()->set_shard(s);
    CHECK(check_control(*n4, rec).empty());
    rec.mutable_records()->set_epoch(3);
    CHECK(has(check_control(*n4, rec), "the pending change is at epoch 2"));

    // A move, at the old owner: nothing pending there yet, then only the coordinator's move
    // of exactly this shard to exactly that node.
    auto mv = from(1);
    mv.mutable_move()->set_epoch(2);
    mv.mutable_move()->set_shard(s);
    mv.mutable_move()->set_to_node(4);
    auto n2 = node(2);
    CHECK(has(check_control(*n2, mv), "no membership change is pending"));
    REQUIRE(!n2->prepare(n1->cluster_id(), change));
    mv.set_from_node(3);
    CHECK(has(check_control(*n2, mv), "node 3 does not coordinate"));
    mv.set_from_node(1);
    CHECK(check_control(*n2, mv).empty());
    mv.mutable_move()->set_to_node(3);
    CHECK(has(check_control(*n2, mv), "does not move shard"));
    mv.mutable_move()->set_to_node(4);
    mv.mutable_move()->set_epoch(7);
    CHECK(has(check_control(*n2, mv), "the pending change is at epoch 2"));

    // The commit: the coordinator's, for the pending epoch; an old one is a no-op.
    auto cm = from(2);
    cm.mutable_commit()->set_epoch(2);
    CHECK(has(check_control(*n4, cm), "node 2 does not coordinate"));
    cm.set_from_node(1);
    CHECK(check_control(*n4, cm).empty());
    cm.mutable_commit()->set_epoch(3);
    CHECK(has(check_control(*n4, cm), "the pending change is at epoch 2"));
    cm.mutable_commit()->set_epoch(1);
    CHECK(check_control(*n4, cm).empty());
    // A founding node with nothing pending: only old commits.
    auto n3 = node(3);
    cm.mutable_commit()->set_epoch(2);
    CHECK(has(check_control(*n3, cm), "no membership change is pending"));
  }

  TEST_CASE("a control message's sender is the certificate that signed it") {
    test_ca ca{3}, other{3};
    auto c1 = credentials::load(files_of(ca, 1), 1);
    auto c2 = credentials::load(files_of(ca, 2), 2);
    REQUIRE_MESSAGE(c1, caf::to_string(c1.error()));
    REQUIRE(c2);

    // The files are checked at start: the CN names this node, the key is the certificate's,
    // the certificate is the cluster CA's.
    auto wrong_id = credentials::load(files_of(ca, 1), 3);
    REQUIRE(!wrong_id);
    CHECK(has(caf::to_string(wrong_id.error()), "ordo-node-3"));
    auto wrong_key = credentials::load({true, ca.cert(1), ca.key(2), ca.ca()}, 1);
    REQUIRE(!wrong_key);
    CHECK(has(caf::to_string(wrong_key.error()), "is not the key of the certificate"));
    auto foreign = credentials::load({true, other.cert(1), other.key(1), ca.ca()}, 1);
    REQUIRE(!foreign);
    CHECK(has(caf::to_string(foreign.error()), "does not verify against the CA"));
    CHECK(!credentials::load({true, ca.cert(1), ca.key(1), "/nonexistent/ca.pem"}, 1));

    v1::ClusterControl msg = from(1);
    msg.set_to_node(2);
    msg.set_cluster_id(42);
    msg.mutable_activate()->set_epoch(2);
    msg.mutable_activate()->set_shard(5);
    auto sealed = (*c1)->seal(msg);
    v1::ClusterControl got;
    REQUIRE((*c2)->open(sealed, 2, got).empty());
    CHECK(got.from_node() == 1);
    CHECK(got.activate().epoch() == 2);
    // Meant for node 2: node 3 refuses it (a signed message cannot be replayed elsewhere).
    CHECK(has((*c2)->open(sealed, 3, got), "meant for node 2"));

    // Node 1's certificate claiming to be node 3.
    auto claim = msg;
    claim.set_from_node(3);
    CHECK(has((*c2)->open((*c1)->seal(claim), 2, got), "signed with the certificate of "
                                                       "'ordo-node-1'"));
    // Changed after signing (epoch 2 -> 9).
    v1::SignedControl s;
    REQUIRE(s.ParseFromString(sealed));
    auto changed = msg;
    changed.mutable_activate()->set_epoch(9);
    s.set_control(changed.SerializeAsString());
    CHECK(has((*c2)->open(s.SerializeAsString(), 2, got), "signature does not match"));
    // Signed by a node of another CA (with the same names).
    auto stranger = credentials::load(files_of(other, 1), 1);
    REQUIRE(stranger);
    CHECK(has((*c2)->open((*stranger)->seal(msg), 2, got), "does not vouch for"));
    // Unsigned: refused with TLS on, taken (addressed to it) without.
    auto plain = seal(nullptr, msg);
    CHECK(has((*c2)->open(plain, 2, got), "unsigned"));
    CHECK(open(nullptr, plain, 2, got).empty());
    CHECK(has(open(nullptr, plain, 3, got), "meant for node 2"));
    CHECK(has((*c2)->open("not a message", 2, got), "malformed"));
  }

  TEST_CASE("the TLS policy: required, or off only with every node on loopback") {
    std::vector<member> local = {{1, "127.0.0.1", 7001}, {2, "localhost", 7002}, {3, "::1", 7003}};
    CHECK(has(check_policy({true, "", "", ""}, local), "needs TLS"));
    CHECK(check_policy({true, "c.pem", "k.pem", "ca.pem"}, local).empty());
    CHECK(check_policy({false, "", "", ""}, local).empty());
    local.push_back({4, "10.0.0.4", 7004});
    CHECK(has(check_policy({false, "", "", ""}, local), "node 4 is at 10.0.0.4"));
    CHECK(is_loopback("127.3.2.1"));
    CHECK(!is_loopback("128.0.0.1"));
    CHECK(!is_loopback("localhost.example.com"));
  }
}
