// Incremental HTTP/1.1 response parser: bytes go in as they arrive (any split), a response
// comes out. Handles Content-Length bodies, chunked bodies (trailers skipped), bodies without
// length that end when the server closes, bodiless statuses (1xx, 204, 304) and interim 1xx
// answers. Header and body sizes are bounded; exceeding them is a protocol error.
#pragma once

#include <cstddef>
#include <string>

namespace ordo::loadgen {

enum class parse_result { need_more, complete, error };

class http_response_parser {
public:
  static constexpr size_t head_bytes_max = 64 * 1024;
  static constexpr size_t body_bytes_max = 8 * 1024 * 1024;

  // Forget everything and expect a new response.
  void reset();

  // Consumes up to n bytes; `used` says how many. After `complete`, bytes beyond `used` belong
  // to no request we sent (we never pipeline), which the caller treats as an error.
  parse_result feed(const char* data, size_t n, size_t& used);
  // The server closed the connection: completes a body delimited by the close.
  parse_result feed_eof();

  int status() const { return status_; }
  const std::string& body() const { return body_; }
  // False when the server said `Connection: close`, spoke HTTP/1.0 without keep-alive, or
  // delimited the body by closing.
  bool keep_alive() const { return keep_alive_; }
  bool was_chunked() const { return chunked_; }
  // Why the last `error` happened (static text).
  const char* error() const { return error_; }

private:
  enum class state {
    head,
    body_length,
    chunk_size,
    chunk_data,
    chunk_crlf,
    trailers,
    body_close,
    done
  };

  parse_result fail(const char* why);
  bool parse_head();              // head_ holds status line + headers, without the blank line
  bool start_body();              // false: the announced body is too large
  parse_result feed_line(char c); // chunk-size and trailer lines, one byte at a time

  state state_ = state::head;
  std::string head_;
  std::string line_;
  std::string body_;
  size_t remaining_ = 0;
  int status_ = 0;
  bool keep_alive_ = true;
  bool chunked_ = false;
  bool has_length_ = false;
  const char* error_ = "";
};

} // namespace ordo::loadgen
