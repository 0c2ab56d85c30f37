#pragma once
// Always-on invariant assertions: a broken invariant is a bug, so log it and abort.

#include <cstdio>
#include <cstdlib>

#include <fmt/core.h>

#define ORDO_STORAGE_CHECK(cond, ...)                                                              \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fmt::print(stderr, "[storage] invariant failed at {}:{}: {}: {}\n", __FILE__, __LINE__,      \
                 #cond, fmt::format(__VA_ARGS__));                                                 \
      std::fflush(stderr);                                                                         \
      std::abort();                                                                                \
    }                                                                                              \
  } while (false)
