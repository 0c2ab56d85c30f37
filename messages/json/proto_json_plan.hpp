// Internal to ordo_json: what the codec needs from a descriptor (a plan per message type).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/wire_format_lite.h>

namespace ordo::proto_json::detail {

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

/// The plan for `d`, or nullptr if some message reachable from it is not supported (then
/// protobuf's own JSON util does the work). Built once per type, never freed.
const MessagePlan* plan_of(const pb::Descriptor* d);

/// Appends `m` as JSON; false when it must be left to protobuf (invalid UTF-8, absurd
/// nesting), with `out` to be cut back by the caller (proto_json_print.cpp).
bool print_planned(const pb::Message& m, const MessagePlan& plan, std::string& out);

/// Parses `json` into the cleared `m`; "" or the first error (proto_json_parse.cpp).
std::string parse_planned(std::string_view json, pb::Message& m, const MessagePlan& plan);

} // namespace ordo::proto_json::detail
