// One client connection to the node: nonblocking connect, write one request, read its
// response — HTTP/1.1 keep-alive, never more than one request in flight (no pipelining).
// It only does I/O; what to send next, timeouts and reconnect policy belong to the worker.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "http_response.hpp"

namespace ordo::loadgen {

class http_conn {
public:
  enum class state { closed, connecting, open };
  // What on_ready() observed.
  enum class event {
    none,        // progress, nothing to act on
    connected,   // connect finished; ready to send
    response,    // response() is complete; close() it unless keep_alive()
    closed_idle, // the server closed a connection with no request in flight (keep-alive end)
    conn_error,  // connect/read/write failed or the server closed mid-request; now closed
    proto_error, // the bytes were not a valid response; now closed
  };

  http_conn() = default;
  http_conn(const http_conn&) = delete;
  http_conn& operator=(const http_conn&) = delete;
  ~http_conn() { close(); }

  // Starts a nonblocking connect and registers with epoll under `tag`. On immediate failure
  // returns false (the connection stays closed; error() says why).
  bool connect(int epoll_fd, uint64_t tag, const sockaddr* addr, socklen_t addr_len);
  void close();

  // Starts writing one request. Precondition: open and not busy(). False on a write error
  // (now closed).
  bool send(std::string_view request);

  // Handles the epoll events reported for this connection.
  event on_ready(uint32_t epoll_events);

  state current_state() const { return state_; }
  bool busy() const { return busy_; }
  const http_response_parser& response() const { return parser_; }
  const char* error() const { return error_; }

private:
  event fail(event kind, const char* why);
  bool flush_output(); // false on error
  event read_input();
  void watch_output(bool on);

  int fd_ = -1;
  int epoll_fd_ = -1;
  uint64_t tag_ = 0;
  state state_ = state::closed;
  bool busy_ = false;
  bool watching_output_ = false;
  std::string out_;
  size_t out_sent_ = 0;
  http_response_parser parser_;
  const char* error_ = "";
};

} // namespace ordo::loadgen
