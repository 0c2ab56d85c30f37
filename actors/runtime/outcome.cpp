#include "ordo/outcome.hpp"

#include "actors/runtime/request.hpp"

namespace ordo {

const char* to_string(outcome_status s) {
  switch (s) {
  case outcome_status::accepted:
    return "accepted";
  case outcome_status::rejected:
    return "rejected";
  case outcome_status::overloaded:
    return "overloaded";
  case outcome_status::failed:
    return "failed";
  }
  return "invalid";
}

outcome failure(std::string code, std::string message, bool unknown_if_applied) {
  outcome o;
  o.status = outcome_status::failed;
  o.code = std::move(code);
  o.message = std::move(message);
  o.unknown_if_applied = unknown_if_applied;
  return o;
}

outcome overloaded(std::string what) {
  outcome o;
  o.status = outcome_status::overloaded;
  o.code = "overloaded";
  o.message = std::move(what) + " is full; retry later with the same idempotency key";
  return o;
}

request::~request() {
  if (!answered_.exchange(true) && done_) {
    auto o =
        failure("actor_stopped", "the actor handling this command stopped before answering", true);
    o.entity_id = command_.entity_id();
    done_(std::move(o));
  }
}

void request::answer(outcome o) {
  if (answered_.exchange(true)) return;
  if (o.entity_id.empty()) o.entity_id = command_.entity_id();
  if (done_) done_(std::move(o));
}

} // namespace ordo
