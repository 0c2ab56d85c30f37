// Protobuf's JSON mapping at speed: the planned printer and parser, and protobuf's own util for
// the messages they leave to it (see proto_json.hpp).
#include "messages/json/proto_json.hpp"

#include <string>

#include <google/protobuf/util/json_util.h>

#include "messages/json/proto_json_plan.hpp"

namespace ordo::proto_json {

using namespace detail;

namespace {

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
  if (plan != nullptr && print_planned(m, *plan, out)) return;
  out.resize(mark);
  protobuf_print(m, out);
}

std::string parse(std::string_view json, pb::Message& m) {
  const MessagePlan* plan = plan_of(m.GetDescriptor());
  if (plan == nullptr) return protobuf_parse(json, m);
  m.Clear();
  std::string err = parse_planned(json, m, *plan);
  if (!err.empty()) m.Clear(); // no half-parsed message escapes
  return err;
}

} // namespace ordo::proto_json
