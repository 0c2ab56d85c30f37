// ownership: who owns which shard as one node knows it, persisted across restarts; the
// handoff steps' rules (only the owner decides about its shards; hints need newer epochs).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "actors/cluster/ownership.hpp"
#include "actors/cluster/shard_map.hpp"
#include "support/fresh_dir.hpp"

using namespace ordo;
using namespace ordo::cluster;

using ordo::test::fresh_dir;

namespace {

std::vector<member> three() {
  return {{1, "127.0.0.1", 7001}, {2, "127.0.0.1", 7002}, {3, "127.0.0.1", 7003}};
}

// A change to `epoch` as `own` sees the owners now, moving `shard` to `to` (nothing else).
v1::MembershipChange change_of(const ownership& own, uint64_t epoch, uint16_t shard, uint16_t to,
                               uint16_t coordinator = 1) {
  v1::MembershipChange c;
  c.set_epoch(epoch);
  c.set_coordinator(coordinator);
  for (const auto& m : three()) {
    auto* x = c.add_members();
    x->set_id(m.id);
    x->set_host(m.host);
    x->set_port(m.port);
  }
  for (uint16_t s = 0; s < own.shard_count(); ++s) {
    c.add_owner(own.owner(s));
    c.add_owner_epoch(own.owner_epoch(s));
    c.add_target(s == shard ? to : own.owner(s));
  }
  return c;
}

v1::CommitMembership commit_of(const v1::MembershipChange& c) {
  v1::CommitMembership out;
  out.set_epoch(c.epoch());
  *out.mutable_members() = c.members();
  for (auto t : c.target())
    out.add_owner(t);
  return out;
}

std::string text(const caf::error& e) {
  return caf::to_string(e);
}

std::unique_ptr<ownership> open_at(const std::string& path, uint16_t self, bool join = false) {
  ownership::options o;
  o.state_path = path;
  o.self = self;
  o.config_members = three();
  o.shard_count = 16;
  o.join = join;
  auto own = ownership::open(o);
  REQUIRE_MESSAGE(own, caf::to_string(own.error()));
  return std::move(*own);
}

} // namespace

