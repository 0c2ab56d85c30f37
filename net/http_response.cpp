#include "net/http_response.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "ordo/parse_number.hpp"

namespace ordo::net {

namespace {

constexpr size_t chunk_line_max = 1024; // a chunk-size line with its extensions

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// A chunk size: 1..15 hex digits (anything larger is beyond any bound we accept).
bool parse_hex(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 15) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return false;
    v = v * 16 + static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

} // namespace

bool http_response_reader::fail(http_failure f, std::string error) {
  state_ = state::failed;
  failure_ = f;
  error_ = std::move(error);
  return false;
}

bool http_response_reader::feed(std::string_view bytes, const body_sink& sink) {
  buffer_.append(bytes);
  while (step(sink)) {
  }
  return state_ != state::done && state_ != state::failed && !stopped_;
}

void http_response_reader::end_of_stream() {
  if (state_ == state::until_close) {
    state_ = state::done;
  } else if (state_ != state::done && state_ != state::failed) {
    fail(http_failure::closed, state_ == state::head
                                   ? "connection closed before an answer"
                                   : "connection closed in the middle of the body");
  }
}

bool http_response_reader::emit(std::string_view piece, const body_sink& sink) {
  body_bytes_ += piece.size();
  if (body_bytes_ > limits_.body_bytes_max)
    return fail(http_failure::too_large,
                fmt::format("answer body over {} bytes", limits_.body_bytes_max));
  if (!piece.empty() && !sink(piece)) stopped_ = true;
  return !stopped_;
}

bool http_response_reader::parse_header_line(std::string_view line, bool& chunked, uint64_t& length,
                                             bool& has_length) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return fail(http_failure::malformed, "a header line without a name");
  std::string name{line.substr(0, colon)};
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string value{trim(line.substr(colon + 1))};
  if (name == "content-length") {
    uint64_t n = 0;
    if (parse_u64(value, n) != number_error::none)
      return fail(http_failure::malformed,
                  fmt::format("Content-Length '{}' is not a number", value.substr(0, 40)));
    if (has_length && n != length)
      return fail(http_failure::malformed, "two different Content-Length headers");
    length = n;
    has_length = true;
  } else if (name == "transfer-encoding") {
    std::string lower = value;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "chunked" && lower != "identity")
      return fail(http_failure::malformed, fmt::format("Transfer-Encoding '{}'", value));
    chunked = lower == "chunked";
  }
  headers_.emplace_back(std::move(name), std::move(value));
  return true;
}

bool http_response_reader::parse_head(std::string_view head) {
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK": the version, one space, exactly three digits, then a space or the end.
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12 || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' '))
    return fail(http_failure::malformed,
                fmt::format("status line '{}'", status_line.substr(0, 60)));
  unsigned status = 0;
  if (parse_unsigned(status_line.substr(9, 3), status, 100, 599) != number_error::none)
    return fail(http_failure::malformed,
                fmt::format("status '{}' is not a number in 100..599", status_line.substr(9, 3)));
  status_ = static_cast<int>(status);
  bool chunked = false, has_length = false;
  uint64_t length = 0;
  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto e = head.find("\r\n", pos);
    if (e == std::string_view::npos) e = head.size();
    if (!parse_header_line(head.substr(pos, e - pos), chunked, length, has_length)) return false;
    pos = e + 2;
  }
  if (status_ == 204 || status_ == 304 || status_ < 200) {
    state_ = state::done; // no body by definition (a 1xx is not expected: we send no Expect)
  } else if (chunked) {
    state_ = state::chunk_size;
  } else if (has_length) {
    if (length > limits_.body_bytes_max)
      return fail(http_failure::too_large, fmt::format("Content-Length {} over the bound of {}",
                                                       length, limits_.body_bytes_max));
    left_ = length;
    state_ = length == 0 ? state::done : state::length_body;
  } else {
    state_ = state::until_close;
  }
  return true;
}

bool http_response_reader::step(const body_sink& sink) {
  switch (state_) {
  case state::head: {
    auto end = buffer_.find("\r\n\r\n");
    if (end == std::string::npos || end + 4 > limits_.head_bytes_max) {
      if (buffer_.size() > limits_.head_bytes_max || end != std::string::npos)
        return fail(http_failure::too_large,
                    fmt::format("answer head over {} bytes", limits_.head_bytes_max));
      return false;
    }
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    return parse_head(head);
  }
  case state::length_body:
  case state::chunk_data: {
    if (buffer_.empty()) return false;
    auto n = static_cast<size_t>(std::min<uint64_t>(left_, buffer_.size()));
    bool go_on = emit(std::string_view{buffer_}.substr(0, n), sink);
    buffer_.erase(0, n);
    left_ -= n;
    if (left_ == 0 && state_ != state::failed)
      state_ = state_ == state::length_body ? state::done : state::chunk_end;
    return go_on && state_ != state::done;
  }
  case state::chunk_size: {
    auto end = buffer_.find("\r\n");
    if (end == std::string::npos) {
      if (buffer_.size() > chunk_line_max) return fail(http_failure::malformed, "chunk size line");
      return false;
    }
    auto line = std::string_view{buffer_}.substr(0, end);
    uint64_t size = 0;
    if (!parse_hex(trim(line.substr(0, line.find(';'))), size))
      return fail(http_failure::malformed, fmt::format("chunk size '{}'", line.substr(0, 40)));
    if (body_bytes_ + size > limits_.body_bytes_max)
      return fail(http_failure::too_large,
                  fmt::format("answer body over {} bytes", limits_.body_bytes_max));
    buffer_.erase(0, end + 2);
    left_ = size;
    state_ = size == 0 ? state::trailers : state::chunk_data;
    return true;
  }
  case state::chunk_end:
    if (buffer_.size() < 2) return false;
    if (buffer_.compare(0, 2, "\r\n") != 0)
      return fail(http_failure::malformed, "chunk not followed by CRLF");
    buffer_.erase(0, 2);
    state_ = state::chunk_size;
    return true;
  case state::trailers: {
    auto end = buffer_.find("\r\n");
    if (end == std::string::npos) {
      if (buffer_.size() > limits_.head_bytes_max)
        return fail(http_failure::too_large, "trailers over the head bound");
      return false;
    }
    buffer_.erase(0, end + 2);
    if (end == 0) state_ = state::done;
    return state_ != state::done;
  }
  case state::until_close: {
    if (buffer_.empty()) return false;
    bool go_on = emit(buffer_, sink);
    buffer_.clear();
    return go_on;
  }
  case state::done:
  case state::failed:
    return false;
  }
  return false;
}

} // namespace ordo::net
