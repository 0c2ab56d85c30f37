// storage_crash_child <mode> <dir> <run>: appends under load and reports each acknowledged
// event on stdout as "A <entity> <seq> <hash>" — only from a successful completion.
//   append  full sync, 64 entities, one request in flight per entity, runs until killed.
//   lying   NEGATIVE CONTROL: no_sync, acks at submit time (before commit) and acks one
//           phantom event it never submits. The checker must report loss.
//   fsync   like append on 8 entities, but stops each entity at its first error ("E <code>"),
//           then tries one more submit ("L <code>") and exits 0.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "crash_common.hpp"
#include "storage/journal.hpp"

using namespace ordo::storage;
using ordo::storage::test::hash_of;
using ordo::storage::test::payload_for;

namespace {

void emit(const std::string& line) {
  auto n = ::write(1, line.data(), line.size());
  (void)n;
}

struct child {
  std::unique_ptr<journal> j;
  bool lying = false;
  bool stop_on_error = false;
  std::atomic<int> active{0};

  void next(std::string entity, uint64_t last, uint64_t step) {
    append_request r;
    r.entity = entity;
    r.expected_seq = last;
    size_t n = 1 + (hash_of(entity, last) % 3);
    for (size_t i = 1; i <= n; ++i)
      r.events.push_back(payload_for(entity, last + i));
    r.idempotency.push_back({"", fmt::format("k{}", last + 1), fmt::format("r{}", last + n)});
    r.now_ms = step;
    if (lying)
      for (uint64_t s = last + 1; s <= last + n; ++s)
        emit(fmt::format("A {} {} {}\n", entity, s, hash_of(entity, s)));
    auto err =
        j->submit(std::move(r), [this, entity, last, n, step](caf::expected<append_result> res) {
          if (!res) {
            emit(fmt::format("E {}\n", to_string(*storage_errc_of(res.error()))));
            if (stop_on_error) {
              --active;
              return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            next(entity, last, step + 1); // e.g. overloaded/full: try again
            return;
          }
          if (!lying)
            for (uint64_t s = last + 1; s <= last + n; ++s)
              emit(fmt::format("A {} {} {}\n", entity, s, hash_of(entity, s)));
          next(entity, last + n, step + 1);
        });
    if (err) {
      emit(fmt::format("E {}\n", to_string(*storage_errc_of(err))));
      --active;
    }
  }
};

} // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    fmt::print(stderr, "usage: storage_crash_child append|lying|fsync <dir> <run>\n");
    return 2;
  }
  std::string mode = argv[1];
  journal_options o;
  o.dir = argv[2];
  o.map_size_bytes = uint64_t{4} << 30;
  o.batch_max_wait_us = 50;
  child c;
  c.lying = mode == "lying";
  c.stop_on_error = mode == "fsync";
  if (c.lying) o.mode = durability::no_sync;
  auto j = journal::open(o);
  if (!j) {
    fmt::print(stderr, "child: open failed: {}\n", describe(j.error()));
    return 3;
  }
  c.j = std::move(*j);
  if (c.lying) emit(fmt::format("A phantom-{} 1 0\n", argv[3]));
  const int entities = mode == "fsync" ? 8 : 64;
  c.active = entities;
  for (int e = 0; e < entities; ++e) {
    auto name = fmt::format("c{}", e);
    auto last = c.j->last_seq(name);
    if (!last) {
      fmt::print(stderr, "child: last_seq failed: {}\n", describe(last.error()));
      return 3;
    }
    c.next(name, *last, 0);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (c.active.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (mode == "fsync") {
    append_request r;
    r.entity = "late";
    r.events = {"late"};
    std::atomic<bool> done{false};
    auto err = c.j->submit(r, [&](caf::expected<append_result> res) {
      emit(res ? std::string("L ok\n")
               : fmt::format("L {}\n", to_string(*storage_errc_of(res.error()))));
      done = true;
    });
    if (err)
      emit(fmt::format("L {}\n", to_string(*storage_errc_of(err))));
    else
      while (!done)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  c.j->close();
  return 0;
}
