#pragma once
// In a forked child: replaces the process with `args[0]`, run with `args` as its argv; exits
// with status 127 when that fails (the parent sees a process that exited at start).

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace ordo::test {

[[noreturn]] inline void exec_args(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  std::_Exit(127);
}

} // namespace ordo::test
