#include "json_scan.hpp"

#include <string>

namespace ordo::loadgen {

namespace {

bool is_id_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '_';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Position just after `"key":` and any spaces, or npos.
size_t value_at(std::string_view json, std::string_view key) {
  std::string quoted;
  quoted.reserve(key.size() + 2);
  quoted += '"';
  quoted.append(key.data(), key.size());
  quoted += '"';
  for (size_t at = json.find(quoted); at != std::string_view::npos;
       at = json.find(quoted, at + 1)) {
    size_t i = at + quoted.size();
    while (i < json.size() && is_space(json[i]))
      ++i;
    if (i >= json.size() || json[i] != ':') continue; // a value equal to the key, not the key
    ++i;
    while (i < json.size() && is_space(json[i]))
      ++i;
    return i;
  }
  return std::string_view::npos;
}

} // namespace

std::string_view find_order_id(std::string_view json) {
  size_t i = value_at(json, "order_id");
  if (i == std::string_view::npos || i >= json.size() || json[i] != '"') return {};
  size_t start = ++i;
  while (i < json.size() && is_id_char(json[i]) && i - start <= 128)
    ++i;
  if (i >= json.size() || json[i] != '"' || i == start || i - start > 128) return {};
  return json.substr(start, i - start);
}

std::string_view json_string(std::string_view json, std::string_view key) {
  size_t i = value_at(json, key);
  if (i == std::string_view::npos || i >= json.size() || json[i] != '"') return {};
  size_t start = ++i;
  while (i < json.size() && json[i] != '"')
    i += json[i] == '\\' ? 2 : 1;
  if (i >= json.size()) return {};
  return json.substr(start, i - start);
}

bool json_int(std::string_view json, std::string_view key, int64_t& out) {
  size_t i = value_at(json, key);
  if (i == std::string_view::npos || i >= json.size()) return false;
  bool quoted = json[i] == '"';
  if (quoted) ++i;
  bool negative = i < json.size() && json[i] == '-';
  if (negative) ++i;
  size_t start = i;
  int64_t v = 0;
  while (i < json.size() && json[i] >= '0' && json[i] <= '9' && i - start < 18)
    v = v * 10 + (json[i++] - '0');
  if (i == start || i >= json.size() || (json[i] >= '0' && json[i] <= '9')) return false;
  if (quoted && json[i] != '"') return false;
  out = negative ? -v : v;
  return true;
}

} // namespace ordo::loadgen
