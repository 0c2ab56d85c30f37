#include "app/ctl/http_client.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace ordo::ctl {

std::string http_result::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

http_client::http_client(std::string base, std::string api_key, std::chrono::milliseconds timeout)
    : key_(std::move(api_key)), timeout_(timeout) {
  if (base.rfind("http://", 0) == 0) base = base.substr(7);
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  auto colon = base.rfind(':');
  host_ = colon == std::string::npos ? base : base.substr(0, colon);
  port_ =
      colon == std::string::npos ? 80 : static_cast<uint16_t>(std::atoi(base.c_str() + colon + 1));
  if (host_ == "localhost") host_ = "127.0.0.1";
}

http_client::~http_client() {
  close_();
}

void http_client::close_() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool http_client::connect_() {
  close_();
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &res) != 0 || !res)
    return false;
  fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool ok = fd_ >= 0 && ::connect(fd_, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  if (!ok) {
    close_();
    return false;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

namespace {
// Waits until fd is readable/writable or the timeout passes.
bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}
} // namespace

http_result http_client::exchange(const std::string& wire) {
  http_result r;
  size_t sent = 0;
  while (sent < wire.size()) {
    if (!wait_for(fd_, POLLOUT, timeout_)) {
      r.error = "timed out sending";
      return r;
    }
    ssize_t n = ::send(fd_, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      r.error = fmt::format("send failed: {}", n < 0 ? std::strerror(errno) : "closed");
      return r;
    }
    sent += static_cast<size_t>(n);
  }
  std::string in;
  size_t head_end = std::string::npos, need = 0;
  char buf[16384];
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        // Status line and headers.
        size_t line_end = in.find("\r\n");
        auto status_line = in.substr(0, line_end);
        auto sp = status_line.find(' ');
        r.status = sp == std::string::npos ? 0 : std::atoi(status_line.c_str() + sp + 1);
        size_t pos = line_end + 2;
        size_t length = 0;
        while (pos < head_end) {
          size_t e = in.find("\r\n", pos);
          auto line = in.substr(pos, e - pos);
          pos = e + 2;
          auto colon = line.find(':');
          if (colon == std::string::npos) continue;
          std::string name = line.substr(0, colon), value = line.substr(colon + 1);
          std::transform(name.begin(), name.end(), name.begin(), ::tolower);
          value.erase(0, value.find_first_not_of(' '));
          if (name == "content-length") length = std::strtoull(value.c_str(), nullptr, 10);
          r.headers.emplace_back(std::move(name), std::move(value));
        }
        need = head_end + 4 + length;
      }
    }
    if (head_end != std::string::npos && in.size() >= need) break;
    if (!wait_for(fd_, POLLIN, timeout_)) {
      r.status = 0;
      r.error = "timed out waiting for the answer";
      return r;
    }
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      r.status = 0;
      r.error = n < 0 ? fmt::format("receive failed: {}", std::strerror(errno))
                      : "connection closed by the node";
      return r;
    }
    in.append(buf, static_cast<size_t>(n));
  }
  r.body = in.substr(head_end + 4, need - head_end - 4);
  if (r.header("connection") == "close") close_();
  return r;
}

http_result http_client::request(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string wire = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\n", method, target, host_, port_);
  if (!key_.empty()) wire += fmt::format("Authorization: Bearer {}\r\n", key_);
  for (const auto& [k, v] : headers)
    wire += fmt::format("{}: {}\r\n", k, v);
  if (method == "POST" || !body.empty())
    wire += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
  wire += "\r\n";
  wire += body;
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = fd_ < 0;
    if (fresh && !connect_()) {
      http_result r;
      r.error = fmt::format("cannot connect to {}:{}: {}", host_, port_, std::strerror(errno));
      return r;
    }
    auto r = exchange(wire);
    if (r.status != 0) return r;
    close_();
    // A kept-alive connection the node closed meanwhile: one fresh try. A fresh connection
    // that fails is an answer in itself.
    if (fresh) return r;
  }
  http_result r;
  r.error = "no answer";
  return r;
}

} // namespace ordo::ctl
