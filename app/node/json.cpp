#include "app/node/json.hpp"

#include "app/node/proto_json.hpp"
#include <fmt/core.h>

namespace ordo::node::json {

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

std::string quote(std::string_view s) {
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

} // namespace ordo::node::json
