// Parsing JSON into a message from its plan: objects, lists, maps, and each scalar converted
// with protobuf's leniencies and range checks.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <fmt/core.h>

#include "messages/json/proto_json_lexer.hpp"

namespace ordo::proto_json::detail {

namespace {

template <class T>
bool integral_to(bool neg, uint64_t mag, T& out) {
  using L = std::numeric_limits<T>;
  if (!neg) {
    if (mag > static_cast<uint64_t>(L::max())) return false;
    out = static_cast<T>(mag);
    return true;
  }
  if (mag == 0) {
    out = 0;
    return true;
  }
  if constexpr (std::is_unsigned_v<T>) {
    return false;
  } else {
    const uint64_t limit = static_cast<uint64_t>(-(L::min() + 1)) + 1;
    if (mag > limit) return false;
    out = static_cast<T>(-static_cast<int64_t>(mag - 1) - 1);
    return true;
  }
}

// Protobuf takes 1.0, 1e2 and -0.0 for integer fields: any double that is an integer in range.
template <class T>
bool double_to(double d, T& out) {
  using L = std::numeric_limits<T>;
  const double upper = std::ldexp(1.0, L::digits); // max + 1, exact
  const double lower = std::is_signed_v<T> ? -upper : 0.0;
  if (!(d >= lower && d < upper) || d != std::trunc(d)) return false;
  out = static_cast<T>(d);
  return true;
}

// Integer fields take numbers, or strings of decimal digits with an optional sign ('-' only
// for signed types), like protobuf's safe_strto*: no spaces, no exponent, no fraction.
template <class T>
bool text_to(std::string_view s, T& out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || (neg && std::is_unsigned_v<T>)) return false;
  uint64_t mag = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), mag);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size() && integral_to(neg, mag, out);
}

template <class T>
bool token_to(const Token& t, T& out) {
  if (t.type == Token::Str) return text_to(t.text, out);
  if (t.type != Token::Num) return false;
  return t.integral ? integral_to(t.neg, t.mag, out) : double_to(t.d, out);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != b[i]) return false;
  return true;
}

// Protobuf also takes the strings of safe_strtob: true/t/yes/y/1 and false/f/no/n/0, any case.
bool token_to_bool(const Token& t, bool& out) {
  if (t.type == Token::True || t.type == Token::False) {
    out = t.type == Token::True;
    return true;
  }
  if (t.type != Token::Str) return false;
  for (const char* s : {"true", "t", "yes", "y", "1"})
    if (iequals(t.text, s)) {
      out = true;
      return true;
    }
  for (const char* s : {"false", "f", "no", "n", "0"})
    if (iequals(t.text, s)) {
      out = false;
      return true;
    }
  return false;
}

// Enums take a value's name, its number, or the number as unsigned digits in a string.
// Unknown numbers are kept: proto3 enums are open.
bool token_to_enum(const FD* fd, const Token& t, int& out) {
  if (t.type == Token::Str) {
    if (const auto* v = fd->enum_type()->FindValueByName(std::string(t.text)); v != nullptr) {
      out = v->number();
      return true;
    }
    return !t.text.empty() && t.text[0] != '-' && text_to(t.text, out);
  }
  int32_t v = 0;
  if (t.type != Token::Num || !token_to(t, v)) return false;
  out = v;
  return true;
}

class Parser : Lexer {
public:
  Parser(std::string_view in, const pb::Descriptor* root) : Lexer(in, root) {}

  std::string run(pb::Message& m, const MessagePlan& plan) {
    skip_ws();
    if (p_ == end_ || *p_ != '{') {
      fail(p_, "expected a JSON object");
    } else if (object(m, plan, 1)) {
      skip_ws();
      if (p_ != end_) fail(p_, "unexpected data after the JSON object");
    }
    return std::move(err_);
  }

private:
  // ---- structure ----

  bool object(pb::Message& m, const MessagePlan& plan, int depth) {
    if (depth > kMaxDepth) return fail(p_, "nesting deeper than 64");
    ++p_;                // '{'
    uint64_t oneofs = 0; // oneofs set by this object: a second member is an error
    char c = 0;
    if (!peek(c)) return false;
    if (c == '}') {
      ++p_;
      return true;
    }
    for (bool done = false; !done;) {
      const char* at = p_;
      std::string_view name;
      if (!key(name)) return false;
      const FieldPlan* f = plan.find(name);
      if (f == nullptr)
        return fail(at, fmt::format("unknown field \"{}\" in {}", name, plan.desc->full_name()));
      if (!colon()) return false;
      path_[depth_++] = Step{f, -1};
      if (!member(m, *f, oneofs, depth)) return false;
      --depth_;
      if (!separator('}', done)) return false;
    }
    return true;
  }

