#include "http_conn.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ordo::loadgen {

bool http_conn::connect(int epoll_fd, uint64_t tag, const sockaddr* addr, socklen_t addr_len) {
  close();
  fd_ = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error_ = std::strerror(errno);
    return false;
  }
  // Requests are small single writes; Nagle would only add delay.
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, addr, addr_len) != 0 && errno != EINPROGRESS) {
    error_ = std::strerror(errno);
    close();
    return false;
  }
  epoll_fd_ = epoll_fd;
  tag_ = tag;
  // Writable = connect finished (either way); then output is watched only while a write is
  // pending, so a level-triggered EPOLLOUT does not spin.
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd_, &ev) != 0) {
    error_ = std::strerror(errno);
    close();
    return false;
  }
  watching_output_ = true;
  state_ = state::connecting;
  return true;
}

void http_conn::close() {
  if (fd_ >= 0) ::close(fd_); // also removes it from the epoll set
  fd_ = -1;
  state_ = state::closed;
  busy_ = false;
  watching_output_ = false;
  out_.clear();
  out_sent_ = 0;
}

http_conn::event http_conn::fail(event kind, const char* why) {
  error_ = why;
  close();
  return kind;
}

void http_conn::watch_output(bool on) {
  if (on == watching_output_) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.u64 = tag_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd_, &ev);
  watching_output_ = on;
}

bool http_conn::send(std::string_view request) {
  out_.assign(request.data(), request.size());
  out_sent_ = 0;
  busy_ = true;
  parser_.reset();
  return flush_output();
}

bool http_conn::flush_output() {
  while (out_sent_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      watch_output(true);
      return true;
    } else {
      fail(event::conn_error, n < 0 ? std::strerror(errno) : "send returned 0");
      return false;
    }
  }
  watch_output(false);
  return true;
}

http_conn::event http_conn::on_ready(uint32_t epoll_events) {
  if (state_ == state::closed) return event::none; // stale event after close in this batch
  if (state_ == state::connecting) {
    if (!(epoll_events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return event::none;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(event::conn_error, std::strerror(err));
    state_ = state::open;
    watch_output(false);
    return event::connected;
  }
  if ((epoll_events & EPOLLOUT) && out_sent_ < out_.size() && !flush_output())
    return event::conn_error;
  if (epoll_events & (EPOLLIN | EPOLLERR | EPOLLHUP)) return read_input();
  return event::none;
}

http_conn::event http_conn::read_input() {
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return event::none;
      return fail(event::conn_error, std::strerror(errno));
    }
    if (n == 0) {
      if (!busy_) return fail(event::closed_idle, "closed by server while idle");
      if (parser_.feed_eof() != parse_result::complete)
        return fail(event::conn_error, parser_.error());
      busy_ = false;
      return event::response; // body delimited by the close; keep_alive() is false
    }
    if (!busy_) return fail(event::proto_error, "bytes received with no request in flight");
    size_t used = 0;
    parse_result r = parser_.feed(buf, static_cast<size_t>(n), used);
    if (r == parse_result::error) return fail(event::proto_error, parser_.error());
    if (r == parse_result::complete) {
      if (used != static_cast<size_t>(n))
        return fail(event::proto_error, "bytes after the response (we never pipeline)");
      busy_ = false;
      return event::response;
    }
  }
}

} // namespace ordo::loadgen
