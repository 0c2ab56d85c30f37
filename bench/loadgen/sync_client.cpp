#include "sync_client.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace ordo::loadgen {

void sync_client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool sync_client::wait(short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

bool sync_client::connect(std::string& error) {
  fd_ = ::socket(node_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = fmt::format("socket: {}", std::strerror(errno));
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&node_.addr), node_.len) != 0 &&
      errno != EINPROGRESS) {
    error = fmt::format("connect: {}", std::strerror(errno));
    close();
    return false;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (!wait(POLLOUT, std::chrono::steady_clock::now() + timeout_) ||
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    error = fmt::format("connect: {}", err != 0 ? std::strerror(err) : "timed out");
    close();
    return false;
  }
  return true;
}

bool sync_client::call(const std::string& request, int& status, std::string& body,
                       std::string& error) {
  if (fd_ < 0 && !connect(error)) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  auto fail = [&](std::string why) {
    error = std::move(why);
    close();
    return false;
  };
  for (size_t sent = 0; sent < request.size();) {
    ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!wait(POLLOUT, deadline)) return fail("send timed out");
    } else {
      return fail(fmt::format("send: {}", n < 0 ? std::strerror(errno) : "closed"));
    }
  }
  parser_.reset();
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!wait(POLLIN, deadline)) return fail("no answer within the timeout");
      continue;
    }
    if (n < 0) return fail(fmt::format("read: {}", std::strerror(errno)));
    size_t used = 0;
    parse_result r = n == 0 ? parser_.feed_eof() : parser_.feed(buf, static_cast<size_t>(n), used);
    if (r == parse_result::error || (n == 0 && r != parse_result::complete))
      return fail(fmt::format("bad answer: {}", n == 0 ? "closed mid-answer" : parser_.error()));
    if (r == parse_result::complete) break;
  }
  status = parser_.status();
  body = parser_.body();
  if (!parser_.keep_alive()) close();
  return true;
}

} // namespace ordo::loadgen
