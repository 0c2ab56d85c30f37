#pragma once
// A small blocking HTTP/1.1 client for ordoctl and the node's tests: one keep-alive
// connection to one node, Content-Length bodies only (what ordo-node sends), with a timeout
// on every read and write. Not for load generation (bench/loadgen has its own event loop).

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ordo::ctl {

struct http_result {
  int status = 0; // 0: no answer (see error)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // names lowercase
  std::string error;                                        // connection problem, when status == 0
  std::string header(const std::string& lowercase_name) const;
};

class http_client {
public:
  /// `base` like "http://127.0.0.1:8080" (or "127.0.0.1:8080").
  explicit http_client(std::string base, std::string api_key = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds{10});
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends one request (reconnecting once if a kept-alive connection was closed).
  http_result request(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::vector<std::pair<std::string, std::string>>& headers = {});
  http_result get(const std::string& target) { return request("GET", target); }
  http_result post(const std::string& target, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return request("POST", target, body, headers);
  }

private:
  bool connect_();
  void close_();
  http_result exchange(const std::string& wire);

  std::string host_;
  uint16_t port_ = 0;
  std::string key_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
};

} // namespace ordo::ctl
