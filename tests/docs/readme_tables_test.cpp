// Every README's table of files and folders names what is there: each path a row names exists,
// and each source file under the README's folder is named by a row (or lies in a folder a row
// names). tests/README.md's binaries are the ones tests/<folder>/CMakeLists.txt builds.

#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/text_file.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path root{ORDO_SOURCE_DIR};

bool skipped_dir(const fs::path& p) {
  const auto name = p.filename().string();
  return name == "build" || name == "node_modules" || name.starts_with(".");
}

std::vector<fs::path> readmes() {
  std::vector<fs::path> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->is_directory() && skipped_dir(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().filename() == "README.md") out.push_back(it->path());
  }
  return out;
}

struct table {
  std::string header;                      // first column's name: file, path, folder, script
  std::vector<std::vector<std::string>> rows; // cells of each row
};

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  bool in_code = false;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '`') in_code = !in_code;
    if (line[i] == '|' && !in_code && line[i - 1] != '\\') {
      out.push_back(cell);
      cell.clear();
    } else {
      cell += line[i];
    }
  }
  return out;
}

// The tables whose first column lists files or folders.
std::vector<table> path_tables(const std::string& text) {
  static const std::regex head{"^\\| *(file|path|folder|script) *\\|"};
  static const std::regex rule{"^\\|[-| :]+\\|$"};
  std::vector<std::string> lines;
  std::istringstream in{text};
  for (std::string l; std::getline(in, l);)
    lines.push_back(l);
  std::vector<table> out;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_search(lines[i], m, head) || !std::regex_match(lines[i + 1], rule)) continue;
    table t{m[1].str(), {}};
    for (i += 2; i < lines.size() && lines[i].starts_with("|"); ++i)
      t.rows.push_back(cells(lines[i]));
    out.push_back(std::move(t));
  }
  return out;
}

// `a.hpp/.cpp` -> a.hpp, a.cpp; `x.*` stays a pattern; `build.sh [preset]` -> build.sh.
std::vector<std::string> names_in(const std::string& cell) {
  static const std::regex code{"`([^`]+)`"};
  static const std::regex pair{"^(.*)\\.(\\w+)/\\.(\\w+)$"};
  std::vector<std::string> out;
  for (std::sregex_iterator it(cell.begin(), cell.end(), code), end; it != end; ++it) {
    auto name = (*it)[1].str();
    name = name.substr(0, name.find(' '));
    if (std::smatch m; std::regex_match(name, m, pair)) {
      out.push_back(m[1].str() + "." + m[2].str());
      out.push_back(m[1].str() + "." + m[3].str());
    } else {
      out.push_back(name);
    }
  }
  return out;
}

// The paths `name` (relative to `dir`) stands for: a file, a folder ("x/"), or "stem.*".
std::vector<fs::path> resolve(const fs::path& dir, const std::string& name) {
  std::vector<fs::path> out;
  if (name.ends_with(".*")) {
    const fs::path stem = dir / name.substr(0, name.size() - 1); // "dir/x."
    if (!fs::is_directory(stem.parent_path())) return out;
    for (const auto& e : fs::directory_iterator(stem.parent_path()))
      if (e.path().filename().string().starts_with(stem.filename().string()))
        out.push_back(e.path());
  } else if (fs::exists(dir / name)) {
    out.push_back(fs::weakly_canonical(dir / name));
  }
  return out;
}

bool source_file(const fs::path& p) {
  static const std::set<std::string> kinds{".cpp", ".hpp", ".h", ".proto", ".sh", ".py",
                                           ".js", ".toml", ".scenario"};
  return kinds.count(p.extension().string()) == 1;
}

} // namespace

TEST_SUITE("readme_tables") {

  TEST_CASE("each path a README's table names exists, and names every source file there") {
    int checked = 0;
    for (const auto& readme : readmes()) {
      const auto dir = readme.parent_path();
      const auto rel = fs::relative(readme, root).string();
      std::vector<fs::path> named;
      for (const auto& t : path_tables(ordo::test::read_text_file(readme)))
        for (const auto& row : t.rows) {
          if (row.empty()) continue;
          for (const auto& name : names_in(row[0])) {
            auto hits = resolve(dir, name);
            CHECK_MESSAGE(!hits.empty(), rel, " names `", name, "`, which does not exist");
            for (auto& h : hits)
              named.push_back(fs::weakly_canonical(h));
            ++checked;
          }
        }
      if (named.empty()) continue;
      auto covered = [&](const fs::path& file) {
        for (const auto& n : named) {
          auto [a, b] = std::mismatch(n.begin(), n.end(), file.begin(), file.end());
          if (a == n.end()) return true; // n is the file or a folder above it
        }
        return false;
      };
      for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
           ++it) {
        if (it->is_directory() && skipped_dir(it->path())) {
          it.disable_recursion_pending();
          continue;
        }
        if (!it->is_regular_file() || !source_file(it->path())) continue;
        CHECK_MESSAGE(covered(fs::weakly_canonical(it->path())), rel, " has no row for ",
                      fs::relative(it->path(), dir).string());
      }
    }
    CHECK(checked > 100); // the tables were found at all
  }

  TEST_CASE("tests/README.md names the binaries the test folders build") {
    const auto doc = ordo::test::read_text_file(root / "tests/README.md");
    int rows = 0;
    for (const auto& t : path_tables(doc)) {
      if (t.header != "folder") continue;
      for (const auto& row : t.rows) {
        if (row.size() < 2 || row[1].find('`') == std::string::npos) continue;
        auto folder = names_in(row[0]);
        REQUIRE(folder.size() == 1);
        const auto cmake = ordo::test::read_text_file(root / "tests" / folder[0] / "CMakeLists.txt");
        for (const auto& binary : names_in(row[1])) {
          if (binary.find('<') != std::string::npos) continue; // a family: fuzz_<target>
          CHECK_MESSAGE(cmake.find("ordo_add_test(" + binary + "\n") != std::string::npos,
                        "tests/README.md: tests/", folder[0], " builds no ", binary);
          ++rows;
        }
      }
    }
    CHECK(rows >= 8);
  }

} // TEST_SUITE
