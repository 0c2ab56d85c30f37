#include "app/node/route_table.hpp"

namespace ordo::node {

std::string_view path_captures::operator[](std::string_view name) const {
  for (size_t i = 0; i < size; ++i)
    if (items[i].first == name) return items[i].second;
  return {};
}

bool match_pattern(std::string_view pattern, const std::vector<std::string_view>& path,
                   path_captures& out) {
  out.size = 0;
  size_t at = 0; // next path segment
  while (!pattern.empty()) {
    auto slash = pattern.find('/');
    auto seg = pattern.substr(0, slash);
    pattern = slash == std::string_view::npos ? std::string_view{} : pattern.substr(slash + 1);
    if (seg.empty()) continue;
    if (at == path.size()) return false;
    if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
      if (out.size == path_captures::max) return false; // a table error: caught by its test
      out.items[out.size++] = {seg.substr(1, seg.size() - 2), path[at]};
    } else if (seg != path[at]) {
      return false;
    }
    ++at;
  }
  return at == path.size();
}

} // namespace ordo::node
