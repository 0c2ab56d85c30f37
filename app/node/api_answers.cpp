#include "app/node/api_answers.hpp"

#include <fmt/core.h>

#include "app/node/errors.hpp"
#include "messages/json/json.hpp"
#include "ordo/outcome_code.hpp"
#include "ordo/v1/api.pb.h"

namespace ordo::node {

namespace {

// The domain's rejection codes without their enum prefix: "INVALID_TRANSITION".
std::string short_code(const std::string& code) {
  constexpr std::string_view prefix = "REJECTION_CODE_";
  return code.rfind(prefix, 0) == 0 ? code.substr(prefix.size()) : code;
}

int status_of_rejection(const std::string& code) {
  if (code == "INVALID_ARGUMENT" || code == "UNKNOWN_COMMAND" || code == "WRONG_ENTITY" ||
      code == "UNSUPPORTED_SCHEMA_VERSION")
    return 400;
  if (code == "NOT_FOUND") return 404;
  return 409; // the command is refused in the entity's current state
}

} // namespace

http_response json_response(int status, std::string body) {
  return http_response{status, std::move(body), "application/json", {}};
}

http_response error(int status, std::string_view code, std::string_view message,
                    bool unknown_if_applied) {
  v1::ErrorBody b;
  b.mutable_error()->set_code(json::valid_utf8(code));
  b.mutable_error()->set_message(json::valid_utf8(message));
  b.mutable_error()->set_unknown_if_applied(unknown_if_applied);
  auto r = json_response(status, json::print(b));
  if (status == 429 || status == 503) r.headers.emplace_back("Retry-After", "1");
  return r;
}

http_response from_outcome(const outcome& o, target t, bool placement, bool with_events) {
  switch (o.status) {
  case outcome_status::accepted: {
    v1::CommandAnswer a;
    a.set_outcome("accepted");
    (t == target::order ? a.mutable_order_id() : a.mutable_sku())->assign(o.entity_id);
    a.set_duplicate(o.duplicate);
    a.set_first_seq(o.first_seq);
    a.set_last_seq(o.last_seq);
    if (with_events) // opt-in (?include=events): printing them costs more than the rest
      for (const auto& e : o.events)
        *a.add_events() = e;
    return json_response(placement && !o.duplicate ? 201 : 200, json::print(a));
  }
  case outcome_status::rejected: {
    auto code = short_code(o.code);
    return error(status_of_rejection(code), code, o.message);
  }
  case outcome_status::overloaded:
    return error(429, "overloaded", o.message.empty() ? "the node is at capacity" : o.message);
  case outcome_status::failed: {
    // The status is the code's row (include/ordo/outcome_code.hpp): 503 + Retry-After for
    // "wait and retry" (this node or the owner is stopping, down, or between owners), 400 for
    // input the edge did not catch but storage refused (node_hardening keeps this rare), 500
    // for the node's failures.
    const auto& row = row_of(o.code);
    if (row.http_status == 400) return error(400, o.code, o.message);
    return error(row.http_status, o.code, o.message, o.unknown_if_applied);
  }
  }
  return error(500, "internal", "unknown outcome");
}

http_response read_error(const caf::error& e) {
  auto text = describe(e);
  if (text.find("node_unavailable") != std::string::npos)
    return error(503, "node_unavailable", text);
  return error(500, "read_failed", text);
}

} // namespace ordo::node
