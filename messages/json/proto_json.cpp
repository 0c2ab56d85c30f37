#include "messages/json/proto_json.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <locale.h>
#include <memory>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/wire_format_lite.h>

namespace ordo::proto_json {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;
using pb::internal::WireFormatLite;

// Far deeper than any of our schemas nests; bounds the recursion of printer and parser alike.
constexpr int kMaxDepth = 64;

// ---- plans: what the codec needs from a descriptor, computed once per message type ----------

enum class Kind : uint8_t { Int32, Int64, UInt32, UInt64, Bool, Enum, String, Bytes, Message };

struct MessagePlan;

struct FieldPlan {
  const FD* fd = nullptr;
  std::string key; // `"proto_name":`, printed as is
  Kind kind = Kind::Int32;
  bool repeated = false;
  bool map = false;
  const MessagePlan* sub = nullptr; // message fields, and maps (the entry type)
  int oneof = -1; // synthetic oneofs included: protobuf refuses an `optional` field twice too
  bool real_oneof = false; // member of a declared oneof (not of an `optional` field's)
};

struct MessagePlan {
  const pb::Descriptor* desc = nullptr;
  std::vector<FieldPlan> fields; // by number: protobuf prints in wire order
  std::vector<std::pair<std::string, const FieldPlan*>> names; // proto and JSON names
  bool self_supported = true;
  int tree_supported = -1; // -1: not yet computed (done when first asked for as a root)

  const FieldPlan* find(std::string_view name) const {
    // Linear: a handful of fields per message, and a string compare is cheaper than hashing.
    for (const auto& [n, f] : names)
      if (n.size() == name.size() && std::memcmp(n.data(), name.data(), n.size()) == 0) return f;
    return nullptr;
  }
};

bool kind_of(const FD* fd, Kind& k) {
  switch (fd->cpp_type()) {
  case FD::CPPTYPE_INT32:
    k = Kind::Int32;
    return true;
  case FD::CPPTYPE_INT64:
    k = Kind::Int64;
    return true;
  case FD::CPPTYPE_UINT32:
    k = Kind::UInt32;
    return true;
  case FD::CPPTYPE_UINT64:
    k = Kind::UInt64;
    return true;
  case FD::CPPTYPE_BOOL:
    k = Kind::Bool;
    return true;
  case FD::CPPTYPE_ENUM:
    k = Kind::Enum;
    return true;
  case FD::CPPTYPE_STRING:
    k = fd->type() == FD::TYPE_BYTES ? Kind::Bytes : Kind::String;
    return true;
  case FD::CPPTYPE_MESSAGE:
    k = Kind::Message;
    return fd->type() == FD::TYPE_MESSAGE; // groups: protobuf's util handles them
  default:
    return false; // float and double: protobuf's number formatting is not reproduced here
  }
}

// Messages whose JSON form is not the plain field mapping (well-known types), or whose
// semantics differ (proto2 presence, closed enums) are left to protobuf's util.
bool message_supported(const pb::Descriptor* d) {
  return d->file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3 &&
         d->full_name().rfind("google.protobuf.", 0) != 0 && d->oneof_decl_count() <= 64 &&
         d->extension_range_count() == 0;
}

class Registry {
public:
  /// The plan for `d`, or nullptr if some message reachable from it is not supported.
  const MessagePlan* root(const pb::Descriptor* d) {
    std::lock_guard<std::mutex> lock(mu_);
    MessagePlan* p = plan_for(d);
    if (p->tree_supported < 0) p->tree_supported = tree_supported(*p) ? 1 : 0;
    return p->tree_supported != 0 ? p : nullptr;
  }

private:
  // Builds plans for everything reachable from `d` with an explicit work list, so deep or
  // recursive schemas cost no stack.
  MessagePlan* plan_for(const pb::Descriptor* d) {
    std::vector<MessagePlan*> todo;
    MessagePlan* p = lookup_or_add(d, todo);
    while (!todo.empty()) {
      MessagePlan* next = todo.back();
      todo.pop_back();
      fill(*next, todo);
    }
    return p;
  }