  bool member(pb::Message& m, const FieldPlan& f, uint64_t& oneofs, int depth) {
    char c = 0;
    if (!peek(c)) return false;
    if (c == 'n') return literal("null"); // null is the default: leaves the field (and oneof) unset
    if (f.oneof >= 0) {
      const uint64_t bit = uint64_t{1} << f.oneof;
      if ((oneofs & bit) != 0)
        return fail(p_,
                    fmt::format("oneof \"{}\" is already set", f.fd->containing_oneof()->name()));
      oneofs |= bit;
    }
    if (f.map) return map(m, f, depth);
    if (f.repeated) return c == '[' ? list(m, f, depth + 1) : element(m, f, true, depth);
    if (c == '[') return fail(p_, "field is not repeated");
    return element(m, f, false, depth);
  }

  // Protobuf skips null elements and flattens nested arrays into the one repeated field.
  bool list(pb::Message& m, const FieldPlan& f, int depth) {
    if (depth > kMaxDepth) return fail(p_, "nesting deeper than 64");
    ++p_; // '['
    char c = 0;
    if (!peek(c)) return false;
    if (c == ']') {
      ++p_;
      return true;
    }
    int index = m.GetReflection()->FieldSize(m, f.fd); // of the next element, for errors
    for (bool done = false; !done;) {
      if (!peek(c)) return false;
      path_[depth_ - 1].index = index;
      bool ok = true;
      if (c == 'n') {
        ok = literal("null");
      } else if (c == '[') {
        ok = list(m, f, depth + 1);
        index = m.GetReflection()->FieldSize(m, f.fd);
      } else {
        ok = element(m, f, true, depth);
        ++index;
      }
      if (!ok || !separator(']', done)) return false;
    }
    return true;
  }

  // One value into the singular field, or appended to the repeated one.
  bool element(pb::Message& m, const FieldPlan& f, bool add, int depth) {
    char c = 0;
    if (!peek(c)) return false;
    if (f.kind == Kind::Message) {
      if (c != '{') return type_error(f, "a non-object value");
      const pb::Reflection& r = *m.GetReflection();
      pb::Message* sub = add ? r.AddMessage(&m, f.fd) : r.MutableMessage(&m, f.fd);
      return object(*sub, *f.sub, depth + 1);
    }
    if (c == '{' || c == '[') return type_error(f, c == '{' ? "an object" : "an array");
    const char* at = p_;
    Token t;
    return scalar(t) && store(m, f, add, t, at);
  }

  bool map(pb::Message& m, const FieldPlan& f, int depth) {
    if (*p_ != '{') return type_error(f, "a non-object value");
    if (depth + 1 > kMaxDepth) return fail(p_, "nesting deeper than 64");
    ++p_;
    char c = 0;
    if (!peek(c)) return false;
    if (c == '}') {
      ++p_;
      return true;
    }
    std::unordered_set<std::string> seen; // protobuf refuses a key twice in one object
    const auto earlier = entries_by_key(m, f);
    for (bool done = false; !done;) {
      const char* at = p_;
      std::string_view k;
      if (!key(k)) return false;
      std::string key_text(k);
      if (!colon()) return false;
      if (!seen.insert(key_text).second)
        return fail(at, fmt::format("map key \"{}\" appears twice", key_text));
      if (!map_entry(m, f, key_text, at, depth)) return false;
      if (!earlier.empty()) replace_earlier(m, f, earlier);
      if (!separator('}', done)) return false;
    }
    return true;
  }

  bool map_entry(pb::Message& m, const FieldPlan& f, const std::string& key_text, const char* at,
                 int depth) {
    pb::Message* e = m.GetReflection()->AddMessage(&m, f.fd);
    Token kt;
    kt.text = key_text;
    if (!store(*e, f.sub->fields[0], false, kt, at)) return false;
    char c = 0;
    if (!peek(c)) return false;
    // A null value is an entry with the default value, as in protobuf.
    return c == 'n' ? literal("null") : element(*e, f.sub->fields[1], false, depth + 1);
  }

  // The map field given a second time: a key it repeats replaces the earlier entry (protobuf's
  // last-wins), so the entry view holds each key once, as a parsed message would.
  static std::unordered_map<std::string, int> entries_by_key(const pb::Message& m,
                                                             const FieldPlan& f) {
    std::unordered_map<std::string, int> out;
    const int n = m.GetReflection()->FieldSize(m, f.fd);
    for (int i = 0; i < n; ++i)
      out.emplace(key_string(m.GetReflection()->GetRepeatedMessage(m, f.fd, i), f), i);
    return out;
  }

