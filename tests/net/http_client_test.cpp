// The HTTP client: endpoint parsing, the response reader on bytes, and the client against a
// one-shot server on loopback that answers with canned bytes.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "net/http_client.hpp"
#include "net/http_response.hpp"
#include "support/loopback_listener.hpp"

using namespace ordo::net;
using namespace std::chrono_literals;

namespace {

// Accepts one connection, reads the request head, writes `answer`, closes (or, held open,
// waits for the client to close first).
class canned_server {
public:
  explicit canned_server(std::string answer, bool hold_open = false) : answer_(std::move(answer)) {
    thread_ = std::thread([this, hold_open] {
      int fd = ::accept(listener_.fd(), nullptr, nullptr);
      if (fd < 0) return;
      std::string in;
      char buf[4096];
      while (in.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      (void)::send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      while (hold_open && ::recv(fd, buf, sizeof buf, 0) > 0) {
      }
      ::close(fd);
    });
  }
  ~canned_server() {
    ::shutdown(listener_.fd(), SHUT_RDWR); // wakes accept() when no client came
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}", listener_.port()); }

private:
  ordo::test::loopback_listener listener_;
  std::string answer_;
  std::thread thread_;
};

http_result ask(const std::string& answer, http_limits limits = {}) {
  canned_server server{answer};
  http_client c{server.url(), "", 2s, limits};
  return c.get("/x");
}

// Feeds `bytes` to a reader one byte at a time; returns the body it handed out.
std::string read_bytewise(http_response_reader& reader, const std::string& bytes) {
  std::string body;
  for (char ch : bytes)
    if (!reader.feed(std::string_view{&ch, 1}, [&](std::string_view p) {
          body.append(p);
          return true;
        }))
      break;
  return body;
}

} // namespace

TEST_SUITE("http_client") {
  TEST_CASE("endpoints: a bad port is an error, not port 0") {
    http_endpoint e;
    CHECK(parse_endpoint("http://127.0.0.1:2379/", e).empty());
    CHECK(e.host == "127.0.0.1");
    CHECK(e.port == 2379);
    CHECK(parse_endpoint("localhost", e).empty());
    CHECK(e.host == "127.0.0.1");
    CHECK(e.port == 80);
    CHECK(parse_endpoint("[::1]:8080", e).empty());
    CHECK(e.host == "::1");
    for (const char* bad : {"127.0.0.1:abc", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1",
                            "127.0.0.1:80x", "127.0.0.1:", "https://127.0.0.1:443", ":8080"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_endpoint(bad, e).empty());
    }
    http_client c{"127.0.0.1:8o80"};
    auto r = c.get("/");
    CHECK(r.status == 0);
    CHECK(r.failure == http_failure::bad_address);
    CHECK(r.error.find("8o80") != std::string::npos);
  }

  TEST_CASE("answers by Content-Length, chunks and connection close") {
    auto plain = ask("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    CHECK(plain.status == 200);
    CHECK(plain.body == "hello");
    auto chunked = ask("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5;ext=1\r\nhello\r\nA\r\n, chunked!\r\n0\r\nTrailer: x\r\n\r\n");
    CHECK(chunked.status == 201);
    CHECK(chunked.body == "hello, chunked!");
    auto until_close = ask("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end");
    CHECK(until_close.status == 200);
    CHECK(until_close.body == "to the end");
  }

  TEST_CASE("bad numbers in an answer are malformed, never 0") {
    for (const char* length : {"12abc", "-1", " ", "0x10", "99999999999999999999999"}) {
      CAPTURE(length);
      auto r = ask(fmt::format("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\nbody", length));
      CHECK(r.status == 0);
      CHECK(r.failure == http_failure::malformed);
    }
    auto two = ask("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nbody");
    CHECK(two.failure == http_failure::malformed);
    auto status = ask("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK(status.failure == http_failure::malformed);
    auto chunk =
        ask("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    CHECK(chunk.failure == http_failure::malformed);
  }

  TEST_CASE("bounds: head and body over their limits are too_large") {
    http_limits small;
    small.body_bytes_max = 8;
    small.head_bytes_max = 128;
    CHECK(ask("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n123456789", small).failure ==
          http_failure::too_large);
    CHECK(ask("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n"
              "0\r\n\r\n",
              small)
              .failure == http_failure::too_large);
    CHECK(ask("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n123456789", small).failure ==
          http_failure::too_large);
    CHECK(ask("HTTP/1.1 200 OK\r\nX: " + std::string(200, 'a') + "\r\n\r\n", small).failure ==
          http_failure::too_large);
    CHECK(ask("HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n12345678", small).body == "12345678");
  }

  TEST_CASE("a connection closed early, a refused port and a silent server") {
    auto cut = ask("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
    CHECK(cut.failure == http_failure::closed);
    auto nothing = ask("");
    CHECK(nothing.failure == http_failure::closed);

    http_client refused{fmt::format("http://127.0.0.1:{}", ordo::test::unused_port())};
    CHECK(refused.get("/").failure == http_failure::connect);

    ordo::test::loopback_listener silent; // accepts (backlog), never answers
    http_client c{fmt::format("http://127.0.0.1:{}", silent.port()), "", 200ms};
    const auto t0 = std::chrono::steady_clock::now();
    auto r = c.get("/");
    const auto took = std::chrono::steady_clock::now() - t0;
    CHECK(r.failure == http_failure::timeout);
    CHECK(took >= 150ms);
    CHECK(took < 2s);
  }

  TEST_CASE("stream hands out the body as it comes and ends at the wait") {
    const std::string open_stream =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\none\n\r\n";
    std::string seen;
    auto collect = [&](std::string_view p) {
      seen.append(p);
      return true;
    };
    {
      canned_server server{open_stream, true};
      http_client c{server.url()};
      const auto t0 = std::chrono::steady_clock::now();
      auto r = c.stream("POST", "/watch", "{}", collect, 300ms);
      const auto took = std::chrono::steady_clock::now() - t0;
      CHECK(r.failure == http_failure::none); // the wait ended it, after the head: no failure
      CHECK(r.status == 200);
      CHECK(seen == "one\n");
      CHECK(took >= 250ms);
      CHECK(took < 2s);
    }
    {
      canned_server server{open_stream, true};
      http_client c{server.url()};
      const auto t0 = std::chrono::steady_clock::now();
      auto r = c.stream(
          "POST", "/watch", "{}", [](std::string_view) { return false; }, 5s);
      CHECK(r.status == 200);
      CHECK(std::chrono::steady_clock::now() - t0 < 2s); // the sink said stop
    }
    {
      ordo::test::loopback_listener silent;
      http_client c{fmt::format("http://127.0.0.1:{}", silent.port())};
      auto r = c.stream("POST", "/watch", "{}", collect, 200ms);
      CHECK(r.failure == http_failure::timeout); // no head within the wait
    }
  }

  TEST_CASE("the reader gives the same answer byte by byte") {
    const std::string answer = "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\nX-A: b\r\n\r\n"
                               "3\r\nabc\r\n1\r\nd\r\n0\r\n\r\n";
    http_response_reader reader{http_limits{}};
    CHECK(read_bytewise(reader, answer) == "abcd");
    CHECK(reader.complete());
    CHECK(reader.status() == 200);
    http_response_reader stopper{http_limits{}};
    int pieces = 0;
    CHECK_FALSE(stopper.feed(answer, [&](std::string_view) { return ++pieces < 1; }));
    CHECK(stopper.stopped());
    CHECK(pieces == 1);
  }
}