TEST_SUITE("cluster_ownership") {
  TEST_CASE("founding: the shard map, epoch 1, every node agrees on the cluster id") {
    auto dir = ordo::test::fresh_dir("own");
    auto a = open_at(dir + "/a.pb", 1), b = open_at(dir + "/b.pb", 2);
    shard_map m{{1, 2, 3}, 16};
    for (uint16_t s = 0; s < 16; ++s) {
      CHECK(a->owner(s) == m.owner(s));
      CHECK(a->place(s) == (m.owner(s) == 1 ? shard_route::local : shard_route::remote));
    }
    CHECK(a->epoch() == 1);
    CHECK(a->cluster_id() == b->cluster_id());
    CHECK(a->cluster_id() != 0);
  }

  TEST_CASE("a handoff's steps persist and survive a reopen") {
    auto dir = ordo::test::fresh_dir("own");
    auto path = dir + "/state.pb";
    uint16_t mine = 0, theirs = 0;
    {
      auto a = open_at(path, 1);
      mine = a->owned().front();
      for (uint16_t s = 0; s < 16; ++s)
        if (a->place(s) == shard_route::remote) theirs = s;
      CHECK(a->begin_move_out(theirs, 4, 2)); // not ours: refused (an error)
      REQUIRE(!a->begin_move_out(mine, 4, 2));
      CHECK(a->place(mine) == shard_route::moving);
    }
    {
      auto a = open_at(path, 1); // a restart mid-move: still moving, never served again
      CHECK(a->place(mine) == shard_route::moving);
      REQUIRE(a->moving_out().size() == 1);
      CHECK(a->moving_out()[0].to_node() == 4);
      // A hint cannot take a shard this node is handing off.
      a->learn(mine, 3, 99);
      CHECK(a->place(mine) == shard_route::moving);
      REQUIRE(!a->finish_move_out(mine));
      CHECK(a->place(mine) == shard_route::remote);
      CHECK(a->owner(mine) == 4);
      CHECK(a->owner_epoch(mine) == 2);
    }
    auto a = open_at(path, 1);
    CHECK(a->owner(mine) == 4);
    CHECK(a->moving_out().empty());
    // Hints: an older epoch is ignored, a newer one taken.
    a->learn(mine, 3, 1);
    CHECK(a->owner(mine) == 4);
    a->learn(mine, 3, 3);
    CHECK(a->owner(mine) == 3);
    // Activation: only for a pending change that gives the shard back to this node.
    CHECK(a->activate(mine, 4, 3)); // nothing pending: refused
    CHECK(a->place(mine) == shard_route::remote);
    REQUIRE(!a->prepare(a->cluster_id(), change_of(*a, 4, mine, 1)));
    REQUIRE(!a->activate(mine, 4, 3));
    CHECK(a->place(mine) == shard_route::local);
    a->learn(mine, 2, 100); // never overrides what this node owns
    CHECK(a->place(mine) == shard_route::local);
  }

  TEST_CASE("a joining node owns nothing until a change teaches it the cluster") {
    auto dir = ordo::test::fresh_dir("own");
    auto j = open_at(dir + "/j.pb", 4, true);
    CHECK(j->cluster_id() == 0);
    for (uint16_t s = 0; s < 16; ++s)
      CHECK(j->place(s) == shard_route::unknown);
    auto founder = open_at(dir + "/f.pb", 1);
    v1::MembershipChange c;
    c.set_epoch(2);
    for (uint16_t s = 0; s < 16; ++s) {
      c.add_owner(founder->owner(s));
      c.add_owner_epoch(1);
      c.add_target(s % 4 + 1);
    }
    // A joining node takes the first change that reaches it; after that, a change of any
    // other cluster is refused.
    REQUIRE(!j->prepare(12345, c));
    CHECK(j->cluster_id() == 12345);
    c.set_epoch(3);
    CHECK(j->prepare(founder->cluster_id(), c));
    c.set_epoch(2);
    auto k = open_at(dir + "/k.pb", 4, true);
    REQUIRE(!k->prepare(founder->cluster_id(), c));
    CHECK(k->cluster_id() == founder->cluster_id());
    for (uint16_t s = 0; s < 16; ++s)
      CHECK(k->place(s) == shard_route::remote); // knows the owners, owns nothing yet
    CHECK(k->pending().has_value());
    // A commit never hands a shard over by itself: only activate() does.
    v1::CommitMembership commit;
    commit.set_epoch(2);
    for (auto t : c.target())
      commit.add_owner(t);
    REQUIRE(!k->commit(commit));
    CHECK(k->owned().empty());
    CHECK(k->epoch() == 2);
    CHECK(!k->pending().has_value());
    // The same change announced again (a re-run): nothing to do; an older one is refused.
    CHECK(!k->prepare(founder->cluster_id(), c));
    CHECK(!k->pending().has_value());
    c.set_epoch(1);
    CHECK(k->prepare(founder->cluster_id(), c));
    auto k2 = open_at(dir + "/k.pb", 4, true); // the state file wins over `join`
    CHECK(k2->cluster_id() == founder->cluster_id());
  }

  TEST_CASE("a damaged state file is refused, not guessed around") {
    auto dir = ordo::test::fresh_dir("own");
    auto path = dir + "/state.pb";
    open_at(path, 1);
    {
      std::FILE* f = std::fopen(path.c_str(), "wb");
      std::fputs("not a protobuf at all \xff\xff", f);
      std::fclose(f);
    }
    ownership::options o;
    o.state_path = path;
    o.self = 1;
    o.config_members = three();
    o.shard_count = 16;
    auto own = ownership::open(o);
    REQUIRE(!own);
    CHECK(caf::to_string(own.error()).find("damaged") != std::string::npos);
  }

  TEST_CASE("activate only for the pending change that names the move; a replayed stale one is "
            "refused") {
    auto dir = ordo::test::fresh_dir("own");
    auto founder = open_at(dir + "/f.pb", 1);
    auto j = open_at(dir + "/j.pb", 4, true);
    const uint16_t s = founder->owned().front(); // node 1's; it moves to node 4 at epoch 2
    uint16_t t = 0;                              // a shard of node 2 that stays there
    for (uint16_t x = 0; x < 16; ++x)
      if (founder->owner(x) == 2) t = x;
    auto c2 = change_of(*founder, 2, s, 4);
    // Nothing pending (the joining node has not heard of the change): refused.
    auto e = j->activate(s, 2, 1);
    REQUIRE(e);
    CHECK(text(e).find("no membership change is pending") != std::string::npos);
    REQUIRE(!j->prepare(founder->cluster_id(), c2));
    // Pending, but not this move: another epoch, a sender that does not own the shard, a
    // shard the change does not give to node 4, the sender claiming to be node 4 itself.
    CHECK(text(j->activate(s, 1, 1)).find("the pending change is at epoch 2") != std::string::npos);
    CHECK(text(j->activate(s, 3, 1)).find("the pending change is at epoch 2") != std::string::npos);
    CHECK(text(j->activate(s, 2, 2)).find("node 2 does not own it") != std::string::npos);
    CHECK(text(j->activate(s, 2, 4)).find("node 4 does not own it") != std::string::npos);
    CHECK(text(j->activate(t, 2, 2)).find("does not give it to node 4") != std::string::npos);
    CHECK(j->owned().empty());
    // The move the change names.
    REQUIRE(!j->activate(s, 2, 1));
    CHECK(j->place(s) == shard_route::local);
    CHECK(!j->activate(s, 2, 1)); // the same activate re-sent while the change is pending: fine
    REQUIRE(!j->commit(commit_of(c2)));
    // After the commit, a replay of that activate finds nothing pending.
    CHECK(text(j->activate(s, 2, 1)).find("no membership change is pending") != std::string::npos);
    // The shard moves on (epoch 3: back to node 1) ...
    auto c3 = change_of(*j, 3, s, 1);
    REQUIRE(!j->prepare(founder->cluster_id(), c3));
    REQUIRE(!j->begin_move_out(s, 1, 3));
    REQUIRE(!j->finish_move_out(s));
    CHECK(j->place(s) == shard_route::remote);
    // ... and the old activate replayed during the next change: another epoch, refused — the
    // shard is not taken back, node 1 stays its only owner.
    CHECK(text(j->activate(s, 2, 1)).find("the pending change is at epoch 3") != std::string::npos);
    CHECK(j->place(s) == shard_route::remote);
    REQUIRE(!j->commit(commit_of(c3)));
    CHECK(j->activate(s, 2, 1));
    CHECK(j->activate(s, 3, 1)); // epoch 3 gave it to node 1, and nothing is pending anyway
    CHECK(j->place(s) == shard_route::remote);
    j.reset();
    auto again = open_at(dir + "/j.pb", 4, true);
    CHECK(again->place(s) == shard_route::remote);
    CHECK(again->owner(s) == 1);
  }

  TEST_CASE("commit: an old one is a no-op, a newer one only for the pending change") {
    auto dir = ordo::test::fresh_dir("own");
    auto a = open_at(dir + "/a.pb", 2);
    auto c = change_of(*a, 2, a->owned().front(), 3);
    CHECK(text(a->commit(commit_of(c))).find("no membership change is pending") !=
          std::string::npos);
    CHECK(a->epoch() == 1);
    REQUIRE(!a->prepare(a->cluster_id(), c));
    auto later = c;
    later.set_epoch(5);
    CHECK(text(a->commit(commit_of(later))).find("the pending change is at epoch 2") !=
          std::string::npos);
    auto old = c;
    old.set_epoch(1);
    CHECK(!a->commit(commit_of(old))); // older than committed: nothing happens
    CHECK(a->pending().has_value());
    REQUIRE(!a->commit(commit_of(c)));
    CHECK(a->epoch() == 2);
    CHECK(!a->commit(commit_of(c))); // re-sent: a no-op
  }
}
