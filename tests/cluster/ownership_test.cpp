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

using namespace ordo;
using namespace ordo::cluster;

namespace ordo::test {
// A fresh directory under the system temp dir for one test case's state files.
std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("ordo-{}-{}-{}", name, ::getpid(),
                         std::chrono::steady_clock::now().time_since_epoch().count());
  std::filesystem::create_directories(dir);
  return dir.string();
}
} // namespace ordo::test

namespace {

std::vector<member> three() {
  return {{1, "127.0.0.1", 7001}, {2, "127.0.0.1", 7002}, {3, "127.0.0.1", 7003}};
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
    // Activation: the shard comes back.
    REQUIRE(!a->activate(mine, 4));
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
}
