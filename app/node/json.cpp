#include "app/node/json.hpp"

#include <fmt/core.h>
#include <google/protobuf/util/json_util.h>

namespace ordo::node::json {

std::string print(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string out;
  auto st = google::protobuf::util::MessageToJsonString(m, &out, o);
  // Printing a valid in-memory message cannot fail except on invalid UTF-8 in a string
  // field; the domain validates text fields, so this is a broken invariant — say so.
  if (!st.ok()) return error_body("internal", "cannot print as JSON: " + st.ToString());
  return out;
}

std::string parse(std::string_view text, google::protobuf::Message& m) {
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto st = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece{text.data(), text.size()}, &m, o);
  if (st.ok()) return {};
  std::string msg{st.message().data(), st.message().size()};
  return msg.empty() ? "malformed JSON" : msg;
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
