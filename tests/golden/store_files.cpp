// The golden store's files (see store_files.hpp).
#include "store_files.hpp"

#include <lmdb.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "golden_files.hpp"
#include "storage/log_format.hpp"

namespace ordo::golden {

namespace {

std::string file_bytes(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  REQUIRE_MESSAGE(static_cast<bool>(in), "cannot read ", p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// LMDB's compacting copy of `live_dir`'s data.mdb, as bytes.
std::string compacted_lmdb(const std::string& live_dir, const std::string& scratch_dir) {
  const auto out = fs::path{scratch_dir} / "compact";
  fs::create_directories(out);
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 32);
  int rc = mdb_env_open(env, live_dir.c_str(), MDB_RDONLY, 0644);
  if (rc == 0) rc = mdb_env_copy2(env, out.c_str(), MDB_CP_COMPACT);
  mdb_env_close(env);
  REQUIRE_MESSAGE(rc == 0, "compacting copy of ", live_dir, ": ", mdb_strerror(rc));
  return file_bytes(out / "data.mdb");
}

// A segment's bytes up to the end of its last frame ("" when it holds none).
std::string used_part(const std::string& segment) {
  size_t at = 0;
  for (;;) {
    auto f = storage::logfmt::read_frame(std::string_view{segment}.substr(at));
    if (f.status != storage::logfmt::frame_status::ok) break;
    at += f.size;
  }
  return segment.substr(0, at);
}

} // namespace

void save_golden_store(const std::string& live_dir, const std::string& scratch_dir) {
  if (fs::exists(data_dir() / "store")) {
    MESSAGE("kept the existing golden store");
    return;
  }
  write_golden_once("store/data.mdb", compacted_lmdb(live_dir, scratch_dir));
  for (const auto& e : fs::directory_iterator(fs::path{live_dir} / "log")) {
    auto used = used_part(file_bytes(e.path()));
    if (!used.empty()) write_golden_once("store/log/" + e.path().filename().string(), used);
  }
}

void copy_golden_store(const std::string& dir) {
  const auto from = data_dir() / "store";
  read_golden("store/data.mdb"); // fails, naming the writer, if the store is missing
  fs::create_directories(fs::path{dir} / "log");
  fs::copy_file(from / "data.mdb", fs::path{dir} / "data.mdb");
  int segments = 0;
  for (const auto& e : fs::directory_iterator(from / "log")) {
    fs::copy_file(e.path(), fs::path{dir} / "log" / e.path().filename());
    ++segments;
  }
  REQUIRE_MESSAGE(segments > 0, "the golden store has no log segment");
}

std::unique_ptr<storage::journal> open_store(const std::string& dir) {
  storage::journal_options o;
  o.dir = dir;
  o.checkpoint_interval_ms = uint64_t{1} << 40;
  o.checkpoint_max_records = size_t{1} << 40;
  auto j = storage::journal::open(o);
  REQUIRE_MESSAGE(static_cast<bool>(j), "cannot open the store in ", dir, ": ",
                  (j ? "" : storage::describe(j.error())));
  return std::move(*j);
}

std::vector<std::string> feed_records(const storage::journal& j) {
  std::vector<std::string> out;
  auto err =
      j.read_feed(0, 100'000, [&](uint64_t, std::string_view, uint64_t, std::string_view bytes) {
        out.emplace_back(bytes);
        return true;
      });
  REQUIRE_MESSAGE(!err, "reading the feed: ", storage::describe(err));
  return out;
}

} // namespace ordo::golden
