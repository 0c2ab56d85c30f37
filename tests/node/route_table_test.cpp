// The API's route table: pattern matching (captures, 404, 405 with Allow) on a table of its
// own, then the node's table itself — no duplicate rows, every row's roles and 403 text, and
// docs/api.md's endpoint list naming exactly the table's routes.

#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <sstream>
#include <span>
#include <string>
#include <vector>

#include "app/node/api.hpp"
#include "app/node/api_request.hpp"
#include "app/node/route_table.hpp"
#include "support/text_file.hpp"

using namespace ordo::node;

namespace {

struct row {
  std::string_view method;
  std::string_view pattern;
};

const std::vector<row> demo{{"GET", "/v1/things/{id}"},
                            {"DELETE", "/v1/things/{id}"},
                            {"POST", "/v1/things/{id}/parts/{part}"},
                            {"GET", "/v1/things"}};

route_match match(std::string_view method, std::string_view path) {
  return match_route(std::span{demo}, method, split_path(path));
}

} // namespace

TEST_SUITE("node_routes") {

  TEST_CASE("a path matches its pattern, capturing the named segments") {
    auto m = match("GET", "/v1/things/t-1");
    REQUIRE(m.r == route_match::result::found);
    CHECK(m.row == 0);
    CHECK(m.captures["id"] == "t-1");
    CHECK(m.captures["part"] == "");
    m = match("POST", "/v1/things/t-2/parts/p-9");
    REQUIRE(m.r == route_match::result::found);
    CHECK(m.row == 2);
    CHECK(m.captures["id"] == "t-2");
    CHECK(m.captures["part"] == "p-9");
    m = match("GET", "//v1//things/"); // empty segments dropped, as split_path does
    REQUIRE(m.r == route_match::result::found);
    CHECK(m.row == 3);
  }

  TEST_CASE("an unknown path is no_such_path; a known one with another method names the allowed") {
    for (auto path : {"/", "/v1", "/v2/things", "/v1/things/t-1/parts", "/v1/things/a/b/c",
                      "/v1/things/t/parts/p/extra"})
      CHECK_MESSAGE(match("GET", path).r == route_match::result::no_such_path, path);
    auto m = match("PUT", "/v1/things/t-1");
    CHECK(m.r == route_match::result::wrong_method);
    CHECK(m.allow == "GET, DELETE");
    m = match("GET", "/v1/things/t-1/parts/p");
    CHECK(m.r == route_match::result::wrong_method);
    CHECK(m.allow == "POST");
  }

  TEST_CASE("a pattern with more captures than path_captures holds never matches") {
    path_captures caps;
    CHECK_FALSE(match_pattern("/{a}/{b}/{c}", split_path("/x/y/z"), caps));
    CHECK(match_pattern("/{a}/{b}", split_path("/x/y"), caps));
    CHECK(caps.size == 2);
  }

  TEST_CASE("the node's table: one row per method and pattern, each reachable, roles stated") {
    std::set<std::pair<std::string_view, std::string_view>> seen;
    const auto& table = api::routes();
    REQUIRE(table.size() >= 19);
    for (size_t i = 0; i < table.size(); ++i) {
      const auto& r = table[i];
      INFO(r.method, " ", r.pattern);
      CHECK(seen.insert({r.method, r.pattern}).second);
      CHECK(r.fn != nullptr);
      CHECK(r.roles != 0);
      // The row is what a request for its own pattern reaches (no earlier row shadows it).
      std::string path{r.pattern};
      path = std::regex_replace(path, std::regex{"\\{[a-z_]+\\}"}, "x");
      auto m = match_route(std::span{table}, r.method, split_path(path));
      CHECK(m.r == route_match::result::found);
      CHECK(m.row == i);
      const bool everyone = r.allows(role::customer) && r.allows(role::merchant) &&
                            r.allows(role::operations) && r.allows(role::payments);
      CHECK(everyone == r.forbidden.empty()); // a row that refuses someone says what for
      CHECK(r.allows(role::operations));      // operations may do everything
      // A payments key posts webhooks and nothing else (api::handle refuses it earlier too).
      CHECK(r.allows(role::payments) == (everyone || r.pattern == "/v1/webhooks/payment"));
    }
  }

  TEST_CASE("docs/api.md's endpoint table lists exactly the table's routes") {
    const auto doc = ordo::test::read_text_file(std::string(ORDO_SOURCE_DIR) + "/docs/api.md");
    REQUIRE(!doc.empty());
    // Rows starting "| `METHOD /path[?query]...`" (a "+ header" note may follow).
    std::set<std::string> documented;
    std::regex line{"^\\| `(GET|POST|DELETE|PUT) (/v1/[^`? ]*)[^`]*`"};
    std::istringstream in{doc};
    for (std::string l; std::getline(in, l);)
      if (std::smatch sm; std::regex_search(l, sm, line))
        documented.insert(sm[1].str() + " " + sm[2].str());
    std::set<std::string> routed;
    for (const auto& r : api::routes())
      routed.insert(std::string{r.method} + " " + std::string{r.pattern});
    for (const auto& d : documented)
      CHECK_MESSAGE(routed.count(d) == 1, "docs/api.md documents a route the node lacks: ", d);
    for (const auto& r : routed)
      CHECK_MESSAGE(documented.count(r) == 1, "docs/api.md does not document ", r);
  }

} // TEST_SUITE
