#include "coordination/etcd_client.hpp"

#include <fmt/core.h>

#include "coordination/etcd_codec.hpp"
#include "coordination/etcd_errors.hpp"
#include "net/http_client.hpp"

namespace ordo::coordination {

txn_compare txn_compare::mod_revision_is(std::string key, int64_t rev) {
  return txn_compare{std::move(key), target::mod_revision, op::equal, rev, {}};
}
txn_compare txn_compare::version_is(std::string key, int64_t version) {
  return txn_compare{std::move(key), target::version, op::equal, version, {}};
}
txn_compare txn_compare::value_is(std::string key, std::string value) {
  return txn_compare{std::move(key), target::value, op::equal, 0, std::move(value)};
}

txn_op txn_op::put(std::string key, std::string value, int64_t lease) {
  return txn_op{kind::put, std::move(key), std::move(value), lease, false};
}
txn_op txn_op::erase(std::string key) {
  return txn_op{kind::erase, std::move(key), {}, 0, false};
}
txn_op txn_op::get(std::string key) {
  return txn_op{kind::get, std::move(key), {}, 0, false};
}
txn_op txn_op::get_prefix(std::string prefix) {
  return txn_op{kind::get, std::move(prefix), {}, 0, true};
}

caf::expected<std::unique_ptr<etcd_client>> etcd_client::open(etcd_options options) {
  if (options.endpoints.empty())
    return make_error(etcd_errc::invalid_argument, "no etcd endpoints given");
  if (options.timeout.count() <= 0)
    return make_error(etcd_errc::invalid_argument, "the etcd timeout must be > 0");
  for (const auto& e : options.endpoints) {
    net::http_endpoint parsed;
    auto problem = net::parse_endpoint(e, parsed);
    if (problem.empty() && e.find("://") != std::string::npos && e.rfind("http://", 0) != 0)
      problem = "only http:// endpoints are supported";
    if (!problem.empty())
      return make_error(etcd_errc::invalid_argument,
                        fmt::format("etcd endpoint '{}': {}", e, problem));
  }
  return std::unique_ptr<etcd_client>{new etcd_client{std::move(options)}};
}

etcd_client::etcd_client(etcd_options options) : options_(std::move(options)) {
  net::http_limits limits;
  limits.body_bytes_max = options_.answer_bytes_max;
  for (const auto& e : options_.endpoints)
    connections_.push_back(std::make_unique<net::http_client>(e, "", options_.timeout, limits));
}

etcd_client::~etcd_client() = default;

size_t etcd_client::first_endpoint() const {
  std::lock_guard<std::mutex> g{mu_};
  return current_;
}

caf::expected<std::string> etcd_client::call(const std::string& path, const std::string& body,
                                             const std::string& what) {
  std::lock_guard<std::mutex> g{mu_};
  const size_t n = connections_.size();
  std::string refused;
  for (size_t i = 0; i < n; ++i) {
    const size_t at = (current_ + i) % n;
    auto r = connections_[at]->post("/v3/" + path, body);
    if (r.failure == net::http_failure::connect || r.failure == net::http_failure::bad_address) {
      refused += fmt::format("{}{}", refused.empty() ? "" : "; ", r.error);
      continue; // nothing was sent: the next endpoint may take it
    }
    const auto& ep = options_.endpoints[at];
    if (r.failure != net::http_failure::none) {
      current_ = (at + 1) % n; // this endpoint is slow or broken: start elsewhere next time
      auto code =
          r.failure == net::http_failure::timeout ? etcd_errc::timeout : etcd_errc::bad_answer;
      return make_error(
          code, fmt::format("{} at {}: {} ({})", what, ep, r.error, net::to_string(r.failure)));
    }
    current_ = at;
    if (r.status != 200) return codec::status_error(r.status, r.body, what + " at " + ep);
    return std::move(r.body);
  }
  return make_error(etcd_errc::unreachable,
                    fmt::format("{}: no etcd endpoint reachable: {}", what, refused));
}

namespace {

// Parses a 200 answer into `m`, or bad_answer naming the call.
caf::error read(const caf::expected<std::string>& answer, google::protobuf::Message& m,
                const std::string& what) {
  if (!answer) return answer.error();
  auto problem = codec::from_json(*answer, m);
  if (problem.empty()) return {};
  return make_error(etcd_errc::bad_answer, fmt::format("{}: {}", what, problem));
}

caf::error check_key(const std::string& key, const std::string& what) {
  if (key.empty()) return make_error(etcd_errc::invalid_argument, what + ": empty key");
  return {};
}

range_result to_range(const etcd::RangeResponse& r) {
  range_result out;
  out.revision = r.header().revision();
  out.more = r.more();
  out.count = r.count();
  for (const auto& kv : r.kvs())
    out.kvs.push_back(codec::to_key_value(kv));
  return out;
}

} // namespace

caf::expected<lease_grant> etcd_client::grant_lease(int64_t ttl_s) {
  if (ttl_s < 1) return make_error(etcd_errc::invalid_argument, "grant_lease: TTL < 1 s");
  etcd::LeaseGrantRequest req;
  req.set_ttl(ttl_s);
  etcd::LeaseGrantResponse resp;
  if (auto err = read(call("lease/grant", codec::to_json(req), "grant_lease"), resp, "grant_lease"))
    return err;
  if (!resp.error().empty() || resp.id() == 0)
    return make_error(etcd_errc::rejected, "grant_lease: " + resp.error());
  return lease_grant{resp.id(), resp.ttl()};
}

caf::expected<lease_grant> etcd_client::keep_alive_once(int64_t lease_id) {
  const auto what = fmt::format("keep_alive_once of lease {}", lease_id);
  etcd::LeaseKeepAliveRequest req;
  req.set_id(lease_id);
  // A streaming call in gRPC: the gateway answers our one request with one line
  // {"result": ...} (or {"error": ...}) and ends the stream when our body ends.
  auto answer = call("lease/keepalive", codec::to_json(req), what);
  if (!answer) return answer.error();
  etcd::KeepAliveStreamItem item;
  auto line = answer->substr(0, answer->find('\n'));
  if (auto problem = codec::from_json(line, item); !problem.empty())
    return make_error(etcd_errc::bad_answer, fmt::format("{}: {}", what, problem));
  if (item.has_error())
    return codec::grpc_error(item.error().grpc_code(), item.error().message(), what);
  if (item.result().ttl() <= 0) // etcd's answer for a lease that is gone
    return make_error(etcd_errc::lease_not_found, what + ": no time left");
  return lease_grant{item.result().id(), item.result().ttl()};
}

caf::error etcd_client::revoke_lease(int64_t lease_id) {
  const auto what = fmt::format("revoke_lease of lease {}", lease_id);
  etcd::LeaseRevokeRequest req;
  req.set_id(lease_id);
  etcd::LeaseRevokeResponse resp;
  return read(call("lease/revoke", codec::to_json(req), what), resp, what);
}

caf::expected<lease_status> etcd_client::lease_time_to_live(int64_t lease_id, bool with_keys) {
  const auto what = fmt::format("lease_time_to_live of lease {}", lease_id);
  etcd::LeaseTimeToLiveRequest req;
  req.set_id(lease_id);
  req.set_keys(with_keys);
  etcd::LeaseTimeToLiveResponse resp;
  if (auto err = read(call("lease/timetolive", codec::to_json(req), what), resp, what)) return err;
  if (resp.ttl() < 0) return make_error(etcd_errc::lease_not_found, what + ": TTL -1");
  lease_status out{resp.id(), resp.ttl(), resp.grantedttl(), {}};
  for (const auto& k : resp.keys())
    out.keys.push_back(k);
  return out;
}

caf::expected<int64_t> etcd_client::put(const std::string& key, const std::string& value,
                                        int64_t lease) {
  if (auto err = check_key(key, "put")) return err;
  etcd::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  etcd::PutResponse resp;
  if (auto err = read(call("kv/put", codec::to_json(req), "put"), resp, "put")) return err;
  return resp.header().revision();
}

caf::expected<range_result> etcd_client::get(const std::string& key) {
  if (auto err = check_key(key, "get")) return err;
  etcd::RangeRequest req;
  req.set_key(key);
  etcd::RangeResponse resp;
  if (auto err = read(call("kv/range", codec::to_json(req), "get"), resp, "get")) return err;
  return to_range(resp);
}

caf::expected<range_result> etcd_client::get_prefix(const std::string& prefix, int64_t limit) {
  if (limit < 0) return make_error(etcd_errc::invalid_argument, "get_prefix: limit < 0");
  etcd::RangeRequest req;
  req.set_key(prefix.empty() ? std::string(1, '\0') : prefix);
  req.set_range_end(codec::prefix_end(prefix));
  req.set_limit(limit);
  etcd::RangeResponse resp;
  if (auto err = read(call("kv/range", codec::to_json(req), "get_prefix"), resp, "get_prefix"))
    return err;
  return to_range(resp);
}

namespace {
etcd::DeleteRangeRequest delete_request(const std::string& key, bool prefix) {
  etcd::DeleteRangeRequest req;
  req.set_key(prefix && key.empty() ? std::string(1, '\0') : key);
  if (prefix) req.set_range_end(codec::prefix_end(key));
  return req;
}
} // namespace

caf::expected<int64_t> etcd_client::erase(const std::string& key) {
  if (auto err = check_key(key, "erase")) return err;
  etcd::DeleteRangeResponse resp;
  if (auto err = read(call("kv/deleterange", codec::to_json(delete_request(key, false)), "erase"),
                      resp, "erase"))
    return err;
  return resp.deleted();
}

caf::expected<int64_t> etcd_client::erase_prefix(const std::string& prefix) {
  etcd::DeleteRangeResponse resp;
  if (auto err =
          read(call("kv/deleterange", codec::to_json(delete_request(prefix, true)), "erase_prefix"),
               resp, "erase_prefix"))
    return err;
  return resp.deleted();
}

caf::expected<txn_result> etcd_client::txn(const std::vector<txn_compare>& compares,
                                           const std::vector<txn_op>& success,
                                           const std::vector<txn_op>& failure) {
  etcd::TxnRequest req;
  for (const auto& c : compares) {
    if (auto err = check_key(c.key, "txn compare")) return err;
    *req.add_compare() = codec::to_compare(c);
  }
  for (const auto& op : success)
    *req.add_success() = codec::to_request_op(op);
  for (const auto& op : failure)
    *req.add_failure() = codec::to_request_op(op);
  etcd::TxnResponse resp;
  if (auto err = read(call("kv/txn", codec::to_json(req), "txn"), resp, "txn")) return err;
  txn_result out;
  out.succeeded = resp.succeeded();
  out.revision = resp.header().revision();
  for (const auto& r : resp.responses()) {
    txn_op_result one;
    if (r.has_response_range()) {
      one.what = txn_op::kind::get;
      one.kvs = to_range(r.response_range()).kvs;
    } else if (r.has_response_delete_range()) {
      one.what = txn_op::kind::erase;
      one.deleted = r.response_delete_range().deleted();
    } else {
      one.what = txn_op::kind::put;
    }
    out.results.push_back(std::move(one));
  }
  return out;
}

} // namespace ordo::coordination
