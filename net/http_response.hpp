#pragma once
// Reading an HTTP/1.x answer from bytes as they arrive: the head (status line, headers), then
// the body by Content-Length, by chunks, or until the connection closes. Incremental so the
// client can hand a streamed body (etcd's watch) to its caller piece by piece. No sockets here:
// the tests feed it bytes directly.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_client.hpp"

namespace ordo::net {

class http_response_reader {
public:
  using body_sink = std::function<bool(std::string_view)>; // false: stop reading

  explicit http_response_reader(http_limits limits) : limits_(limits) {}

  /// Consumes `bytes`. Returns false once the answer is complete, broken (failure() set) or the
  /// sink asked to stop; true while more bytes are wanted.
  bool feed(std::string_view bytes, const body_sink& sink);
  /// The server closed the connection: completes a body read until close, otherwise `closed`.
  void end_of_stream();

  bool head_done() const { return state_ != state::head; }
  bool complete() const { return state_ == state::done; }
  bool stopped() const { return stopped_; }
  int status() const { return status_; }
  std::vector<std::pair<std::string, std::string>>& headers() { return headers_; }
  http_failure failure() const { return failure_; }
  const std::string& error() const { return error_; }

private:
  enum class state : uint8_t {
    head,
    length_body,
    chunk_size,
    chunk_data,
    chunk_end,
    trailers,
    until_close,
    done,
    failed
  };
  bool fail(http_failure f, std::string error);
  bool parse_head(std::string_view head);
  bool parse_header_line(std::string_view line, bool& chunked, uint64_t& length, bool& has_length);
  bool emit(std::string_view piece, const body_sink& sink);
  bool step(const body_sink& sink); // one state's worth from buffer_; false when it needs bytes

  http_limits limits_;
  state state_ = state::head;
  std::string buffer_; // bytes received, not consumed yet
  uint64_t left_ = 0;  // bytes of the current Content-Length body or chunk still to come
  uint64_t body_bytes_ = 0;
  bool stopped_ = false;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  http_failure failure_ = http_failure::none;
  std::string error_;
};

} // namespace ordo::net
