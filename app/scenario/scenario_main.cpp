// ordo-scenario: runs scenario files (see app/scenario/scenario.hpp) against an embedded
// runtime with its own data directory. Exit code 0 when every step passed.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/core.h>

#include "app/scenario/embedded.hpp"

int main(int argc, char** argv) {
  std::string data;
  bool keep_going = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      fmt::print("usage: ordo-scenario [--data DIR] [--keep-going] FILE...\n"
                 "  Runs each scenario against a fresh embedded runtime (data in DIR/<n>,\n"
                 "  default a new directory under /tmp). The format is described in\n"
                 "  app/scenario/scenario.hpp and docs/scenarios.md.\n");
      return 0;
    }
    if (a == "--data" && i + 1 < argc)
      data = argv[++i];
    else if (a == "--keep-going")
      keep_going = true;
    else
      files.push_back(a);
  }
  if (files.empty()) {
    fmt::print(stderr, "ordo-scenario: no scenario file given (see --help)\n");
    return 2;
  }
  if (data.empty()) {
    char tmpl[] = "/tmp/ordo-scenario-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      fmt::print(stderr, "ordo-scenario: cannot create a temporary directory\n");
      return 2;
    }
    data = tmpl;
  }
  int failed = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    ordo::runtime_config cfg;
    cfg.data_dir = fmt::format("{}/{}", data, i);
    cfg.saga.enabled = false; // scenarios play the services; `saga on` turns the saga on
    std::filesystem::create_directories(cfg.data_dir);
    auto report = ordo::scenario::run_file(files[i], cfg, keep_going);
    if (report.ok()) {
      fmt::print("PASS {} ({} steps)\n", files[i], report.steps_run);
    } else {
      ++failed;
      fmt::print("FAIL {}\n", files[i]);
      for (const auto& f : report.failures)
        fmt::print("  {}\n", f);
    }
  }
  fmt::print("{} passed, {} failed\n", files.size() - static_cast<size_t>(failed), failed);
  return failed == 0 ? 0 : 1;
}
