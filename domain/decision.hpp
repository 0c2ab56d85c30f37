#pragma once
// The result of decide(): either accepted with zero or more events, or a rejection.
// Accepted-with-no-events is legitimate (an idempotent repeat such as re-reserving stock for
// the same order): the command succeeded and nothing changed.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ordo/v1/common.pb.h"

namespace ordo::domain {

template <class Event>
struct decision {
  std::vector<Event> events;
  std::optional<v1::Rejection> rejection;

  bool accepted() const { return !rejection.has_value(); }
};

inline v1::Rejection make_rejection(v1::RejectionCode code, std::string message) {
  v1::Rejection r;
  r.set_code(code);
  r.set_message(std::move(message));
  return r;
}

template <class Event>
decision<Event> rejected(v1::RejectionCode code, std::string message) {
  decision<Event> d;
  d.rejection = make_rejection(code, std::move(message));
  return d;
}

template <class Event>
decision<Event> rejected(v1::Rejection r) {
  decision<Event> d;
  d.rejection = std::move(r);
  return d;
}

} // namespace ordo::domain