  MessagePlan* lookup_or_add(const pb::Descriptor* d, std::vector<MessagePlan*>& todo) {
    auto& slot = plans_[d];
    if (!slot) {
      slot = std::make_unique<MessagePlan>();
      slot->desc = d;
      todo.push_back(slot.get());
    }
    return slot.get();
  }

  void fill(MessagePlan& p, std::vector<MessagePlan*>& todo) {
    const pb::Descriptor* d = p.desc;
    p.self_supported = message_supported(d);
    p.fields.resize(static_cast<size_t>(d->field_count()));
    for (int i = 0; i < d->field_count(); ++i) {
      FieldPlan& f = p.fields[static_cast<size_t>(i)];
      f.fd = d->field(i);
      p.self_supported = kind_of(f.fd, f.kind) && p.self_supported;
      f.key = "\"" + f.fd->name() + "\":";
      f.repeated = f.fd->is_repeated();
      f.map = f.fd->is_map();
      if (f.kind == Kind::Message) f.sub = lookup_or_add(f.fd->message_type(), todo);
      if (f.fd->containing_oneof() != nullptr) f.oneof = f.fd->containing_oneof()->index();
      f.real_oneof = f.fd->real_containing_oneof() != nullptr;
    }
    std::sort(p.fields.begin(), p.fields.end(), [](const FieldPlan& a, const FieldPlan& b) {
      return a.fd->number() < b.fd->number();
    });
    for (const FieldPlan& f : p.fields) {
      p.names.emplace_back(f.fd->name(), &f);
      if (f.fd->json_name() != f.fd->name()) p.names.emplace_back(f.fd->json_name(), &f);
    }
  }

  static bool tree_supported(const MessagePlan& root) {
    std::vector<const MessagePlan*> todo{&root};
    std::unordered_set<const MessagePlan*> seen{&root};
    while (!todo.empty()) {
      const MessagePlan* p = todo.back();
      todo.pop_back();
      if (!p->self_supported) return false;
      for (const FieldPlan& f : p->fields)
        if (f.sub != nullptr && seen.insert(f.sub).second) todo.push_back(f.sub);
    }
    return true;
  }

  std::mutex mu_;
  std::unordered_map<const pb::Descriptor*, std::unique_ptr<MessagePlan>> plans_;
};

Registry& registry() {
  static Registry* r = new Registry; // never destroyed: plans may be used during shutdown
  return *r;
}

const MessagePlan* plan_of(const pb::Descriptor* d) {
  // A request handler uses one or two message types: skip the lock on repeats.
  thread_local const pb::Descriptor* last = nullptr;
  thread_local const MessagePlan* last_plan = nullptr;
  if (d != last) {
    last_plan = registry().root(d);
    last = d;
  }
  return last_plan;
}

// ---- text helpers ---------------------------------------------------------------------------

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

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

int base64_value(char c, int& alphabet) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  const int kind = (c == '+' || c == '/') ? 1 : (c == '-' || c == '_') ? 2 : 0;
  if (kind == 0 || (alphabet != 0 && alphabet != kind)) return -1;
  alphabet = kind;
  return (c == '+' || c == '-') ? 62 : 63;
}

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

template <class T>
void append_number(std::string& out, T v, bool quoted) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  if (quoted) out += '"';
  out.append(buf, r.ptr);
  if (quoted) out += '"';
}

// ---- printer --------------------------------------------------------------------------------

// The singular value of a field.
struct One {
  const pb::Reflection& r;
  const pb::Message& m;
  const FD* fd;
  int32_t i32() const { return r.GetInt32(m, fd); }
  int64_t i64() const { return r.GetInt64(m, fd); }
  uint32_t u32() const { return r.GetUInt32(m, fd); }
  uint64_t u64() const { return r.GetUInt64(m, fd); }
  bool b() const { return r.GetBool(m, fd); }
  int en() const { return r.GetEnumValue(m, fd); }
  const std::string& str(std::string* scratch) const {
    return r.GetStringReference(m, fd, scratch);
  }
  const pb::Message& msg() const { return r.GetMessage(m, fd); }
};

