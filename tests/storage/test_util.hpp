#pragma once
// Helpers shared by the storage tests: temp dirs, synchronous submit, reading a history.

#include <stdlib.h>

#include <filesystem>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "storage/journal.hpp"

namespace ordo::storage::test {

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/ordo-storage-XXXXXX";
    char* p = mkdtemp(tmpl);
    if (p != nullptr) path = p;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

inline journal_options options_for(const std::string& dir) {
  journal_options o;
  o.dir = dir;
  o.map_size_bytes = uint64_t{1} << 30;
  o.batch_max_wait_us = 0;
  o.log_segment_bytes = 1 << 20; // small segments: tests open many stores
  return o;
}

inline std::unique_ptr<journal> open_or_die(const journal_options& o) {
  auto j = journal::open(o);
  if (!j) {
    fmt::print(stderr, "open {} failed: {}\n", o.dir, describe(j.error()));
    std::abort();
  }
  return std::move(*j);
}

/// Submits and waits for the completion.
inline caf::expected<append_result> append_sync(journal& j, append_request r) {
  std::promise<caf::expected<append_result>> p;
  auto f = p.get_future();
  if (auto err = j.submit(std::move(r),
                          [&p](caf::expected<append_result> res) { p.set_value(std::move(res)); }))
    return err;
  return f.get();
}

inline append_request events_req(std::string entity, uint64_t expected,
                                 std::vector<std::string> events) {
  append_request r;
  r.entity = std::move(entity);
  r.expected_seq = expected;
  r.events = std::move(events);
  return r;
}

inline std::vector<std::pair<uint64_t, std::string>> history(const journal& j,
                                                             std::string_view entity,
                                                             uint64_t from = 1,
                                                             caf::error* err_out = nullptr) {
  std::vector<std::pair<uint64_t, std::string>> out;
  auto err = j.read_events(entity, from, [&](uint64_t seq, std::string_view b) {
    out.emplace_back(seq, std::string(b));
    return true;
  });
  if (err_out != nullptr) *err_out = err;
  return out;
}

inline std::optional<storage_errc> code_of(const caf::error& e) {
  return storage_errc_of(e);
}

template <class T>
std::optional<storage_errc> code_of(const caf::expected<T>& e) {
  if (e) return std::nullopt;
  return storage_errc_of(e.error());
}

} // namespace ordo::storage::test
