#include "actors/runtime/feed_retention.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include <fmt/core.h>

#include "ordo/v1/envelope.pb.h"
#include "storage/errors.hpp"

namespace ordo {

feed_retention::feed_retention(caf::actor_system& sys, storage::journal& j,
                               feed_retention_options o, std::function<int64_t()> now_ms,
                               snapshot_fn snapshot)
    : journal_(j), opt_(o), now_ms_(std::move(now_ms)), snapshot_(std::move(snapshot)) {
  if (opt_.retention.count() > 0)
    actor_.start(sys, opt_.every, opt_.batches_per_round, [this] { return background_step(); });
}

feed_retention::~feed_retention() {
  stop();
}

void feed_retention::stop() {
  actor_.stop();
}

caf::expected<uint64_t> feed_retention::position_before(int64_t cutoff_ms, uint64_t from,
                                                        uint64_t head) {
  // Binary search for the last position whose event time is <= cutoff: positions are in
  // commit order and event times follow it (to within one batch's decisions).
  uint64_t lo = from, hi = head; // lo: known old enough; answer in [lo, hi]
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    int64_t at_ms = 0;
    uint64_t found = 0;
    bool parsed = true;
    auto err = journal_.read_feed(
        mid - 1, 1, [&](uint64_t pos, std::string_view, uint64_t, std::string_view bytes) {
          v1::Envelope e;
          parsed = e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
          at_ms = e.timestamp_ms();
          found = pos;
          return false;
        });
    if (err) return err;
    if (!parsed)
      return make_error(storage::storage_errc::corrupted,
                        fmt::format("feed record at position {} is not an envelope", found));
    if (found == 0 || at_ms > cutoff_ms)
      hi = mid - 1;
    else
      lo = std::max(mid, std::min(found, hi));
  }
  return lo;
}

bool feed_retention::background_step() {
  std::unique_lock<std::mutex> serial{round_mu_, std::try_to_lock};
  if (!serial) return false; // a synchronous round is doing this work now
  auto more = step();
  if (!more) {
    // Logged once per round (the round ends); the next round tries again (a fail-stopped
    // journal keeps refusing, and says why on every write).
    fmt::print(stderr, "[error] feed retention: {}\n", to_string(more.error()));
    return false;
  }
  return *more;
}

caf::error feed_retention::round() {
  std::lock_guard<std::mutex> serial{round_mu_};
  for (size_t b = 0; b < opt_.batches_per_round; ++b) {
    auto more = step();
    if (!more) return more.error();
    if (!*more) break;
  }
  return {};
}

caf::expected<bool> feed_retention::step() {
  const int64_t cutoff = now_ms_() - opt_.retention.count();
  if (opt_.retention.count() <= 0 || cutoff <= 0) return false;
  auto bounds = journal_.feed_bounds();
  if (!bounds) return bounds.error();
  // A truncation left unfinished by someone else: its stretch is no longer readable as the
  // feed, so it goes without snapshots (records no snapshot covers are kept).
  if (bounds->truncate_cursor < bounds->low_water) {
    auto t = journal_.truncate_feed(bounds->low_water, opt_.scan_batch);
    if (!t) return t.error();
    removed_ += t->removed;
    return true;
  }
  // Never past a saved offset: a consumer that must see everything holds the log.
  uint64_t up_to = bounds->head;
  auto offsets = journal_.list_offsets("");
  if (!offsets) return offsets.error();
  for (auto& [name, position] : *offsets)
    up_to = std::min(up_to, position);
  auto old = position_before(cutoff, bounds->truncate_cursor, up_to);
  if (!old) return old.error();
  up_to = *old;
  if (bounds->truncate_cursor >= up_to) return false;
  // 1. The next stretch of the feed and the entities in it.
  std::set<std::string> entities;
  uint64_t last = bounds->truncate_cursor;
  size_t records = 0;
  auto err =
      journal_.read_feed(bounds->truncate_cursor, opt_.scan_batch,
                         [&](uint64_t pos, std::string_view entity, uint64_t, std::string_view) {
                           if (pos > up_to) return false;
                           entities.emplace(entity);
                           last = pos;
                           ++records;
                           return true;
                         });
  if (err) return err;
  if (records == 0) return false;
  // 2. A snapshot of each, so truncation may remove their events up to `last`.
  std::vector<storage::journal::snapshot_entry> snaps;
  for (const auto& entity : entities) {
    auto s = snapshot_(entity);
    if (!s) return s.error();
    if (*s) snaps.push_back(std::move(**s));
  }
  auto written = journal_.save_snapshots(snaps);
  if (!written) return written.error();
  snapshots_ += *written;
  // 3. Truncate exactly that stretch (it holds `records` log records: one call finishes).
  auto t = journal_.truncate_feed(last, records + 1);
  if (!t) return t.error();
  removed_ += t->removed;
  return last < up_to;
}

} // namespace ordo
