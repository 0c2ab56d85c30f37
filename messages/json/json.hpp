#pragma once
// JSON ⇄ Protobuf through Protobuf's own JSON mapping (implemented fast in proto_json.hpp):
// the .proto files are the one source of truth for the API's bodies. Output uses the .proto field
// names (snake_case); input accepts them or lowerCamel. Unknown fields and wrong types are errors
// (never silently dropped).

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

namespace ordo::json {

/// The message as compact JSON (proto field names, 64-bit integers as strings).
std::string print(const google::protobuf::Message& m);

/// Parses `text` into `m`. Returns "" or the parser's description of the problem.
std::string parse(std::string_view text, google::protobuf::Message& m);

/// `s` with every invalid UTF-8 byte replaced by U+FFFD: request bytes echoed in an error
/// message must not make the answer invalid JSON.
std::string valid_utf8(std::string_view s);

/// `s` as a JSON string literal, quoted and escaped (invalid UTF-8 replaced).
std::string quote(std::string_view s);

/// {"error":{"code":...,"message":...}}
std::string error_body(std::string_view code, std::string_view message);

} // namespace ordo::json
