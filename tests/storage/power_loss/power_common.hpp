#pragma once
// What storage_power_child writes and acknowledges, shared with the checker, so an image can
// be judged without trusting the child.

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "../crash_common.hpp"

namespace ordo::storage::power {

constexpr int child_entities = 16;
inline std::string entity_name(int i) {
  return fmt::format("p{}", i);
}
inline const char* offset_name() {
  return "power";
}

/// Content hash of stored bytes (what an "A" line carries).
inline uint64_t content_hash(std::string_view bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : bytes)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return test::mix(h);
}

/// The snapshot the child stores for `entity` at `seq`.
inline std::string snapshot_for(std::string_view entity, uint64_t seq) {
  auto s = fmt::format("snap {} {} ", entity, seq);
  s.append(64 + seq % 200, static_cast<char>('A' + seq % 26));
  return s;
}

} // namespace ordo::storage::power
