#pragma once
// A whole text file as a string ("" when it cannot be read): for tests that check docs and
// sources against the code.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ordo::test {

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace ordo::test
