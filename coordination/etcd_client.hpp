#pragma once
// ordo::coordination::etcd_client — a synchronous client of etcd's v3 API, for leader leases,
// epochs advanced by compare-and-swap, membership and the shard map.
//
// HOW IT TALKS TO ETCD
//   Through etcd's JSON gateway (`POST /v3/kv/range`, `/v3/kv/txn`, `/v3/lease/grant`, ...;
//   served by etcd 3.4 under /v3/ and /v3beta/, by 3.5 and later under /v3/ only) over
//   net/http_client.hpp, on the client URLs etcd listens on. The bodies are Protobuf's JSON
//   mapping of etcd's own messages (etcd_rpc.proto): keys and values travel base64-encoded,
//   64-bit numbers as strings. Keys and values here are raw bytes (std::string); this client
//   does the encoding. docs/dependencies.md says why not gRPC or a C++ etcd library.
//
// WHAT A CALL PROMISES
//   Every call is synchronous and ends within options.timeout on each endpoint it tries, so
//   within timeout × endpoints at the most (a black-holed endpoint costs a whole timeout). A
//   call goes to the endpoint that answered last; an endpoint that refuses or does not accept
//   the connection in time (nothing was sent) makes the call move on to the next, in the
//   order given, wrapping around once. Once a request was sent, the call never moves on: a
//   timeout is `timeout` (outcome unknown: the write may have been applied), and the next
//   call starts at the following endpoint. Writes are never retried by this client, so a
//   compare-and-swap is never applied twice behind the caller's back.
//   Reads are linearizable (etcd's default), served through the leader's quorum.
//
// THREADING
//   An etcd_client may be shared between threads: calls other than watch_prefix take turns
//   on one connection per endpoint (a mutex), so a slow call delays the others on the same
//   client — renew a lease on a client of its own. watch_prefix opens a connection of its own
//   for each call and holds no lock while it waits, so it never delays the other calls.
//
// WATCH
//   watch_prefix is a bounded long poll, not a callback thread: one call opens etcd's watch
//   stream from a revision, returns as soon as a batch of events arrives (or with none when
//   `wait` passes), and closes the stream. The caller loops, passing next_revision back, on a
//   thread it owns and stops when it likes; nothing runs behind its back and no event is lost
//   between calls, because etcd replays history from any revision it has not compacted
//   (and says `compacted`, with the revision to start again from, when it has). etcd never
//   splits one revision's events over two batches, so next_revision (the last event's
//   revision + 1) neither skips nor repeats a revision. Cost: one TCP connection per call.
//
// ERRORS (caf::error with category "etcd", code etcd_errc; see etcd_errors.hpp)
//   invalid_argument   an empty key, a TTL < 1 s, a revision < 0 [every call]; or etcd's
//                      InvalidArgument (gRPC 3), e.g. a key too large.
//   unreachable        no endpoint accepted a connection within the timeout. Nothing was
//                      sent: safe to retry. [every call]
//   timeout            an endpoint took the request but no whole answer came within the
//                      timeout: the outcome is UNKNOWN (read the key again before retrying a
//                      compare-and-swap). [every call]
//   unavailable        etcd answered Unavailable (14) or DeadlineExceeded (4): no leader, or
//                      the proposal timed out inside etcd. The outcome is UNKNOWN.
//   lease_not_found    the lease expired or was revoked (etcd's NotFound, 5; or a keep-alive
//                      or time-to-live that reports no time left). [keep_alive_once,
//                      lease_time_to_live, revoke_lease, put with a lease, txn]
//   compacted          watch_prefix from a revision etcd has compacted (OutOfRange, 11):
//                      compact_revision(err) is where to start again, after reading the state
//                      with get_prefix. [watch_prefix]
//   rejected           any other status from etcd (ResourceExhausted, PermissionDenied, ...);
//                      the context carries etcd's code and message.
//   bad_answer         the answer is not what the gateway sends: not HTTP, not JSON of the
//                      expected message, or over answer_bytes_max. Outcome unknown.
//
// LIMITS
//   An answer (a range, a watch batch stream) is read up to answer_bytes_max (default 16 MiB,
//   `bad_answer` beyond); page large ranges with get_prefix's limit. Keys 1..etcd's limit
//   bytes (etcd refuses requests over 1.5 MiB by default). Endpoints are http:// URLs of IP
//   addresses (a host name is resolved without a deadline); no TLS or authentication.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/expected.hpp>

namespace ordo::net {
class http_client;
}

