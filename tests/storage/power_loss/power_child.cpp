// storage_power_child <full_sync|no_meta_sync|no_sync> <dir> <batches> <max_seconds>
// The workload of the power-loss test, run under the LD_PRELOAD shim. Appends on 16 entities
// (one request in flight each: 1-3 events, an idempotency record, every 4th a snapshot) and
// saves a consumer offset every 20 ms from the main thread (a standalone synced write on
// another thread). Stops submitting after <batches> group commits or <max_seconds>, waits for
// what is in flight, closes the journal and exits 0.
//
// Each line goes to fd 1 with ONE write(2), only after what it acknowledges completed — the
// shim records it as a marker after the commit's writes and syncs:
//   R                            journal::open returned (the store exists durably)
//   A <entity> <seq> <hash>      an event; hash = content_hash(payload)
//   I <entity> <key> <result>    the request's idempotency record
//   S <entity> <seq>             the request's snapshot
//   O <name> <position>          save_offset returned
//   E <code>                     a failure (the test expects none)

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "power_common.hpp"
#include "storage/journal.hpp"

using namespace ordo::storage;
using namespace ordo::storage::power;
using ordo::storage::test::hash_of;
using ordo::storage::test::payload_for;

namespace {

void emit(const std::string& line) {
  auto n = ::write(1, line.data(), line.size());
  (void)n;
}

struct child {
  std::unique_ptr<journal> j;
  std::atomic<bool> stopping{false};
  std::atomic<int> active{0};

  void next(const std::string& entity, uint64_t last, uint64_t step) {
    if (stopping.load()) {
      --active;
      return;
    }
    append_request r;
    r.entity = entity;
    r.expected_seq = last;
    uint64_t n = 1 + hash_of(entity, last) % 3;
    for (uint64_t i = 1; i <= n; ++i)
      r.events.push_back(payload_for(entity, last + i));
    auto key = fmt::format("k{}", last + 1), result = fmt::format("r{}", last + n);
    r.idempotency.push_back({"", key, result});
    bool snap = step % 4 == 3;
    if (snap) r.snapshot = snapshot_write{last + n, snapshot_for(entity, last + n)};
    r.now_ms = step + 1;
    auto err = j->submit(std::move(r), [this, entity, last, n, step, key, result,
                                        snap](caf::expected<append_result> res) {
      if (!res) {
        auto code = *storage_errc_of(res.error());
        emit(fmt::format("E {}\n", to_string(code)));
        if (code == storage_errc::overloaded) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          next(entity, last, step + 1);
        } else {
          --active;
        }
        return;
      }
      std::string out;
      for (uint64_t s = last + 1; s <= last + n; ++s)
        out += fmt::format("A {} {} {}\n", entity, s, content_hash(payload_for(entity, s)));
      out += fmt::format("I {} {} {}\n", entity, key, result);
      if (snap) out += fmt::format("S {} {}\n", entity, last + n);
      emit(out);
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
  if (argc != 5) {
    fmt::print(stderr, "usage: storage_power_child full_sync|no_meta_sync|no_sync <dir> "
                       "<batches> <max_seconds>\n");
    return 2;
  }
  std::string mode = argv[1];
  journal_options o;
  o.dir = argv[2];
  o.map_size_bytes = uint64_t{1} << 30;
  o.batch_max_wait_us = 50;
  // Small segments and frequent checkpoints: the recorded run then holds segment creation,
  // rolls, checkpoints and segment deletion, and the images cut each of them at every step.
  o.log_segment_bytes = 64 << 10;
  o.checkpoint_interval_ms = 20;
  o.checkpoint_max_records = 64;
  if (mode == "no_meta_sync")
    o.mode = durability::no_meta_sync;
  else if (mode == "no_sync")
    o.mode = durability::no_sync;
  else if (mode != "full_sync") {
    fmt::print(stderr, "child: unknown mode {}\n", mode);
    return 2;
  }
  const uint64_t batches = std::stoull(argv[3]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::stoi(argv[4]));

  auto opened = journal::open(o);
  if (!opened) {
    fmt::print(stderr, "child: open failed: {}\n", describe(opened.error()));
    return 3;
  }
  child c;
  c.j = std::move(*opened);
  emit("R\n");
  c.active = child_entities;
  for (int e = 0; e < child_entities; ++e) {
    auto name = entity_name(e);
    auto last = c.j->last_seq(name);
    if (!last) {
      fmt::print(stderr, "child: last_seq failed: {}\n", describe(last.error()));
      return 3;
    }
    c.next(name, *last, 0);
  }
  auto position = c.j->load_offset(offset_name());
  uint64_t pos = position && *position ? **position : 0;
  while (c.j->stats().batches < batches && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (auto err = c.j->save_offset(offset_name(), ++pos))
      emit(fmt::format("E {}\n", to_string(*storage_errc_of(err))));
    else
      emit(fmt::format("O {} {}\n", offset_name(), pos));
  }
  c.stopping = true;
  auto drain_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (c.active.load() > 0 && std::chrono::steady_clock::now() < drain_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  c.j->close();
  return c.active.load() == 0 ? 0 : 4;
}
