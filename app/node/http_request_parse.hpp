// Beast request parsing under the node's limits, shared by the listener and parse_request.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility> // before Boost 1.74's Asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "app/node/config.hpp"
#include "app/node/http_types.hpp"

namespace ordo::node::beast_request {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

using request_parser = http::request_parser<http::string_body>;

// An error answer with the API's JSON error body.
http_response json_error(int status, std::string_view code, std::string_view message);

// Every request is parsed with the node's head and body limits.
void limit(request_parser& p, const http_config& cfg);

// What one connection may buffer while reading a request (head, body and chunk framing).
size_t read_buffer_max(const http_config& cfg);

// The 431 for a head read although it is over the limit; nullopt: within it.
std::optional<http_response> head_too_large(beast::error_code ec, size_t head_bytes,
                                            const http_config& cfg);

// A header_limit error of a malformed request line replaced by the whole arrival's refusal.
beast::error_code settle_header_limit(beast::error_code ec, size_t consumed,
                                      std::string_view buffered, const http_config& cfg);

// The answer to a request the parser refused (431, 413, 400); nullopt: close without one.
std::optional<http_response> refusal_of(beast::error_code ec, const http_config& cfg);

// The API's view of a parsed request (the body is moved out of `req`).
http_request to_http_request(http::request<http::string_body>& req);

} // namespace ordo::node::beast_request