  static void replace_earlier(pb::Message& m, const FieldPlan& f,
                              const std::unordered_map<std::string, int>& earlier) {
    const pb::Reflection& r = *m.GetReflection();
    const int last = r.FieldSize(m, f.fd) - 1;
    const auto it = earlier.find(key_string(r.GetRepeatedMessage(m, f.fd, last), f));
    if (it == earlier.end()) return;
    r.SwapElements(&m, f.fd, it->second, last);
    r.RemoveLast(&m, f.fd);
  }

  static std::string key_string(const pb::Message& e, const FieldPlan& f) {
    const FieldPlan& k = f.sub->fields[0];
    const One v{*e.GetReflection(), e, k.fd};
    switch (k.kind) {
    case Kind::Int32:
      return std::to_string(v.i32());
    case Kind::Int64:
      return std::to_string(v.i64());
    case Kind::UInt32:
      return std::to_string(v.u32());
    case Kind::UInt64:
      return std::to_string(v.u64());
    case Kind::Bool:
      return v.b() ? "true" : "false";
    default:
      return v.str(nullptr);
    }
  }

  bool store(pb::Message& m, const FieldPlan& f, bool add, const Token& t, const char* at) {
    const pb::Reflection& r = *m.GetReflection();
    const FD* fd = f.fd;
    switch (f.kind) {
    case Kind::Int32:
      return put<int32_t>(t, f, at,
                          [&](int32_t v) { add ? r.AddInt32(&m, fd, v) : r.SetInt32(&m, fd, v); });
    case Kind::Int64:
      return put<int64_t>(t, f, at,
                          [&](int64_t v) { add ? r.AddInt64(&m, fd, v) : r.SetInt64(&m, fd, v); });
    case Kind::UInt32:
      return put<uint32_t>(
          t, f, at, [&](uint32_t v) { add ? r.AddUInt32(&m, fd, v) : r.SetUInt32(&m, fd, v); });
    case Kind::UInt64:
      return put<uint64_t>(
          t, f, at, [&](uint64_t v) { add ? r.AddUInt64(&m, fd, v) : r.SetUInt64(&m, fd, v); });
    case Kind::Bool: {
      bool v = false;
      if (!token_to_bool(t, v)) return type_error(f, describe(t), at);
      add ? r.AddBool(&m, fd, v) : r.SetBool(&m, fd, v);
      return true;
    }
    case Kind::Enum: {
      int v = 0;
      if (!token_to_enum(fd, t, v)) return type_error(f, describe(t), at);
      add ? r.AddEnumValue(&m, fd, v) : r.SetEnumValue(&m, fd, v);
      return true;
    }
    case Kind::String:
    case Kind::Bytes: {
      std::string v;
      if (t.type != Token::Str) return type_error(f, describe(t), at);
      if (f.kind == Kind::String)
        v.assign(t.text);
      else if (!base64_decode(t.text, v))
        return type_error(f, describe(t), at);
      add ? r.AddString(&m, fd, std::move(v)) : r.SetString(&m, fd, std::move(v));
      return true;
    }
    case Kind::Message:
      break;
    }
    return type_error(f, describe(t), at);
  }

  template <class T, class Set>
  bool put(const Token& t, const FieldPlan& f, const char* at, Set&& set) {
    T v{};
    if (!token_to(t, v)) return type_error(f, describe(t), at);
    set(v);
    return true;
  }

  // ---- errors ----

  static std::string describe(const Token& t) {
    switch (t.type) {
    case Token::True:
      return "true";
    case Token::False:
      return "false";
    case Token::Num:
      return std::string(t.text);
    case Token::Str:
      break;
    }
    constexpr size_t kShown = 40;
    if (t.text.size() > kShown) return fmt::format("\"{}...\"", t.text.substr(0, kShown));
    return fmt::format("\"{}\"", t.text);
  }

  static std::string expected(const FieldPlan& f) {
    switch (f.kind) {
    case Kind::Int64:
    case Kind::UInt64:
    case Kind::Int32:
    case Kind::UInt32:
      return fmt::format("{} (a number or a decimal string, in range)", f.fd->type_name());
    case Kind::Bool:
      return "bool";
    case Kind::Enum:
      return fmt::format("{} (a value name or number)", f.fd->enum_type()->full_name());
    case Kind::String:
      return "string";
    case Kind::Bytes:
      return "bytes (a base64 string)";
    case Kind::Message:
      return f.map ? "a map (an object)"
                   : fmt::format("{} (an object)", f.fd->message_type()->full_name());
    }
    return "?";
  }

  bool type_error(const FieldPlan& f, const std::string& got, const char* at = nullptr) {
    return fail(at != nullptr ? at : p_, fmt::format("expected {}, got {}", expected(f), got));
  }
};

} // namespace

std::string parse_planned(std::string_view json, pb::Message& m, const MessagePlan& plan) {
  return Parser(json, m.GetDescriptor()).run(m, plan);
}

} // namespace ordo::proto_json::detail