// Element `i` of a repeated field.
struct Nth {
  const pb::Reflection& r;
  const pb::Message& m;
  const FD* fd;
  int i;
  int32_t i32() const { return r.GetRepeatedInt32(m, fd, i); }
  int64_t i64() const { return r.GetRepeatedInt64(m, fd, i); }
  uint32_t u32() const { return r.GetRepeatedUInt32(m, fd, i); }
  uint64_t u64() const { return r.GetRepeatedUInt64(m, fd, i); }
  bool b() const { return r.GetRepeatedBool(m, fd, i); }
  int en() const { return r.GetRepeatedEnumValue(m, fd, i); }
  const std::string& str(std::string* scratch) const {
    return r.GetRepeatedStringReference(m, fd, i, scratch);
  }
  const pb::Message& msg() const { return r.GetRepeatedMessage(m, fd, i); }
};

class Printer {
public:
  explicit Printer(std::string& out) : out_(out) {}

  // False when this message must be left to protobuf (invalid UTF-8, absurd nesting).
  bool message(const pb::Message& m, const MessagePlan& p, int depth) {
    if (depth > kMaxDepth) return false;
    const pb::Reflection& r = *m.GetReflection();
    // One look at each oneof's case instead of asking every member (OrderEvent has 16).
    std::array<const FD*, 64> active{};
    for (int i = 0; i < p.desc->real_oneof_decl_count(); ++i)
      active[static_cast<size_t>(i)] = r.GetOneofFieldDescriptor(m, p.desc->oneof_decl(i));
    std::string wire; // the serialized message, only when a map needs protobuf's order
    out_ += '{';
    bool first = true;
    for (const FieldPlan& f : p.fields) {
      if (f.real_oneof ? active[static_cast<size_t>(f.oneof)] != f.fd
          : f.repeated ? r.FieldSize(m, f.fd) == 0
                       : !r.HasField(m, f.fd))
        continue;
      if (!first) out_ += ',';
      first = false;
      out_ += f.key;
      if (!field(m, r, f, wire, depth)) return false;
    }
    out_ += '}';
    return true;
  }

private:
  bool field(const pb::Message& m, const pb::Reflection& r, const FieldPlan& f, std::string& wire,
             int depth) {
    if (f.map) return map(m, r, f, wire, depth);
    if (!f.repeated) return value(f, One{r, m, f.fd}, depth);
    out_ += '[';
    const int n = r.FieldSize(m, f.fd);
    for (int i = 0; i < n; ++i) {
      if (i > 0) out_ += ',';
      if (!value(f, Nth{r, m, f.fd, i}, depth)) return false;
    }
    out_ += ']';
    return true;
  }

  template <class Src>
  bool value(const FieldPlan& f, const Src& src, int depth) {
    switch (f.kind) {
    case Kind::Int32:
      append_number(out_, src.i32(), false);
      return true;
    case Kind::Int64:
      append_number(out_, src.i64(), true); // JSON numbers lose precision past 2^53
      return true;
    case Kind::UInt32:
      append_number(out_, src.u32(), false);
      return true;
    case Kind::UInt64:
      append_number(out_, src.u64(), true);
      return true;
    case Kind::Bool:
      out_ += src.b() ? "true" : "false";
      return true;
    case Kind::Enum:
      enum_value(f.fd, src.en());
      return true;
    case Kind::String:
      return append_string(out_, src.str(&scratch_));
    case Kind::Bytes:
      append_base64(out_, src.str(&scratch_));
      return true;
    case Kind::Message:
      return message(src.msg(), *f.sub, depth + 1);
    }
    return false;
  }

  void enum_value(const FD* fd, int v) {
    // Values this build does not know (open enums) print as numbers, like protobuf.
    const pb::EnumValueDescriptor* e = fd->enum_type()->FindValueByNumber(v);
    if (e == nullptr) return append_number(out_, v, false);
    out_ += '"';
    out_ += e->name();
    out_ += '"';
  }

