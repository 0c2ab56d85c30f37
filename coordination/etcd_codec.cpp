#include "coordination/etcd_codec.hpp"

#include <fmt/core.h>
#include <google/protobuf/util/json_util.h>

#include "coordination/etcd_errors.hpp"

namespace ordo::coordination::codec {

std::string to_json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true; // etcd's names ("TTL", "range_end"), as it prints
  (void)google::protobuf::util::MessageToJsonString(m, &out, options); // fails only on bad UTF-8
  return out;                                                          // in strings; we send bytes
}

std::string from_json(std::string_view json, google::protobuf::Message& m) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true; // a newer etcd adds fields; what we read stays the same
  auto status = google::protobuf::util::JsonStringToMessage(json, &m, options);
  return status.ok() ? std::string{} : std::string{status.message()};
}

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back(); // "a\xff" ends where "b" begins
  }
  return std::string(1, '\0'); // etcd: range_end "\0" with any key means "to the end"
}

key_value to_key_value(const etcd::KeyValue& kv) {
  return key_value{kv.key(),          kv.value(),   kv.create_revision(),
                   kv.mod_revision(), kv.version(), kv.lease()};
}

etcd::Compare to_compare(const txn_compare& c) {
  etcd::Compare out;
  out.set_key(c.key);
  switch (c.how) {
  case txn_compare::op::equal:
    out.set_result(etcd::Compare::EQUAL);
    break;
  case txn_compare::op::not_equal:
    out.set_result(etcd::Compare::NOT_EQUAL);
    break;
  case txn_compare::op::greater:
    out.set_result(etcd::Compare::GREATER);
    break;
  case txn_compare::op::less:
    out.set_result(etcd::Compare::LESS);
    break;
  }
  switch (c.what) {
  case txn_compare::target::version:
    out.set_target(etcd::Compare::VERSION);
    out.set_version(c.number);
    break;
  case txn_compare::target::create_revision:
    out.set_target(etcd::Compare::CREATE);
    out.set_create_revision(c.number);
    break;
  case txn_compare::target::mod_revision:
    out.set_target(etcd::Compare::MOD);
    out.set_mod_revision(c.number);
    break;
  case txn_compare::target::value:
    out.set_target(etcd::Compare::VALUE);
    out.set_value(c.value);
    break;
  case txn_compare::target::lease:
    out.set_target(etcd::Compare::LEASE);
    out.set_lease(c.number);
    break;
  }
  return out;
}

etcd::RequestOp to_request_op(const txn_op& op) {
  etcd::RequestOp out;
  switch (op.what) {
  case txn_op::kind::put: {
    auto* put = out.mutable_request_put();
    put->set_key(op.key);
    put->set_value(op.value);
    put->set_lease(op.lease);
    break;
  }
  case txn_op::kind::erase: {
    auto* del = out.mutable_request_delete_range();
    del->set_key(op.key);
    if (op.prefix) del->set_range_end(prefix_end(op.key));
    break;
  }
  case txn_op::kind::get: {
    auto* range = out.mutable_request_range();
    range->set_key(op.key);
    if (op.prefix) range->set_range_end(prefix_end(op.key));
    break;
  }
  }
  return out;
}

caf::error grpc_error(int code, const std::string& message, const std::string& what) {
  auto context = fmt::format("{}: etcd answered gRPC status {}: {}", what, code, message);
  switch (code) {
  case 3: // InvalidArgument
    return make_error(etcd_errc::invalid_argument, std::move(context));
  case 4:  // DeadlineExceeded
  case 14: // Unavailable: no leader, or "etcdserver: request timed out"
    return make_error(etcd_errc::unavailable, std::move(context));
  case 5: // NotFound: etcd uses it for leases only
    return make_error(etcd_errc::lease_not_found, std::move(context));
  case 11: // OutOfRange: "mvcc: required revision has been compacted"
    return make_error(etcd_errc::compacted, std::move(context));
  default:
    return make_error(etcd_errc::rejected, std::move(context));
  }
}

caf::error status_error(int http_status, const std::string& body, const std::string& what) {
  etcd::GatewayError e;
  if (from_json(body, e).empty() && (e.code() != 0 || !e.message().empty()))
    return grpc_error(e.code(), e.message().empty() ? e.error() : e.message(), what);
  return make_error(etcd_errc::bad_answer, fmt::format("{}: HTTP {} without an etcd error body: {}",
                                                       what, http_status, body.substr(0, 200)));
}

} // namespace ordo::coordination::codec
