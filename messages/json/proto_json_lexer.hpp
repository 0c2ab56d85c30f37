// Internal to ordo_json: JSON's tokens as protobuf's parser takes them, and the error it names.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <locale.h>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "messages/json/proto_json_plan.hpp"
#include "messages/json/proto_json_text.hpp"

namespace ordo::proto_json::detail {

// A scalar JSON token. Strings view the input or the parser's buffer; numbers are kept exactly
// as integers when they fit, else as doubles (what protobuf does before range checks).
struct Token {
  enum Type { Str, Num, True, False } type = Str;
  std::string_view text; // the string's value, or the number's spelling
  bool integral = false; // Num: `mag` holds it exactly
  bool neg = false;
  uint64_t mag = 0;
  double d = 0;
};

inline locale_t c_locale() {
  static const locale_t l = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return l;
}

// The parser's cursor over the input and its lexical steps; the parser (proto_json_parse.cpp)
// adds the structure. Errors record the path of fields the parser is in.
class Lexer {
protected:
  Lexer(std::string_view in, const pb::Descriptor* root)
      : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()), root_(root) {}

  struct Step {
    const FieldPlan* field;
    int index; // element of a repeated field, or -1
  };

  // ---- lexical ----

  void skip_ws() {
    // Protobuf's tokenizer also skips \v and \f.
    while (p_ < end_ &&
           (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t' || *p_ == '\v' || *p_ == '\f'))
      ++p_;
  }

  bool peek(char& c) {
    skip_ws();
    if (p_ == end_) return fail(p_, "unexpected end of input");
    c = *p_;
    return true;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word)
      return fail(p_, "unexpected token");
    p_ += word.size();
    return true;
  }

  // After a member or element: true with `done` set at the closing bracket. Protobuf allows
  // one trailing comma before it.
  bool separator(char close, bool& done) {
    char c = 0;
    if (!peek(c)) return false;
    ++p_;
    if (c == close) {
      done = true;
      return true;
    }
    if (c != ',') return fail(p_ - 1, fmt::format("expected ',' or '{}'", close));
    if (!peek(c)) return false;
    if (c == close) ++p_;
    done = c == close;
    return true;
  }

  bool key(std::string_view& out) {
    char c = 0;
    if (!peek(c)) return false;
    if (c == '"' || c == '\'') return string(out);
    // Protobuf accepts unquoted identifiers as keys.
    const auto ident = [](char x, bool first) {
      return (x >= 'a' && x <= 'z') || (x >= 'A' && x <= 'Z') || x == '_' || x == '$' ||
             (!first && x >= '0' && x <= '9');
    };
    if (!ident(c, true)) return fail(p_, "expected an object key");
    const char* start = p_;
    while (p_ < end_ && ident(*p_, false))
      ++p_;
    out = std::string_view(start, static_cast<size_t>(p_ - start));
    return true;
  }

  bool colon() {
    char c = 0;
    if (!peek(c)) return false;
    if (c != ':') return fail(p_, "expected ':' after the key");
    ++p_;
    return true;
  }

  // A string in double or single quotes (protobuf accepts both). Views the input unless it
  // has escapes; validates UTF-8.
  bool string(std::string_view& out) {
    const char quote = *p_++;
    const char* start = p_;
    while (p_ < end_ && *p_ != quote && *p_ != '\\') {
      if (!utf8_step()) return false;
    }
    if (p_ < end_ && *p_ == quote) {
      out = std::string_view(start, static_cast<size_t>(p_++ - start));
      return true;
    }
    buf_.assign(start, p_);
    while (p_ < end_ && *p_ != quote) {
      const char* from = p_;
      if (*p_ == '\\') {
        if (!escape()) return false;
        continue;
      }
      if (!utf8_step()) return false;
      buf_.append(from, p_);
    }
    if (p_ == end_) return fail(start - 1, "unterminated string");
    ++p_;
    out = buf_;
    return true;
  }

  bool utf8_step() {
    if (static_cast<unsigned char>(*p_) < 0x80) { // raw controls too, as protobuf
      ++p_;
      return true;
    }
    uint32_t cp = 0;
    const size_t n = utf8_decode(p_, end_, cp);
    if (n == 0) return fail(p_, "invalid UTF-8 in string");
    p_ += n;
    return true;
  }

  bool escape() {
    const char* at = p_++;
    if (p_ == end_) return fail(at, "unterminated string");
    const char e = *p_++;
    switch (e) {
    case 'b':
      buf_ += '\b';
      return true;
    case 'f':
      buf_ += '\f';
      return true;
    case 'n':
      buf_ += '\n';
      return true;
    case 'r':
      buf_ += '\r';
      return true;
    case 't':
      buf_ += '\t';
      return true;
    case 'v': // not JSON, but protobuf's parser takes it as a vertical tab (found by fuzzing)
      buf_ += '\v';
      return true;
    case 'u':
      return unicode_escape(at);
    default:
      // Protobuf keeps any other escaped character as itself (\" \\ \/ \' but also \x).
      if (static_cast<unsigned char>(e) >= 0x80) {
        --p_; // a multi-byte character: copy it whole, validated
        return true;
      }
      buf_ += e;
      return true;
    }
  }

  bool hex4(uint32_t& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      const int d = (c >= '0' && c <= '9')   ? c - '0'
                    : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                             : -1;
      if (d < 0) return false;
      v = v << 4 | static_cast<uint32_t>(d);
    }
    return true;
  }

