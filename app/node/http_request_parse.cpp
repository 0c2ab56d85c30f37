// Reading a request with Beast under the node's limits: the refusals (431, 413, 400), the API's
// view of a request, and the same steps over bytes in memory (parse_request, for the fuzzer).
#include "app/node/http_request_parse.hpp"
#include "app/node/http_server.hpp"

#include <algorithm>

#include <fmt/core.h>

#include "messages/json/json.hpp"

namespace ordo::node {

namespace beast_request {

http_response json_error(int status, std::string_view code, std::string_view message) {
  http_response r;
  r.status = status;
  r.body = json::error_body(code, message);
  return r;
}

namespace {

http_response headers_too_large(const http_config& cfg) {
  return json_error(431, "headers_too_large",
                    fmt::format("request head exceeds http.header_max_bytes = {}",
                                cfg.header_max_bytes));
}

bool parser_error(beast::error_code ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

} // namespace

// Every request is parsed with the node's head and body limits.
void limit(request_parser& p, const http_config& cfg) {
  p.header_limit(cfg.header_max_bytes);
  p.body_limit(cfg.body_max_bytes);
}

// What one connection may buffer while reading a request: the head and body limits plus
// room for chunk framing. Beast 1.74 applies neither limit to chunk-extension or trailer
// lines, so without this cap a client could make one connection buffer without end.
size_t read_buffer_max(const http_config& cfg) {
  return size_t{cfg.header_max_bytes} + cfg.body_max_bytes + 8'192;
}

// The 431 for a head the parser read although it is longer than the limit (`ec`, `head_bytes`:
// how reading the head ended). Beast 1.74 applies header_limit to the start line and to the
// fields separately when both are buffered at once, but to the whole head once it has waited
// for more bytes: without this check a head of up to twice the limit was taken, or refused
// for its Content-Length (413), or refused 431, depending on how the network split it (found
// by fuzz/http_request.cpp).
std::optional<http_response> head_too_large(beast::error_code ec, size_t head_bytes,
                                            const http_config& cfg) {
  if ((ec && !parser_error(ec)) || head_bytes <= cfg.header_max_bytes) return std::nullopt;
  return headers_too_large(cfg);
}

// Beast 1.74 can report header_limit for a head within the limit whose request line is
// malformed: when a read ends inside the line's version (which it reads 8 bytes at a time),
// the parser waits for more and resumes its end-of-head scan 3 bytes before that read's end
// — past a head that already ended there — so it never finds the end and runs into the limit
// (basic_parser.ipp, state start_line). The same bytes arriving whole are a 400 (bad
// version). While nothing of the message was consumed (`consumed` == 0: still at the request
// line), parsing what is buffered again in one step gives the answer a whole arrival gets, so
// the refusal does not depend on how the network split the bytes (found by
// fuzz/http_request.cpp). A valid request line never waits with its head's end buffered.
beast::error_code settle_header_limit(beast::error_code ec, size_t consumed,
                                      std::string_view buffered, const http_config& cfg) {
  if (ec != http::error::header_limit || consumed != 0) return ec;
  request_parser fresh;
  limit(fresh, cfg);
  beast::error_code whole;
  const size_t used = fresh.put(net::buffer(buffered.data(), buffered.size()), whole);
  // Only the request line's own refusal: once the parser takes a head (used > 0), a whole
  // arrival is refused for the head's size (head_too_large), as here.
  return whole && whole != http::error::need_more && used == 0 ? whole : ec;
}

// The answer to a request the parser refused (431, 413, 400); nullopt: close without one.
std::optional<http_response> refusal_of(beast::error_code ec, const http_config& cfg) {
  if (ec == http::error::buffer_overflow)
    return json_error(413, "request_too_large",
                      fmt::format("request (with chunk framing) exceeds {} bytes "
                                  "(http.header_max_bytes + http.body_max_bytes + 8192)",
                                  read_buffer_max(cfg)));
  if (ec == http::error::header_limit) return headers_too_large(cfg);
  if (ec == http::error::body_limit)
    return json_error(
        413, "body_too_large",
        fmt::format("body exceeds http.body_max_bytes = {}", cfg.body_max_bytes));
  if (parser_error(ec))
    return json_error(400, "bad_request", "malformed HTTP request: " + ec.message());
  return std::nullopt;
}

// The API's view of a parsed request (the body is moved out of `req`).
http_request to_http_request(http::request<http::string_body>& req) {
  http_request r;
  r.method = std::string{req.method_string()};
  auto target = req.target();
  auto q = target.find('?');
  r.path = std::string{target.substr(0, q)};
  if (q != beast::string_view::npos) r.query = std::string{target.substr(q + 1)};
  for (const auto& f : req) {
    std::string name{f.name_string()};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers.emplace_back(std::move(name), std::string{f.value()});
  }
  r.body = std::move(req.body());
  return r;
}

} // namespace beast_request

using namespace beast_request;

// The steps of the session's reads (read_op / read_some_op in beast/http/impl/read.hpp) over
// bytes in memory: http::async_read_header (a lazy parser: put stops after the head), the
// head's size check, then http::async_read (eager) for the body. Put what is buffered, read
// more on need_more, put_eof at the end.
parsed_request parse_request(std::string_view bytes, const http_config& cfg,
                             size_t first_read_bytes) {
  constexpr size_t read_max = 65'536; // what one read asks the socket for
  parsed_request out;
  request_parser p;
  limit(p, cfg);
  std::string buffer;
  size_t received = 0;
  bool first = true;
  beast::error_code ec;
  // Until `done` holds (true) or an error / the end of the input (false; ec says which).
  const auto read_until = [&](auto done) {
    if (done()) return true;
    for (;;) {
      if (!buffer.empty()) {
        const size_t used = p.put(net::buffer(buffer), ec);
        buffer.erase(0, used);
        out.consumed += used;
        if (ec && ec != http::error::need_more) return false;
        if (!ec && done()) return true;
        if (!ec && used > 0) continue; // progress without needing more: put again
      }
      if (received == bytes.size()) { // the client closed its side
        ec = {};
        if (p.got_some()) p.put_eof(ec);
        return !ec && done();
      }
      const size_t n = std::min(bytes.size() - received, first ? first_read_bytes : read_max);
      first = false;
      buffer.append(bytes.substr(received, std::max<size_t>(n, 1)));
      received += std::max<size_t>(n, 1);
    }
  };
  bool read = read_until([&] { return p.is_header_done(); });
  ec = settle_header_limit(ec, out.consumed, buffer, cfg);
  if (auto r = head_too_large(ec, out.consumed, cfg)) {
    out.refusal = std::move(r);
    return out;
  }
  if (read) {
    p.eager(true);
    read = read_until([&] { return p.is_done(); });
  }
  if (ec) {
    out.refusal = refusal_of(ec, cfg);
    return out;
  }
  if (!read) return out; // nothing or half a request: closed, no answer
  auto& req = p.get();
  out.keep_alive = req.keep_alive();
  out.request = to_http_request(req);
  out.complete = true;
  return out;
}

} // namespace ordo::node
