// Full disk (a tiny tmpfs; needs root for mount) and full map: explicit storage_full, reads
// keep working, writes resume once space frees, nothing acknowledged is lost.

#include <doctest/doctest.h>

#include <sys/mount.h>

#include <filesystem>
#include <fstream>

#include "test_util.hpp"

using namespace ordo::storage;
using namespace ordo::storage::test;

namespace {

struct tmpfs_mount {
  temp_dir dir;
  bool mounted = false;
  explicit tmpfs_mount(const char* size) {
    mounted = ::mount("tmpfs", dir.path.c_str(), "tmpfs", 0, size) == 0;
  }
  ~tmpfs_mount() {
    if (mounted) ::umount2(dir.path.c_str(), MNT_DETACH);
  }
};

// Appends 20 x 1000-byte events per request to fresh entities until a request fails.
// Returns the acknowledged (entity, events) and the first error.
caf::error fill(journal& j, std::vector<std::string>& acked, int& next_entity) {
  for (;;) {
    auto name = fmt::format("fill-{:06}", next_entity++);
    std::vector<std::string> evs(20, std::string(1000, static_cast<char>('a' + next_entity % 26)));
    auto r = append_sync(j, events_req(name, 0, evs));
    if (!r) return r.error();
    acked.push_back(name);
  }
}

void check_acked(const journal& j, const std::vector<std::string>& acked) {
  size_t bad = 0;
  for (const auto& name : acked) {
    caf::error err;
    if (history(j, name, 1, &err).size() != 20 || err) ++bad;
  }
  CHECK(bad == 0);
}

} // namespace

TEST_SUITE("storage_full_disk") {

  TEST_CASE("disk full on a tiny tmpfs: storage_full, reads served, writes resume") {
    tmpfs_mount m("size=8m");
    if (!m.mounted) {
      MESSAGE("SKIP: cannot mount a tmpfs (needs root / CAP_SYS_ADMIN). Run as root: "
              "sudo ctest -R storage_full_disk");
      return;
    }
    const auto filler = m.dir.path + "/filler";
    {
      std::ofstream f(filler, std::ios::binary);
      std::string mb(1 << 20, 'f');
      for (int i = 0; i < 4; ++i)
        f << mb;
    }
    auto o = options_for(m.dir.path + "/store");
    o.map_size_bytes = uint64_t{1} << 30; // far beyond the disk: the disk fills first
    o.log_segment_bytes = 256 << 10;      // segments that fit the 8 MiB disk many times
    // No timed checkpoints: the disk fills with the log's tail as large as it gets (the worst
    // case for the checkpoint that must then fit, and the same on a fast or a slow machine).
    o.checkpoint_interval_ms = 3'600'000;
    o.checkpoint_max_records = 1'000'000;
    auto j = open_or_die(o);
    std::vector<std::string> acked;
    int next = 0;
    auto err = fill(*j, acked, next);
    MESSAGE("disk full after ", acked.size(), " requests: ", describe(err));
    CHECK(code_of(err) == storage_errc::storage_full);
    REQUIRE(!acked.empty());
    CHECK(!j->fail_stop_error()); // not a fail-stop
    check_acked(*j, acked);       // reads keep working
    auto again = append_sync(*j, events_req("again", 0, {std::string(100000, 'x')}));
    CHECK(code_of(again) == storage_errc::storage_full);
    std::filesystem::remove(filler);
    auto resumed = append_sync(*j, events_req("after-free", 0, {"x", "y"}));
    CHECK(resumed);
    // The whole tail now fits in LMDB: a standalone write checkpoints it first. One transaction
    // over it would need ~1.3x the tail free while the log still holds it; segment-sized chunks
    // release the log as they go.
    auto checkpointed = j->expire_idempotency(0);
    CHECK_MESSAGE(checkpointed, describe(checkpointed.error()));
    CHECK(j->stats().tail_bytes == 0);
    size_t before = acked.size();
    err = fill(*j, acked, next);
    CHECK(code_of(err) == storage_errc::storage_full);
    CHECK(acked.size() > before);
    check_acked(*j, acked);
    j->close();
    auto rep = verify(o.dir);
    REQUIRE(rep);
    for (const auto& p : rep->problems)
      MESSAGE(p);
    CHECK(rep->ok());
    auto j2 = open_or_die(o);
    check_acked(*j2, acked);
    CHECK(*j2->last_seq("after-free") == 2);
  }

  TEST_CASE("map full: storage_full, reads served, a larger map resumes") {
    temp_dir d;
    auto o = options_for(d.path);
    o.map_size_bytes = size_t{2} << 20;
    std::vector<std::string> acked;
    int next = 0;
    {
      auto j = open_or_die(o);
      auto err = fill(*j, acked, next);
      MESSAGE("map full after ", acked.size(), " requests: ", describe(err));
      CHECK(code_of(err) == storage_errc::storage_full);
      CHECK(!j->fail_stop_error());
      check_acked(*j, acked);
      CHECK(*j->last_seq(acked.back()) == 20);
      // A tiny request may still fit or not; either way the journal is not failed.
      auto small = append_sync(*j, events_req("small", 0, {"x"}));
      CHECK((small || code_of(small) == storage_errc::storage_full));
    }
    o.map_size_bytes = size_t{64} << 20;
    auto j = open_or_die(o);
    CHECK(append_sync(*j, events_req("after-grow", 0, {"x"})));
    check_acked(*j, acked);
    j->close();
    auto rep = verify(o.dir);
    REQUIRE(rep);
    CHECK(rep->ok());
  }

} // TEST_SUITE
