// The one table of outcome codes (include/ordo/outcome_code.hpp): every code written in the
// sources has a row, names read back to their codes, and the HTTP layer answers each failure
// with its row's status (Retry-After exactly for the "wait" rows).
#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "app/node/api_answers.hpp"
#include "ordo/outcome_code.hpp"
#include "storage/errors.hpp"
#include "support/text_file.hpp"

using namespace ordo;

namespace {

// Every `failure("code", ...)` and `load_failure{"code", ...}` literal under the source folders
// that produce outcomes (a load failure's code becomes the outcome's).
std::set<std::string> codes_in_sources() {
  std::set<std::string> out;
  const std::regex literal{R"((?:failure\(|load_failure\{)\s*"([a-z_]+)\")"};
  for (const char* dir : {"actors", "app", "storage"}) {
    const auto root = std::filesystem::path(ORDO_SOURCE_DIR) / dir;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
      const auto text = ordo::test::read_text_file(e.path());
      for (std::sregex_iterator it{text.begin(), text.end(), literal}, end; it != end; ++it)
        out.insert((*it)[1].str());
    }
  }
  return out;
}

} // namespace

TEST_SUITE("outcome_codes") {
  TEST_CASE("every code written in the sources has a row") {
    const auto codes = codes_in_sources();
    CHECK(codes.size() >= 15); // the scan found the sources
    for (const auto& c : codes) {
      CAPTURE(c);
      CHECK(outcome_code_of(c) != outcome_code::internal);
    }
  }

  TEST_CASE("every storage error code has a row of the same name") {
    using storage::storage_errc;
    for (auto c = static_cast<int>(storage_errc::invalid_argument);
         c <= static_cast<int>(storage_errc::locked); ++c) {
      const auto name = storage::to_string(static_cast<storage_errc>(c));
      CAPTURE(name);
      CHECK(row_of(name).name == name);
    }
  }

  TEST_CASE("names are unique and read back to their codes") {
    std::set<std::string_view> names;
    for (const auto& r : all_outcome_codes()) {
      CAPTURE(r.name);
      CHECK(names.insert(r.name).second);
      CHECK(outcome_code_of(r.name) == r.code);
      CHECK(&row_of(r.code) == &r);
      CHECK(!r.meaning.empty());
      CHECK((r.http_status == 400 || r.http_status == 429 || r.http_status == 503 ||
             r.http_status == 500));
      CHECK(r.wait == (r.http_status == 429 || r.http_status == 503));
    }
    CHECK(outcome_code_of("no_such_code") == outcome_code::internal);
  }

  TEST_CASE("the HTTP layer answers each failure with its row's status") {
    for (const auto& r : all_outcome_codes()) {
      CAPTURE(r.name);
      auto o = failure(std::string(r.name), "why");
      auto resp = node::from_outcome(o, node::target::order, false, false);
      CHECK(resp.status == r.http_status);
      bool retry_after = false;
      for (const auto& [k, v] : resp.headers)
        retry_after = retry_after || k == "Retry-After";
      CHECK(retry_after == r.wait);
    }
  }
}
