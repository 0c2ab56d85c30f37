#pragma once
// Matching a request against a declarative route table: rows of {method, path pattern}, where
// "{name}" in a pattern captures one path segment ("/v1/orders/{order_id}/cancel"). A path no
// row matches is a 404; a path some rows match, but none with this method, is a 405 naming the
// methods they accept. Pure and independent of the API's handlers: tested on its own.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ordo::node {

/// The segments a pattern's "{name}"s captured, by name.
struct path_captures {
  static constexpr size_t max = 2; // no route has more; match_pattern refuses a pattern that does
  std::array<std::pair<std::string_view, std::string_view>, max> items{};
  size_t size = 0;

  /// The segment captured as `name`; "" when the pattern has no such capture.
  std::string_view operator[](std::string_view name) const;
};

/// Whether the path's segments match `pattern` (split on '/', empty segments dropped like
/// split_path does); on a match `out` holds the captures.
bool match_pattern(std::string_view pattern, const std::vector<std::string_view>& path,
                   path_captures& out);

struct route_match {
  enum class result { found, no_such_path, wrong_method };
  result r = result::no_such_path;
  size_t row = 0;    // found: the matching row's index
  std::string allow; // wrong_method: the methods the path accepts ("GET, DELETE")
  path_captures captures;
};

/// The first row whose pattern and method match. `Row` has `method` and `pattern` members.
template <class Row>
route_match match_route(std::span<const Row> rows, std::string_view method,
                        const std::vector<std::string_view>& path) {
  route_match m;
  for (size_t i = 0; i < rows.size(); ++i) {
    path_captures caps;
    if (!match_pattern(rows[i].pattern, path, caps)) continue;
    if (rows[i].method == method) {
      m.r = route_match::result::found;
      m.row = i;
      m.captures = caps;
      return m;
    }
    if (m.allow.find(rows[i].method) == std::string::npos)
      m.allow += (m.allow.empty() ? "" : ", ") + std::string{rows[i].method};
    m.r = route_match::result::wrong_method;
  }
  return m;
}

} // namespace ordo::node
