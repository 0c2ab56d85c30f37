#pragma once
// A TCP socket listening on 127.0.0.1 at a port the kernel picks. The kernel completes
// connections to it (its backlog) but nothing ever reads or answers them: a server that
// accepts and never answers. Closing it leaves a port that was free a moment ago.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

namespace ordo::test {

class loopback_listener {
public:
  loopback_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
  }
  ~loopback_listener() { close(); }
  loopback_listener(const loopback_listener&) = delete;
  loopback_listener& operator=(const loopback_listener&) = delete;

  uint16_t port() const { return port_; } // 0 when the socket could not be made
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

/// A port nothing listens on (it was free a moment ago).
inline uint16_t unused_port() {
  return loopback_listener{}.port();
}

} // namespace ordo::test
