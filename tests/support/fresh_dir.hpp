#pragma once
// A fresh directory under the system temp folder for one test's state (a node's config, data
// and log; state files), removed with everything in it when the test process exits — a full
// ctest run used to leave hundreds behind. Set ORDO_KEEP_TEST_DIRS=1 to keep them for a
// post-mortem. A test process that crashes keeps its directories (nothing runs at exit).

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/core.h>

namespace ordo::test {

class made_dirs {
public:
  static made_dirs& instance() {
    static made_dirs d;
    return d;
  }
  void add(std::string dir) {
    std::lock_guard<std::mutex> g{mu_};
    dirs_.push_back(std::move(dir));
  }
  ~made_dirs() {
    // Only in the process that made them: a forked child that exits must not remove them.
    if (::getpid() != owner_ || std::getenv("ORDO_KEEP_TEST_DIRS") != nullptr) return;
    std::error_code ec;
    for (const auto& d : dirs_)
      std::filesystem::remove_all(d, ec);
  }

private:
  made_dirs() = default;
  std::mutex mu_;
  std::vector<std::string> dirs_;
  pid_t owner_ = ::getpid();
};

inline std::string fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             fmt::format("ordo-{}-{}-{}", name, ::getpid(),
                         std::chrono::steady_clock::now().time_since_epoch().count());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  made_dirs::instance().add(dir.string());
  return dir.string();
}

} // namespace ordo::test
