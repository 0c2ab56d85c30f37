#pragma once
// Always-on invariant checks. A broken invariant is a bug, not an expected failure: we print
// what broke (with fmt, to stderr) and abort, in every build type. Expected failures are
// values (v1::Rejection), never assertions.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/core.h>

namespace ordo::domain::detail {

[[noreturn]] inline void assert_fail(const char* cond, const char* file, int line,
                                     const std::string& what) {
  fmt::print(stderr, "ORDO_ASSERT({}) failed at {}:{}: {}\n", cond, file, line, what);
  std::fflush(stderr);
  std::abort();
}

} // namespace ordo::domain::detail

/// ORDO_ASSERT(condition, "format {}", args...): aborts with the formatted message if false.
#define ORDO_ASSERT(cond, ...)                                                                     \
  do {                                                                                             \
    if (!(cond)) [[unlikely]]                                                                      \
      ::ordo::domain::detail::assert_fail(#cond, __FILE__, __LINE__, fmt::format(__VA_ARGS__));    \
  } while (false)
