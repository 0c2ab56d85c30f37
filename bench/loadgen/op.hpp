// The requests the load generator sends, in a fixed order used to index per-op arrays. The
// first mix_op_count are the ops of the mix (--mix); the flows (--flow) add their own steps.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ordo::loadgen {

enum class op_kind : uint8_t { place, get, ship, pay, reserve, fulfil };
inline constexpr size_t op_count = 6;
inline constexpr size_t mix_op_count = 4; // place, get, ship, pay

inline const char* op_name(op_kind op) {
  switch (op) {
  case op_kind::place:
    return "place";
  case op_kind::get:
    return "get";
  case op_kind::ship:
    return "ship";
  case op_kind::pay:
    return "pay";
  case op_kind::reserve:
    return "reserve";
  case op_kind::fulfil:
    return "fulfil";
  }
  return "?";
}

inline size_t op_index(op_kind op) {
  return static_cast<size_t>(op);
}

} // namespace ordo::loadgen
