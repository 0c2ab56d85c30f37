#pragma once
// The etcd client's translation between its own types and the gateway's JSON (through the
// messages of etcd_rpc.proto), and from the gateway's error bodies to etcd_errc. Internal to
// coordination/: callers use etcd_client.hpp.

#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <google/protobuf/message.h>

#include "coordination/etcd_client.hpp"
#include "coordination/etcd_rpc.pb.h"

namespace ordo::coordination::codec {

/// The message as the gateway's JSON (proto field names, bytes as base64).
std::string to_json(const google::protobuf::Message& m);

/// Parses `json` into `m`, ignoring fields this client does not know. "" or the problem.
std::string from_json(std::string_view json, google::protobuf::Message& m);

/// The end of the range of keys starting with `prefix`: the prefix with its last byte below
/// 0xff increased ("\0" for the empty prefix: every key).
std::string prefix_end(const std::string& prefix);

key_value to_key_value(const etcd::KeyValue& kv);

etcd::Compare to_compare(const txn_compare& c);
etcd::RequestOp to_request_op(const txn_op& op);

/// The typed error for a gateway answer with a gRPC status code and message.
caf::error grpc_error(int code, const std::string& message, const std::string& what);

/// The typed error for a non-200 answer (its body is a GatewayError when it came from etcd).
caf::error status_error(int http_status, const std::string& body, const std::string& what);

} // namespace ordo::coordination::codec
