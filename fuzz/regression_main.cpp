// The driver of the fuzz targets in ordinary builds (no libFuzzer): runs
// LLVMFuzzerTestOneInput once over every file in the directories (or files) named on the
// command line, in name order. CTest runs it over fuzz/corpus/<target>/ and
// fuzz/regressions/<target>/ (`fuzz_regressions.<target>`), so every checked-in input — the
// seeds and each crasher ever found — is replayed by the ordinary test suite and by the
// sanitizer presets. A crash or a failed FUZZ_CHECK aborts: the test fails, naming the file.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    fs::path p{argv[i]};
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      for (const auto& e : fs::directory_iterator{p})
        if (e.is_regular_file() && e.path().filename().string().front() != '.')
          files.push_back(e.path()); // not .gitkeep
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::ifstream in{f, std::ios::binary};
    std::string bytes{std::istreambuf_iterator<char>(in), {}};
    std::fprintf(stderr, "running %s (%zu bytes)\n", f.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("%zu inputs passed\n", files.size());
  return 0;
}
