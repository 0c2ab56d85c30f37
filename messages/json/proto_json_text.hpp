// Internal to ordo_json: UTF-8, escapes, base64 and numbers as protobuf writes and reads them.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ordo::proto_json::detail {

// Length of the valid UTF-8 sequence at p (no overlongs, surrogates or > U+10FFFF), else 0.
size_t utf8_decode(const char* p, const char* end, uint32_t& cp);

void append_utf8(std::string& out, uint32_t cp);

// Appends `s` quoted and escaped as protobuf does. False on invalid UTF-8, which protobuf
// prints lossily in ways not worth imitating: the caller falls back to protobuf then.
bool append_string(std::string& out, std::string_view s);

void append_base64(std::string& out, std::string_view in);

// Protobuf accepts the standard or the URL-safe alphabet (not mixed), padded or not, but only
// with correct padding and zero bits after the last byte.
bool base64_decode(std::string_view s, std::string& out);

template <class T>
void append_number(std::string& out, T v, bool quoted) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  if (quoted) out += '"';
  out.append(buf, r.ptr);
  if (quoted) out += '"';
}

} // namespace ordo::proto_json::detail
