// The plans of message types: each field's kind, key and names, and which messages protobuf's
// util must handle instead; built once per type under a lock, cached per thread.
#include "messages/json/proto_json_plan.hpp"

#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace ordo::proto_json::detail {

namespace {

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

} // namespace

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

} // namespace ordo::proto_json::detail
