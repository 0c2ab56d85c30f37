#pragma once
// Shared by storage_crash_child and the fault tests: what the child writes, so the checker can
// tell a whole record from a damaged one without trusting the child.

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/core.h>

namespace ordo::storage::test {

inline uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

inline uint64_t hash_of(std::string_view s, uint64_t seq) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : s)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return mix(h ^ seq);
}

/// The payload of event `seq` of `entity`: 40..300 bytes, fully determined by its name.
inline std::string payload_for(std::string_view entity, uint64_t seq) {
  auto h = hash_of(entity, seq);
  auto s = fmt::format("{}#{}#", entity, seq);
  size_t n = 40 + h % 260;
  while (s.size() < n)
    s.push_back(static_cast<char>('a' + (mix(h + s.size()) % 26)));
  return s;
}

} // namespace ordo::storage::test
