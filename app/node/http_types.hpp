#pragma once
// The HTTP request/response as the API sees them, independent of the server library, so
// the routes (api.cpp) can be tested without sockets and the library stays behind one file.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ordo::node {

struct http_request {
  std::string method;                                       // "GET", "POST", ...
  std::string path;                                         // decoded path, no query
  std::string query;                                        // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers; // names lowercase
  std::string body;

  /// The header's value, or "" when absent (names are compared lowercase).
  std::string_view header(std::string_view lowercase_name) const {
    for (const auto& [k, v] : headers)
      if (k == lowercase_name) return v;
    return {};
  }
};

struct http_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers; // extra, e.g. Retry-After
};

/// Sends the response; call exactly once, from any thread.
using responder = std::function<void(http_response)>;

} // namespace ordo::node
