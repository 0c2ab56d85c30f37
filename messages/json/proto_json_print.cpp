// Printing a message as JSON from its plan, field by field as protobuf's printer orders them.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>

#include <fmt/core.h>
#include <google/protobuf/io/coded_stream.h>

#include "messages/json/proto_json_plan.hpp"
#include "messages/json/proto_json_text.hpp"

namespace ordo::proto_json::detail {

namespace {

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

} // namespace

bool print_planned(const pb::Message& m, const MessagePlan& plan, std::string& out) {
  return Printer(out).message(m, plan, 1);
}

} // namespace ordo::proto_json::detail
