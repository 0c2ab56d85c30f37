#pragma once
// A small blocking HTTP/1.1 client: one keep-alive connection to one server (an ordo-node for
// ordoctl and the tests, an etcd member for coordination/). Plain HTTP on TCP, no TLS, no
// redirects. Not for load generation (bench/loadgen has its own event loop).
//
// WHAT A CALL PROMISES
//   Every call ends within `timeout` of its start (connect, send and the whole answer), except
//   for resolving a host NAME, which getaddrinfo does without a deadline: give IP addresses
//   where a bound matters. A failed call says why in `failure`, so a caller can tell "never
//   reached the server" (bad_address, connect: safe to try another server) from "sent, outcome
//   unknown" (send, timeout, closed, malformed, too_large).
//
// WHAT IT READS
//   Bodies with Content-Length, chunked bodies (decoded; extensions and trailers skipped), and
//   bodies that end when the server closes. Numbers in the head (port, status, Content-Length,
//   chunk sizes) are parsed strictly: a bad one is `malformed`, never read as 0. The head is
//   bounded by head_bytes_max and the body by body_bytes_max (`too_large`).
//
// THREADING
//   One client is one connection: use it from one thread at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ordo::net {

enum class http_failure : uint8_t {
  none,        // an answer was read (any status)
  bad_address, // the base URL could not be read (host, port); nothing was sent
  connect,     // no connection within the timeout; nothing was sent
  send,        // the request could not be sent in full
  timeout,     // sent, but the whole answer did not arrive within the timeout
  closed,      // the server closed the connection before the answer ended
  malformed,   // the answer is not HTTP/1.x as this client reads it
  too_large,   // the head or the body is over its bound
};

/// "connect", "timeout", ...
std::string_view to_string(http_failure f);

struct http_result {
  int status = 0; // 0: no answer (see failure and error)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // names lowercase
  http_failure failure = http_failure::none;
  std::string error; // what went wrong, when status == 0
  std::string header(const std::string& lowercase_name) const;
};

struct http_limits {
  size_t head_bytes_max = 64 * 1024;
  size_t body_bytes_max = 256 * 1024 * 1024;
};

struct http_endpoint {
  std::string host; // "localhost" is read as 127.0.0.1
  uint16_t port = 80;
};

/// Reads "http://host:port", "host:port" or "host" (port 80; trailing slashes ignored).
/// Returns "" or what is wrong (a port that is not a number in 1..65535, no host, https).
std::string parse_endpoint(std::string_view base, http_endpoint& out);

class http_client {
public:
  /// `base` like "http://127.0.0.1:8080" (or "127.0.0.1:8080"). A base parse_endpoint refuses
  /// makes every request fail with `bad_address`.
  explicit http_client(std::string base, std::string api_key = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds{10},
                       http_limits limits = {});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends one request and reads the whole answer. A kept-alive connection the server closed
  /// meanwhile (nothing came back on it) is reconnected once.
  http_result request(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::vector<std::pair<std::string, std::string>>& headers = {});
  http_result get(const std::string& target) { return request("GET", target); }
  http_result post(const std::string& target, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return request("POST", target, body, headers);
  }

  /// Sends one request on a fresh connection and hands the decoded body to `on_body` piece by
  /// piece as it arrives, until `on_body` returns false, the body ends, or `wait` has passed
  /// since the call began. Ending at `wait` after the head arrived is not a failure (status
  /// set, failure none); no head within `wait` is `timeout`. `body` of the result stays empty.
  /// The connection is closed afterwards (the server may still be sending).
  http_result stream(const std::string& method, const std::string& target, const std::string& body,
                     const std::function<bool(std::string_view)>& on_body,
                     std::chrono::milliseconds wait);

  const http_endpoint& endpoint() const { return endpoint_; }

private:
  using clock = std::chrono::steady_clock;
  std::string wire(const std::string& method, const std::string& target, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers) const;
  http_result fail(http_failure f, std::string error) const;
  bool connect_(clock::time_point deadline, http_result& r);
  void close_();
  bool send_all(const std::string& bytes, clock::time_point deadline, http_result& r);
  struct read_plan;
  http_result exchange(const std::string& wire, const read_plan& plan);

  http_endpoint endpoint_;
  std::string address_error_; // parse_endpoint's complaint about the base, if any
  std::string key_;
  std::chrono::milliseconds timeout_;
  http_limits limits_;
  int fd_ = -1;
};

} // namespace ordo::net
