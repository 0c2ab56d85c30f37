#include "actors/runtime/retention.hpp"

#include <fmt/core.h>

namespace ordo {

idempotency_retention::idempotency_retention(caf::actor_system& sys, storage::journal& j,
                                             retention_options o, std::function<int64_t()> now_ms)
    : journal_(j), opt_(o), now_ms_(std::move(now_ms)) {
  if (opt_.retention.count() > 0)
    actor_.start(sys, opt_.every, opt_.batches_per_round, [this] { return step(); });
}

idempotency_retention::~idempotency_retention() {
  stop();
}

void idempotency_retention::stop() {
  actor_.stop();
}

bool idempotency_retention::step() {
  const int64_t cutoff = now_ms_() - opt_.retention.count();
  if (cutoff <= 0) return false;
  auto n = journal_.expire_idempotency(static_cast<uint64_t>(cutoff), opt_.batch);
  if (!n) {
    // Logged once per round (the round ends); the next round tries again (a fail-stopped
    // journal keeps refusing, and says why on every write).
    fmt::print(stderr, "[error] idempotency retention: {}\n", to_string(n.error()));
    return false;
  }
  expired_ += *n;
  return *n >= opt_.batch; // a full batch: more may be older
}

} // namespace ordo