  bool unicode_escape(const char* at) {
    uint32_t cp = 0;
    if (!hex4(cp)) return fail(at, "invalid \\u escape");
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(at, "unpaired low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low = 0;
      if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return fail(at, "missing low surrogate");
      p_ += 2;
      if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return fail(at, "invalid low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(buf_, cp);
    return true;
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  bool digits() {
    const char* start = p_;
    while (p_ < end_ && digit(*p_))
      ++p_;
    return p_ > start;
  }

  // JSON number grammar, plus protobuf's leniency of "1." (no digits after the point).
  bool number(Token& t) {
    const char* start = p_;
    t.type = Token::Num;
    t.neg = p_ < end_ && *p_ == '-';
    if (t.neg) ++p_;
    const char* int_start = p_;
    if (!digits()) return fail(start, "malformed number");
    if (*int_start == '0' && p_ - int_start > 1) return fail(start, "leading zeros in number");
    if (p_ < end_ && (*p_ == 'x' || *p_ == 'X')) return fail(start, "hex numbers are not JSON");
    const char* int_end = p_;
    t.integral = true;
    if (p_ < end_ && *p_ == '.') {
      t.integral = false;
      ++p_;
      digits();
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      t.integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return fail(start, "malformed number");
    }
    t.text = std::string_view(start, static_cast<size_t>(p_ - start));
    return t.integral ? integer_value(t, int_start, int_end) : double_value(t, start);
  }

  // Like protobuf: integers are exact while they fit int64 (negative) or uint64, else doubles.
  bool integer_value(Token& t, const char* from, const char* to) {
    const auto r = std::from_chars(from, to, t.mag);
    if (r.ec == std::errc{} && (!t.neg || t.mag <= (uint64_t{1} << 63))) return true;
    t.integral = false;
    return double_value(t, t.text.data());
  }

  bool double_value(Token& t, const char* at) {
    const std::string copy(t.text); // strtod needs a terminator; rare path
    t.d = strtod_l(copy.c_str(), nullptr, c_locale());
    if (std::isinf(t.d)) return fail(at, "number exceeds the range of double");
    return true;
  }

  bool scalar(Token& t) {
    char c = 0;
    if (!peek(c)) return false;
    if (c == '"' || c == '\'') {
      t.type = Token::Str;
      return string(t.text);
    }
    if (c == '-' || digit(c)) return number(t);
    if (c == 't') return t.type = Token::True, literal("true");
    if (c == 'f') return t.type = Token::False, literal("false");
    return fail(p_, "unexpected token");
  }

  // Records the first error as "<Type>.<path>: <what> at offset N"; always false.
  bool fail(const char* at, const std::string& what) {
    if (!err_.empty()) return false;
    err_ = root_->full_name();
    for (int i = 0; i < depth_; ++i) {
      err_ += '.';
      err_ += path_[static_cast<size_t>(i)].field->fd->name();
      if (path_[static_cast<size_t>(i)].index >= 0)
        err_ += fmt::format("[{}]", path_[static_cast<size_t>(i)].index);
    }
    err_ += fmt::format(": {} at offset {}", what, at - begin_);
    return false;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const pb::Descriptor* root_;
  std::string err_;
  std::string buf_;                        // decoded text of the last string that had escapes
  std::array<Step, kMaxDepth + 1> path_{}; // one step per object level: bounded by kMaxDepth
  int depth_ = 0;
};

} // namespace ordo::proto_json::detail
