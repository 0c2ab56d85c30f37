#include "http_response.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace ordo::loadgen {

namespace {

constexpr size_t line_bytes_max = 1024; // chunk-size and trailer lines

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20); // ASCII letters only; header names are tokens
         });
}

bool icontains(std::string_view haystack, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i)
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool parse_decimal(std::string_view s, size_t& out) {
  if (s.empty() || s.size() > 18) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  out = v;
  return true;
}

bool parse_hex(std::string_view s, size_t& out) {
  s = trim(s.substr(0, s.find(';'))); // chunk extensions are ignored
  if (s.empty() || s.size() > 15) return false;
  size_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return false;
    v = v * 16 + static_cast<size_t>(d);
  }
  out = v;
  return true;
}

} // namespace

void http_response_parser::reset() {
  state_ = state::head;
  head_.clear();
  line_.clear();
  body_.clear();
  remaining_ = 0;
  status_ = 0;
  keep_alive_ = true;
  chunked_ = false;
  has_length_ = false;
  error_ = "";
}

parse_result http_response_parser::fail(const char* why) {
  error_ = why;
  keep_alive_ = false;
  return parse_result::error;
}

parse_result http_response_parser::feed(const char* data, size_t n, size_t& used) {
  used = 0;
  while (used < n && state_ != state::done) {
    const char* p = data + used;
    size_t left = n - used;
    switch (state_) {
    case state::head: {
      // Append, then look for the blank line, starting 3 bytes back in case it was split.
      size_t old_size = head_.size();
      head_.append(p, std::min(left, head_bytes_max + 4 - old_size));
      size_t from = old_size >= 3 ? old_size - 3 : 0;
      size_t end = head_.find("\r\n\r\n", from);
      if (end == std::string::npos) {
        used += head_.size() - old_size;
        if (head_.size() >= head_bytes_max) return fail("response head too large");
        break;
      }
      used += end + 4 - old_size;
      head_.resize(end);
      if (!parse_head()) return parse_result::error;
      if (status_ >= 100 && status_ < 200) {
        if (status_ == 101) return fail("unexpected 101 Switching Protocols");
        reset(); // interim answer (e.g. 100 Continue): the real one follows
        break;
      }
      if (!start_body()) return parse_result::error;
      break;
    }
    case state::body_length:
    case state::chunk_data: {
      size_t take = std::min(left, remaining_);
      if (body_.size() + take > body_bytes_max) return fail("response body too large");
      body_.append(p, take);
      used += take;
      remaining_ -= take;
      if (remaining_ == 0) state_ = state_ == state::body_length ? state::done : state::chunk_crlf;
      break;
    }
    case state::body_close: {
      if (body_.size() + left > body_bytes_max) return fail("response body too large");
      body_.append(p, left);
      used += left;
      break;
    }
    case state::chunk_size:
    case state::chunk_crlf:
    case state::trailers: {
      ++used;
      if (feed_line(*p) == parse_result::error) return parse_result::error;
      break;
    }
    case state::done:
      break;
    }
  }
  return state_ == state::done ? parse_result::complete : parse_result::need_more;
}

parse_result http_response_parser::feed_eof() {
  if (state_ == state::body_close) {
    state_ = state::done;
    return parse_result::complete;
  }
  return fail(state_ == state::head && head_.empty() ? "connection closed by server"
                                                     : "connection closed mid-response");
}

parse_result http_response_parser::feed_line(char c) {
  if (c != '\n') {
    if (line_.size() >= line_bytes_max) return fail("chunk line too long");
    line_.push_back(c);
    return parse_result::need_more;
  }
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  std::string line;
  line.swap(line_);
  switch (state_) {
  case state::chunk_size:
    if (!parse_hex(line, remaining_)) return fail("bad chunk size");
    state_ = remaining_ == 0 ? state::trailers : state::chunk_data;
    break;
  case state::chunk_crlf:
    if (!line.empty()) return fail("chunk not followed by CRLF");
    state_ = state::chunk_size;
    break;
  case state::trailers:
    if (line.empty()) state_ = state::done; // trailer fields themselves are ignored
    break;
  default:
    break;
  }
  return parse_result::need_more;
}

bool http_response_parser::parse_head() {
  std::string_view head = head_;
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  // "HTTP/1.1 201 Created": version, space, three digits.
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    fail("bad status line");
    return false;
  }
  keep_alive_ = status_line[7] != '0'; // HTTP/1.0 closes unless it says keep-alive
  size_t code = 0;
  if (!parse_decimal(status_line.substr(9, 3), code) || code < 100 || code > 999) {
    fail("bad status code");
    return false;
  }
  status_ = static_cast<int>(code);
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      fail("bad header line");
      return false;
    }
    std::string_view name = line.substr(0, colon);
    std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      if (!parse_decimal(value, remaining_)) {
        fail("bad Content-Length");
        return false;
      }
      has_length_ = true;
    } else if (iequals(name, "transfer-encoding")) {
      chunked_ = icontains(value, "chunked");
    } else if (iequals(name, "connection")) {
      if (icontains(value, "close"))
        keep_alive_ = false;
      else if (icontains(value, "keep-alive"))
        keep_alive_ = true;
    }
  }
  return true;
}

bool http_response_parser::start_body() {
  if (status_ == 204 || status_ == 304) {
    state_ = state::done;
  } else if (chunked_) { // chunked wins over Content-Length (RFC 9112 6.3)
    state_ = state::chunk_size;
  } else if (has_length_) {
    if (remaining_ > body_bytes_max) {
      fail("response body too large");
      return false;
    }
    state_ = remaining_ == 0 ? state::done : state::body_length;
  } else {
    state_ = state::body_close;
    keep_alive_ = false;
  }
  return true;
}

} // namespace ordo::loadgen
