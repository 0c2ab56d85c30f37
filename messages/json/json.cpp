#include "messages/json/json.hpp"

#include "messages/json/proto_json.hpp"
#include <fmt/core.h>

namespace ordo::json {

// Both directions go through proto_json: Protobuf's own JSON mapping, byte for byte, about
// 6-7x faster than google::protobuf::util (bench/json_bench.cpp; tests/node/json_test.cpp
// checks the equivalence on random messages of every type in our schema).
std::string print(const google::protobuf::Message& m) {
  std::string out;
  proto_json::print(m, out);
  return out;
}

std::string parse(std::string_view text, google::protobuf::Message& m) {
  return proto_json::parse(text, m);
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len > 1) { // no overlong forms, surrogates or code points past U+10FFFF
      uint32_t cp = c & (0x7F >> len);
      for (size_t k = 1; k < len; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      ok = cp >= (len == 2   ? 0x80u
                  : len == 3 ? 0x800u
                             : 0x10000u) &&
           cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD"; // U+FFFD
      ++i;
    }
  }
  return out;
}

std::string quote(std::string_view raw) {
  auto s = valid_utf8(raw);
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (c < 0x20)
        out += fmt::format("\\u{:04x}", c);
      else
        out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

std::string error_body(std::string_view code, std::string_view message) {
  return fmt::format("{{\"error\":{{\"code\":{},\"message\":{}}}}}", quote(code), quote(message));
}

} // namespace ordo::json
