#include "actors/runtime/retention.hpp"

#include <fmt/core.h>

namespace ordo {

idempotency_retention::idempotency_retention(storage::journal& j, retention_options o,
                                             std::function<int64_t()> now_ms)
    : journal_(j), opt_(o), now_ms_(std::move(now_ms)) {
  if (opt_.retention.count() > 0) thread_.start("ordo-retention", opt_.every, [this] { round(); });
}

idempotency_retention::~idempotency_retention() {
  stop();
}

void idempotency_retention::stop() {
  thread_.stop();
}

void idempotency_retention::round() {
  const int64_t cutoff = now_ms_() - opt_.retention.count();
  if (cutoff <= 0) return;
  for (size_t b = 0; b < opt_.batches_per_round; ++b) {
    if (thread_.stopping()) return;
    auto n = journal_.expire_idempotency(static_cast<uint64_t>(cutoff), opt_.batch);
    if (!n) {
      // Logged once per round; the next round tries again (a fail-stopped journal keeps
      // refusing, and says why on every write).
      fmt::print(stderr, "[error] idempotency retention: {}\n", to_string(n.error()));
      return;
    }
    expired_ += *n;
    if (*n < opt_.batch) return; // nothing older left
  }
}

} // namespace ordo
