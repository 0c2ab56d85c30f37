#pragma once
// How the API answers: JSON bodies, error bodies with their status, and the mapping of the
// runtime's command outcomes to HTTP status codes (docs/api.md, "Errors").

#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "ordo/outcome.hpp"
#include "app/node/http_types.hpp"

namespace ordo::node {

http_response json_response(int status, std::string body);

/// {"error":{...}} with `status`; 429 and 503 carry Retry-After.
http_response error(int status, std::string_view code, std::string_view message,
                    bool unknown_if_applied = false);

enum class target { order, sku };

/// The runtime's answer as HTTP: 201 for a new placement, 200 for other successes and
/// duplicates; rejections 4xx; overload 429; retry-later failures 503; others 5xx.
http_response from_outcome(const outcome& o, target t, bool placement, bool with_events);

/// A failed read: the owner node unreachable is a retry-later (503), anything else a 500.
http_response read_error(const caf::error& e);

} // namespace ordo::node
