#pragma once
// Seeds for randomised tests: printed on every run, and accepted back through the
// ORDO_SEED environment variable to replay a failure exactly.
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include <fmt/core.h>

namespace ordo::test {

/// Returns ORDO_SEED if set, otherwise a fresh random seed; prints it with `what`.
inline uint64_t seed_for(const char* what) {
  uint64_t seed = 0;
  if (const char* env = std::getenv("ORDO_SEED"); env != nullptr && *env != '\0') {
    seed = std::strtoull(env, nullptr, 10);
  } else {
    std::random_device rd;
    seed = (uint64_t{rd()} << 32) | rd();
  }
  fmt::print("[seed] {}: ORDO_SEED={} (set it to replay)\n", what, seed);
  return seed;
}

/// Number of random cases per property: ORDO_PROPERTY_RUNS, default `fallback`.
inline int runs_or(int fallback) {
  if (const char* env = std::getenv("ORDO_PROPERTY_RUNS"); env != nullptr && *env != '\0')
    return std::atoi(env);
  return fallback;
}

} // namespace ordo::test
