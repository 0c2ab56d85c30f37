// A blocking HTTP/1.1 client for the few requests around a run (preparing SKUs before the
// saga flow, reading orders back after the steps flow): one request at a time on one
// keep-alive connection, reconnecting when the server closed it. Not for the load itself.
#pragma once

#include <chrono>
#include <string>

#include "endpoint.hpp"
#include "http_response.hpp"

namespace ordo::loadgen {

class sync_client {
public:
  sync_client(const endpoint& node, std::chrono::milliseconds timeout)
      : node_(node), timeout_(timeout) {}
  sync_client(const sync_client&) = delete;
  sync_client& operator=(const sync_client&) = delete;
  ~sync_client() { close(); }

  // Sends `request` (complete, head and body) and waits for the whole answer. False with
  // `error` set on a connection failure, a protocol error or no answer within the timeout
  // (the connection is then closed; the next call reconnects).
  bool call(const std::string& request, int& status, std::string& body, std::string& error);

private:
  bool connect(std::string& error);
  bool wait(short events, std::chrono::steady_clock::time_point deadline);
  void close();

  endpoint node_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  http_response_parser parser_;
};

} // namespace ordo::loadgen