  bool map(const pb::Message& m, const pb::Reflection& r, const FieldPlan& f, std::string& wire,
           int depth) {
    out_ += '{';
    const bool ok = r.FieldSize(m, f.fd) == 1 ? entry(r.GetRepeatedMessage(m, f.fd, 0), f, depth)
                                              : entries_in_wire_order(m, r, f, wire, depth);
    out_ += '}';
    return ok;
  }

  // Protobuf prints map entries in the order of its hash map, which reflection's entry view
  // does not promise (it keeps insertion order once written through reflection). The
  // serialized message has that exact order, so for two or more entries read them from it.
  bool entries_in_wire_order(const pb::Message& m, const pb::Reflection& r, const FieldPlan& f,
                             std::string& wire, int depth) {
    if (wire.empty() && !m.SerializeToString(&wire)) return false;
    pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                                static_cast<int>(wire.size()));
    std::unique_ptr<pb::Message> e(r.GetRepeatedMessage(m, f.fd, 0).New());
    std::string bytes;
    bool first = true;
    for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
      if (WireFormatLite::GetTagFieldNumber(tag) != f.fd->number() ||
          WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        if (!WireFormatLite::SkipField(&in, tag)) return false;
        continue;
      }
      uint32_t len = 0;
      if (!in.ReadVarint32(&len) || !in.ReadString(&bytes, static_cast<int>(len))) return false;
      if (!e->ParseFromString(bytes)) return false;
      if (!first) out_ += ',';
      first = false;
      if (!entry(*e, f, depth)) return false;
    }
    return true;
  }

  // `"key":value`; keys are always JSON strings, values print even when default.
  bool entry(const pb::Message& e, const FieldPlan& f, int depth) {
    const pb::Reflection& r = *e.GetReflection();
    const FieldPlan& key = f.sub->fields[0];
    const FieldPlan& val = f.sub->fields[1];
    const One k{r, e, key.fd};
    switch (key.kind) {
    case Kind::String:
      if (!append_string(out_, k.str(&scratch_))) return false;
      break;
    case Kind::Bool:
      out_ += k.b() ? "\"true\"" : "\"false\"";
      break;
    default:
      // Integer keys: the same digits as a value, always quoted.
      if (key.kind == Kind::Int32) append_number(out_, k.i32(), true);
      if (key.kind == Kind::Int64) append_number(out_, k.i64(), true);
      if (key.kind == Kind::UInt32) append_number(out_, k.u32(), true);
      if (key.kind == Kind::UInt64) append_number(out_, k.u64(), true);
    }
    out_ += ':';
    return value(val, One{r, e, val.fd}, depth);
  }

  std::string& out_;
  std::string scratch_;
};

// ---- parser ---------------------------------------------------------------------------------

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

locale_t c_locale() {
  static const locale_t l = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  return l;
}

class Parser {
public:
  Parser(std::string_view in, const pb::Descriptor* root)
      : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()), root_(root) {}

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

void protobuf_print(const pb::Message& m, std::string& out) {
  pb::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string s;
  (void)pb::util::MessageToJsonString(m, &s, o);
  out += s;
}

std::string protobuf_parse(std::string_view json, pb::Message& m) {
  const auto st = pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()), &m, {});
  if (st.ok()) return {};
  std::string msg(st.message().data(), st.message().size());
  return msg.empty() ? "malformed JSON" : msg;
}

} // namespace

void print(const pb::Message& m, std::string& out) {
  const MessagePlan* plan = plan_of(m.GetDescriptor());
  const size_t mark = out.size();
  out.reserve(mark + 1024); // most bodies fit: one allocation instead of a doubling series
  if (plan != nullptr && Printer(out).message(m, *plan, 1)) return;
  out.resize(mark);
  protobuf_print(m, out);
}

std::string parse(std::string_view json, pb::Message& m) {
  const MessagePlan* plan = plan_of(m.GetDescriptor());
  if (plan == nullptr) return protobuf_parse(json, m);
  m.Clear();
  std::string err = Parser(json, m.GetDescriptor()).run(m, *plan);
  if (!err.empty()) m.Clear(); // no half-parsed message escapes
  return err;
}

} // namespace ordo::proto_json
