#include "net/http_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "net/http_response.hpp"
#include "ordo/parse_number.hpp"

namespace ordo::net {

std::string_view to_string(http_failure f) {
  switch (f) {
  case http_failure::none:
    return "none";
  case http_failure::bad_address:
    return "bad_address";
  case http_failure::connect:
    return "connect";
  case http_failure::send:
    return "send";
  case http_failure::timeout:
    return "timeout";
  case http_failure::closed:
    return "closed";
  case http_failure::malformed:
    return "malformed";
  case http_failure::too_large:
    return "too_large";
  }
  return "unknown";
}

std::string http_result::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

std::string parse_endpoint(std::string_view base, http_endpoint& out) {
  if (base.rfind("https://", 0) == 0) return "https is not supported";
  if (base.rfind("http://", 0) == 0) base.remove_prefix(7);
  while (!base.empty() && base.back() == '/')
    base.remove_suffix(1);
  http_endpoint e;
  auto colon = base.rfind(':');
  auto bracket = base.rfind(']'); // [::1]:2379
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    auto port = base.substr(colon + 1);
    if (parse_unsigned(port, e.port, 1, 65535) != number_error::none)
      return fmt::format("port '{}' is not a number in 1..65535", port);
    base = base.substr(0, colon);
  }
  if (base.size() >= 2 && base.front() == '[' && base.back() == ']')
    base = base.substr(1, base.size() - 2);
  if (base.empty() || base.find_first_of("/?# ") != std::string_view::npos)
    return fmt::format("'{}' is not a host", base);
  e.host = base == "localhost" ? "127.0.0.1" : std::string{base};
  out = std::move(e);
  return {};
}

http_client::http_client(std::string base, std::string api_key, std::chrono::milliseconds timeout,
                         http_limits limits)
    : key_(std::move(api_key)), timeout_(timeout), limits_(limits) {
  address_error_ = parse_endpoint(base, endpoint_);
  if (!address_error_.empty()) address_error_ = fmt::format("{}: {}", base, address_error_);
}

http_client::~http_client() {
  close_();
}

void http_client::close_() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

http_result http_client::fail(http_failure f, std::string error) const {
  http_result r;
  r.failure = f;
  r.error = std::move(error);
  return r;
}

namespace {

// Waits until fd is readable/writable or the deadline passes.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, events, 0};
    // Round up: a sub-millisecond remainder must not become a busy poll(0) loop.
    int rc = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

} // namespace

// Non-blocking connect so the deadline also bounds a server that never answers the SYN.
bool http_client::connect_(clock::time_point deadline, http_result& r) {
  close_();
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  auto where = fmt::format("{}:{}", endpoint_.host, endpoint_.port);
  if (int rc =
          getaddrinfo(endpoint_.host.c_str(), std::to_string(endpoint_.port).c_str(), &hints, &res);
      rc != 0 || !res) {
    r = fail(http_failure::connect, fmt::format("cannot resolve {}: {}", where, gai_strerror(rc)));
    return false;
  }
  fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int rc = fd_ < 0 ? -1 : ::connect(fd_, res->ai_addr, res->ai_addrlen);
  int err = rc == 0 ? 0 : errno;
  freeaddrinfo(res);
  if (rc != 0 && err == EINPROGRESS) {
    if (!wait_for(fd_, POLLOUT, deadline)) {
      err = ETIMEDOUT;
    } else {
      socklen_t len = sizeof err;
      if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
  }
  if (err != 0) {
    close_();
    r = fail(http_failure::connect,
             fmt::format("cannot connect to {}: {}", where, std::strerror(err)));
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool http_client::send_all(const std::string& bytes, clock::time_point deadline, http_result& r) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    if (!wait_for(fd_, POLLOUT, deadline)) {
      r = fail(http_failure::send, "timed out sending");
      return false;
    }
    ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) {
      r = fail(http_failure::send,
               fmt::format("send failed: {}", n < 0 ? std::strerror(errno) : "closed"));
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

struct http_client::read_plan {
  clock::time_point deadline;
  const http_response_reader::body_sink* sink; // nullptr: collect the body into the result
  bool deadline_ends_stream = false;           // stream(): the deadline after the head is normal
  bool* answered = nullptr;                    // set when any byte of an answer arrived
};

http_result http_client::exchange(const std::string& wire, const read_plan& plan) {
  http_result r;
  if (!send_all(wire, plan.deadline, r)) return r;
  http_response_reader reader{limits_};
  const http_response_reader::body_sink collect = [&r](std::string_view piece) {
    r.body.append(piece);
    return true;
  };
  const auto& sink = plan.sink ? *plan.sink : collect;
  char buf[16384];
  for (;;) {
    if (!wait_for(fd_, POLLIN, plan.deadline)) {
      if (plan.deadline_ends_stream && reader.head_done()) break;
      return fail(http_failure::timeout, "timed out waiting for the answer");
    }
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n < 0)
      return fail(http_failure::closed, fmt::format("receive failed: {}", std::strerror(errno)));
    if (n > 0 && plan.answered) *plan.answered = true;
    if (n == 0) {
      reader.end_of_stream();
      if (!reader.complete()) return fail(reader.failure(), reader.error());
      break;
    }
    if (!reader.feed(std::string_view{buf, static_cast<size_t>(n)}, sink)) {
      if (reader.failure() != http_failure::none) return fail(reader.failure(), reader.error());
      break; // complete, or the sink asked to stop
    }
  }
  r.status = reader.status();
  r.headers = std::move(reader.headers());
  if (!reader.complete() || r.header("connection") == "close") close_();
  return r;
}

std::string
http_client::wire(const std::string& method, const std::string& target, const std::string& body,
                  const std::vector<std::pair<std::string, std::string>>& headers) const {
  std::string w = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\n", method, target, endpoint_.host,
                              endpoint_.port);
  if (!key_.empty()) w += fmt::format("Authorization: Bearer {}\r\n", key_);
  for (const auto& [k, v] : headers)
    w += fmt::format("{}: {}\r\n", k, v);
  if (method == "POST" || !body.empty())
    w += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
  w += "\r\n";
  w += body;
  return w;
}

http_result http_client::request(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  if (!address_error_.empty()) return fail(http_failure::bad_address, address_error_);
  const auto deadline = clock::now() + timeout_;
  const auto w = wire(method, target, body, headers);
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = fd_ < 0;
    http_result r;
    if (fresh && !connect_(deadline, r)) return r;
    bool answered = false;
    r = exchange(w, read_plan{deadline, nullptr, false, &answered});
    if (r.status != 0) return r;
    close_();
    // A kept-alive connection the server closed meanwhile (the send failed, or it closed
    // without a byte of answer): one fresh try. A fresh connection that fails, a timeout or a
    // partial answer is an answer in itself (the server may have acted on the request).
    bool stale =
        r.failure == http_failure::send || (r.failure == http_failure::closed && !answered);
    if (fresh || !stale) return r;
  }
  return fail(http_failure::closed, "no answer");
}

http_result http_client::stream(const std::string& method, const std::string& target,
                                const std::string& body,
                                const std::function<bool(std::string_view)>& on_body,
                                std::chrono::milliseconds wait) {
  if (!address_error_.empty()) return fail(http_failure::bad_address, address_error_);
  const auto deadline = clock::now() + wait;
  http_result r;
  if (!connect_(deadline, r)) return r;
  r = exchange(wire(method, target, body, {}), read_plan{deadline, &on_body, true, nullptr});
  close_();
  return r;
}

} // namespace ordo::net
