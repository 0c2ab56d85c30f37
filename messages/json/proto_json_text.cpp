// Text as protobuf's JSON has it: UTF-8 checks, its escaping rules, base64 in both alphabets.
#include "messages/json/proto_json_text.hpp"

#include <array>

namespace ordo::proto_json::detail {

// Length of the valid UTF-8 sequence at p (no overlongs, surrogates or > U+10FFFF), else 0.
size_t utf8_decode(const char* p, const char* end, uint32_t& cp) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(p[i]); };
  const auto cont = [&](size_t i) { return p + i < end && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF && cont(1)) {
    cp = (uint32_t{c} & 0x1F) << 6 | (b(1) & 0x3F);
    return 2;
  }
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    cp = (uint32_t{c} & 0x0F) << 12 | uint32_t{b(1) & 0x3Fu} << 6 | (b(2) & 0x3F);
    return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    cp = (uint32_t{c} & 0x07) << 18 | uint32_t{b(1) & 0x3Fu} << 12 | uint32_t{b(2) & 0x3Fu} << 6 |
         (b(3) & 0x3F);
    return cp >= 0x10000 && cp <= 0x10FFFF ? 4 : 0;
  }
  return 0;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {

// ASCII protobuf escapes: controls, quote, backslash, DEL, and < > (for HTML safety).
constexpr std::array<bool, 128> kAsciiEscaped = [] {
  std::array<bool, 128> t{};
  for (int c = 0; c < 0x20; ++c)
    t[static_cast<size_t>(c)] = true;
  t['"'] = t['\\'] = t['<'] = t['>'] = t[0x7F] = true;
  return t;
}();

// Non-ASCII code points protobuf's printer escapes (C1 controls, invisible formatting
// characters, line/paragraph separators), read off protobuf 3.21's json_escaping.cc.
bool escaped_code_point(uint32_t cp) {
  static constexpr std::pair<uint32_t, uint32_t> kRanges[] = {
      {0x80, 0x9F},       {0xAD, 0xAD},       {0x600, 0x603},    {0x6DD, 0x6DD},
      {0x70F, 0x70F},     {0x17B4, 0x17B5},   {0x200B, 0x200F},  {0x2028, 0x202E},
      {0x2060, 0x2064},   {0x206A, 0x206F},   {0xFEFF, 0xFEFF},  {0xFFF9, 0xFFFB},
      {0x1D173, 0x1D17A}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}};
  for (const auto& [lo, hi] : kRanges)
    if (cp >= lo && cp <= hi) return true;
  return false;
}

void append_u_escape(std::string& out, uint32_t unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4)
    out += kHex[(unit >> shift) & 0xF];
}

void append_escape(std::string& out, uint32_t cp) {
  switch (cp) {
  case '\b':
    out += "\\b";
    return;
  case '\t':
    out += "\\t";
    return;
  case '\n':
    out += "\\n";
    return;
  case '\f':
    out += "\\f";
    return;
  case '\r':
    out += "\\r";
    return;
  case '"':
    out += "\\\"";
    return;
  case '\\':
    out += "\\\\";
    return;
  default:
    if (cp < 0x10000) return append_u_escape(out, cp);
    append_u_escape(out, 0xD800 + ((cp - 0x10000) >> 10));
    append_u_escape(out, 0xDC00 + ((cp - 0x10000) & 0x3FF));
  }
}

} // namespace

// Appends `s` quoted and escaped as protobuf does. False on invalid UTF-8, which protobuf
// prints lossily in ways not worth imitating: the caller falls back to protobuf then.
bool append_string(std::string& out, std::string_view s) {
  out += '"';
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p; // start of bytes not yet copied
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x80 && !kAsciiEscaped[c]) {
      ++p;
      continue;
    }
    uint32_t cp = 0;
    const size_t n = utf8_decode(p, end, cp);
    if (n == 0) return false;
    if (c < 0x80 || escaped_code_point(cp)) {
      out.append(run, p);
      append_escape(out, cp);
      run = p + n;
    }
    p += n;
  }
  out.append(run, end);
  out += '"';
  return true;
}

namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

} // namespace

void append_base64(std::string& out, std::string_view in) {
  out += '"';
  size_t i = 0;
  const auto byte = [&](size_t k) {
    return static_cast<uint32_t>(static_cast<unsigned char>(in[k]));
  };
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6)
      out += kBase64[(v >> shift) & 0x3F];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    const uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += kBase64[(v >> 18) & 0x3F];
    out += kBase64[(v >> 12) & 0x3F];
    out += rest == 2 ? kBase64[(v >> 6) & 0x3F] : '=';
    out += '=';
  }
  out += '"';
}

namespace {

int base64_value(char c, int& alphabet) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  const int kind = (c == '+' || c == '/') ? 1 : (c == '-' || c == '_') ? 2 : 0;
  if (kind == 0 || (alphabet != 0 && alphabet != kind)) return -1;
  alphabet = kind;
  return (c == '+' || c == '-') ? 62 : 63;
}

} // namespace

// Protobuf accepts the standard or the URL-safe alphabet (not mixed), padded or not, but only
// with correct padding and zero bits after the last byte.
bool base64_decode(std::string_view s, std::string& out) {
  size_t n = s.size();
  size_t pads = 0;
  while (n > 0 && s[n - 1] == '=')
    --n, ++pads;
  if (n % 4 == 1 || (pads > 0 && (n + pads) % 4 != 0)) return false;
  int alphabet = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    const int v = base64_value(s[i], alphabet);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;
}

} // namespace ordo::proto_json::detail