namespace ordo::coordination {

struct etcd_options {
  std::vector<std::string> endpoints;      // e.g. {"http://127.0.0.1:2379", ...}; at least one
  std::chrono::milliseconds timeout{2000}; // per call on each endpoint tried; > 0
  size_t answer_bytes_max = 16 * 1024 * 1024;
};

struct key_value {
  std::string key, value;
  int64_t create_revision = 0; // the revision that created the key (since its last delete)
  int64_t mod_revision = 0;    // the revision of its last change: what a CAS compares
  int64_t version = 0;         // changes since creation (1 for a new key)
  int64_t lease = 0;           // the lease it is attached to, 0 for none
};

struct range_result {
  int64_t revision = 0; // the store's revision the read saw
  std::vector<key_value> kvs;
  bool more = false; // a limit cut the answer short
  int64_t count = 0; // keys in the range, regardless of the limit
};

struct lease_grant {
  int64_t id = 0;
  int64_t ttl_s = 0; // what etcd granted (it may raise a very short TTL to its minimum)
};

struct lease_status {
  int64_t id = 0;
  int64_t ttl_s = 0;         // seconds left (etcd rounds down)
  int64_t granted_ttl_s = 0; // the TTL it was granted or last renewed with
  std::vector<std::string> keys;
};

/// One condition of a transaction: the key's field `target` compared with a number or value.
/// A key that does not exist has version, create_revision and mod_revision 0.
struct txn_compare {
  enum class target : uint8_t { version, create_revision, mod_revision, value, lease };
  enum class op : uint8_t { equal, not_equal, greater, less };
  std::string key;
  target what = target::mod_revision;
  op how = op::equal;
  int64_t number = 0; // for every target but value
  std::string value;  // for target::value

  static txn_compare mod_revision_is(std::string key, int64_t rev);
  static txn_compare version_is(std::string key, int64_t version); // 0: the key is absent
  static txn_compare value_is(std::string key, std::string value);
};

/// One operation of a transaction's branch.
struct txn_op {
  enum class kind : uint8_t { put, erase, get };
  kind what = kind::get;
  std::string key;
  std::string value;   // put
  int64_t lease = 0;   // put
  bool prefix = false; // erase/get: every key starting with `key`

  static txn_op put(std::string key, std::string value, int64_t lease = 0);
  static txn_op erase(std::string key);
  static txn_op get(std::string key);
  static txn_op get_prefix(std::string prefix);
};

/// The answer to one txn_op of the branch that ran, in the same order.
struct txn_op_result {
  txn_op::kind what = txn_op::kind::get;
  std::vector<key_value> kvs; // get
  int64_t deleted = 0;        // erase
};

struct txn_result {
  bool succeeded = false; // every compare held, so the success branch ran
  int64_t revision = 0;   // the store's revision after the transaction
  std::vector<txn_op_result> results;
};

struct watch_event {
  enum class type : uint8_t { put, erase };
  type what = type::put;
  key_value kv; // for an erase: the key and the deleting revision (mod_revision)
};

struct watch_batch {
  std::vector<watch_event> events; // in revision order; empty when `wait` passed quietly
  int64_t next_revision = 0;       // pass to the next watch_prefix call
};

class etcd_client {
public:
  /// Checks the options (no network): invalid_argument for no endpoints, an endpoint that is
  /// not an http:// URL with a port, or a timeout ≤ 0.
  static caf::expected<std::unique_ptr<etcd_client>> open(etcd_options options);
  ~etcd_client();
  etcd_client(const etcd_client&) = delete;
  etcd_client& operator=(const etcd_client&) = delete;

  caf::expected<lease_grant> grant_lease(int64_t ttl_s);
  /// One renewal: the lease's TTL starts again from its granted TTL.
  caf::expected<lease_grant> keep_alive_once(int64_t lease_id);
  caf::error revoke_lease(int64_t lease_id); // deletes the keys attached to it
  caf::expected<lease_status> lease_time_to_live(int64_t lease_id, bool with_keys = false);

  /// Writes `key`; with a lease the key goes when the lease does. Returns the new revision.
  caf::expected<int64_t> put(const std::string& key, const std::string& value, int64_t lease = 0);
  /// The key (kvs empty when absent).
  caf::expected<range_result> get(const std::string& key);
  /// Every key starting with `prefix` in key order ("" for all), at most `limit` (0: no limit).
  caf::expected<range_result> get_prefix(const std::string& prefix, int64_t limit = 0);
  /// Deletes the key; returns how many keys went (0 or 1).
  caf::expected<int64_t> erase(const std::string& key);
  caf::expected<int64_t> erase_prefix(const std::string& prefix);

  /// If every compare holds, runs `success`, else `failure`; atomically, in one revision.
  caf::expected<txn_result> txn(const std::vector<txn_compare>& compares,
                                const std::vector<txn_op>& success,
                                const std::vector<txn_op>& failure = {});

  /// The events under `prefix` from revision `from_revision` (≥ 1; or 0 for "from now"):
  /// returns at the first batch or when `wait` passes (see WATCH above).
  caf::expected<watch_batch> watch_prefix(const std::string& prefix, int64_t from_revision,
                                          std::chrono::milliseconds wait);

private:
  explicit etcd_client(etcd_options options);
  /// POSTs `body` to /v3/<path> with failover; the answer body of a 200, else a typed error.
  caf::expected<std::string> call(const std::string& path, const std::string& body,
                                  const std::string& what);
  size_t first_endpoint() const;

  etcd_options options_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<net::http_client>> connections_; // one per endpoint
  size_t current_ = 0;                                         // the endpoint to try first
};

} // namespace ordo::coordination
