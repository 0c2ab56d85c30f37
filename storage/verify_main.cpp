// ordo-verify <dir>: scans a store read-only and prints the report; exit 0 only when clean.

#include <fmt/core.h>

#include "storage/journal.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: ordo-verify <store dir>\n");
    return 2;
  }
  auto rep = ordo::storage::verify(argv[1]);
  if (!rep) {
    fmt::print(stderr, "ordo-verify: {}\n", ordo::storage::describe(rep.error()));
    return 2;
  }
  fmt::print("store {}\n  events {}  index entries {}  entities {}\n"
             "  idempotency {}  snapshots {}  timers {}  offsets {}\n"
             "  feed low-water {}  feed head {}\n",
             argv[1], rep->events, rep->index_entries, rep->entities, rep->idempotency_records,
             rep->snapshots, rep->timers, rep->offsets, rep->feed_low_water, rep->feed_head);
  for (const auto& p : rep->problems)
    fmt::print("PROBLEM {}\n", p);
  fmt::print("{}\n", rep->ok() ? "OK" : fmt::format("{} problem(s)", rep->problems.size()));
  return rep->ok() ? 0 : 1;
}
