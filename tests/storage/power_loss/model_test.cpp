// The crash-image model on hand-written op logs: what survives a cut under each policy.

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <set>

#include "../test_util.hpp"
#include "crash_image.hpp"

using namespace ordo::storage;
using namespace ordo::storage::power;

namespace {

// Writes an op log record by record, as the shim would.
struct log_writer {
  std::string bytes = PL_MAGIC;
  void add(pl_type t, uint32_t file, uint64_t a = 0, uint64_t b = 0, std::string_view data = {}) {
    pl_rec h{static_cast<uint32_t>(t), file, a, b, 1, static_cast<uint32_t>(data.size())};
    bytes.append(reinterpret_cast<const char*>(&h), sizeof h);
    bytes.append(data);
  }
  op_log read(const std::string& dir) const {
    auto path = dir + "/test.log";
    std::ofstream(path, std::ios::binary) << bytes;
    std::string err;
    auto log = read_op_log(path, err);
    REQUIRE_MESSAGE(log.has_value(), err);
    return std::move(*log);
  }
};

std::string fill(char c, size_t n) {
  return std::string(n, c);
}

} // namespace

TEST_SUITE("storage_power_loss") {

  TEST_CASE("model: synced writes stay, unsynced ones are optional, O_DSYNC writes stay") {
    test::temp_dir d;
    log_writer w;
    w.add(PL_FILE, 1, 0, 0, "f");
    w.add(PL_WRITE, 1, 0, 0, fill('a', 1024));   // 0
    w.add(PL_FDATASYNC, 1);                      // 1: 'a' durable
    w.add(PL_WRITE, 1, 0, 0, fill('b', 512));    // 2: unsynced
    w.add(PL_WRITE, 1, 512, 1, fill('c', 512));  // 3: durable at completion
    w.add(PL_WRITE, 1, 1024, 0, fill('d', 512)); // 4: unsynced, extends the file
    auto log = w.read(d.path);
    std::mt19937_64 rng(1);
    image_builder b(log, {{"f", ""}});
    b.advance_to(log.ops.size());
    CHECK(b.problems().empty());
    CHECK(b.image(persist::synced, rng)["f"] == fill('a', 512) + fill('c', 512));
    CHECK(b.image(persist::all, rng)["f"] == fill('b', 512) + fill('c', 512) + fill('d', 512));
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i)
      for (auto p : {persist::subset, persist::torn, persist::ordered}) {
        auto f = b.image(p, rng)["f"];
        REQUIRE((f.size() == 1024 || f.size() == 1536));
        CHECK(f.substr(512, 512) == fill('c', 512)); // durable, always
        seen.insert(f.substr(0, 512) + (f.size() > 1024 ? "+d" : ""));
      }
    CHECK(seen.size() == 4); // a or b, with or without d: every combination occurs
  }

  TEST_CASE("model: a cut keeps only the ops before it") {
    test::temp_dir d;
    log_writer w;
    w.add(PL_FILE, 1, 0, 0, "f");
    w.add(PL_WRITE, 1, 0, 0, "one");
    w.add(PL_FSYNC, 1);
    w.add(PL_MARKER, 0, 0, 0, "A x 1 0\n");
    w.add(PL_WRITE, 1, 0, 0, "two");
    w.add(PL_FSYNC, 1);
    auto log = w.read(d.path);
    std::mt19937_64 rng(2);
    image_builder b(log, {{"f", "zero"}});
    b.advance_to(0);
    CHECK(b.image(persist::all, rng)["f"] == "zero");
    b.advance_to(2);
    CHECK(b.image(persist::synced, rng)["f"] == "zero");
    CHECK(b.image(persist::all, rng)["f"] == "oneo");
    b.advance_to(3);
    CHECK(b.image(persist::synced, rng)["f"] == "oneo");
    b.advance_to(5);
    CHECK(b.image(persist::synced, rng)["f"] == "oneo");
    std::set<std::string> in_flight;
    for (int i = 0; i < 50; ++i) // "two" is unsynced: either; op 5 (an fsync) adds nothing
      in_flight.insert(b.image(persist::torn, rng, true)["f"]);
    CHECK(in_flight.size() == 2);
    b.advance_to(6);
    CHECK(b.image(persist::synced, rng)["f"] == "twoo");
  }

  TEST_CASE("model: torn writes land in whole 512-byte sectors") {
    test::temp_dir d;
    log_writer w;
    w.add(PL_FILE, 1, 0, 0, "f");
    w.add(PL_WRITE, 1, 0, 0, fill('n', 4096));
    auto log = w.read(d.path);
    std::mt19937_64 rng(3);
    image_builder b(log, {{"f", fill('o', 4096)}});
    b.advance_to(log.ops.size());
    std::set<std::string> patterns;
    for (int i = 0; i < 300; ++i) {
      auto f = b.image(persist::torn, rng)["f"];
      REQUIRE(f.size() == 4096);
      std::string pattern;
      for (size_t s = 0; s < 8; ++s) {
        auto sector = f.substr(s * 512, 512);
        bool whole = sector == fill('n', 512) || sector == fill('o', 512);
        REQUIRE(whole);
        pattern += sector[0];
      }
      patterns.insert(pattern);
    }
    CHECK(patterns.size() > 50); // of 256 possible
  }

  TEST_CASE("model: names — creation with the file's sync, renames with the directory's") {
    test::temp_dir d;
    log_writer w;
    w.add(PL_CREATE, 1, 0, 0, "seg.tmp"); // 0
    w.add(PL_WRITE, 1, 0, 0, "log");      // 1
    w.add(PL_FDATASYNC, 1);               // 2: creation durable (not strict)
    w.add(PL_RENAME, 0, 0, 0, std::string("seg.tmp\0seg.1", 13)); // 3
    w.add(PL_CREATE, 2, 0, 0, "other");                           // 4: never synced
    w.add(PL_DIRSYNC, 0, 0, 0, "");     // 5: rename and creation of "other" durable
    w.add(PL_UNLINK, 0, 0, 0, "seg.1"); // 6
    auto log = w.read(d.path);
    std::mt19937_64 rng(4);
    auto names = [](const file_map& m) {
      std::set<std::string> out;
      for (const auto& [n, c] : m)
        out.insert(n);
      return out;
    };
    using set = std::set<std::string>;
    image_builder loose(log, {}), strict(log, {}, {true});
    loose.advance_to(2);
    strict.advance_to(2);
    CHECK(names(loose.image(persist::synced, rng)).empty());
    CHECK(names(loose.image(persist::all, rng)) == set{"seg.tmp"});
    loose.advance_to(3);
    strict.advance_to(3);
    CHECK(loose.image(persist::synced, rng) == file_map{{"seg.tmp", "log"}});
    CHECK(names(strict.image(persist::synced, rng)).empty());
    loose.advance_to(5);
    CHECK(names(loose.image(persist::synced, rng)) == set{"seg.tmp"});
    CHECK(names(loose.image(persist::all, rng)) == (set{"seg.1", "other"}));
    loose.advance_to(6);
    strict.advance_to(6);
    CHECK(loose.image(persist::synced, rng) == (file_map{{"seg.1", "log"}, {"other", ""}}));
    CHECK(strict.image(persist::synced, rng) == (file_map{{"seg.1", "log"}, {"other", ""}}));
    loose.advance_to(7);
    CHECK(names(loose.image(persist::synced, rng)) == (set{"seg.1", "other"}));
    CHECK(names(loose.image(persist::all, rng)) == set{"other"});
    CHECK(loose.problems().empty());
  }

  TEST_CASE("model: truncation is durable with the file's sync; unknown files are problems") {
    test::temp_dir d;
    log_writer w;
    w.add(PL_FILE, 1, 0, 0, "f");
    w.add(PL_TRUNCATE, 1, 2);
    w.add(PL_WRITE, 2, 0, 0, "x"); // file #2 never opened
    w.add(PL_UNSUPPORTED, 0, 0, 0, "hard link into the data directory");
    auto log = w.read(d.path);
    std::mt19937_64 rng(5);
    image_builder b(log, {{"f", "abcdef"}});
    b.advance_to(2);
    CHECK(b.image(persist::synced, rng)["f"] == "abcdef");
    CHECK(b.image(persist::all, rng)["f"] == "ab");
    b.advance_to(4);
    CHECK(b.problems().size() == 2);
  }

} // TEST_SUITE
