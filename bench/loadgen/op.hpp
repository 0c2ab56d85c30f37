// The operations the load generator mixes, in a fixed order used to index per-op arrays.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ordo::loadgen {

enum class op_kind : uint8_t { place, get, ship, pay };
inline constexpr size_t op_count = 4;

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
  }
  return "?";
}

inline size_t op_index(op_kind op) {
  return static_cast<size_t>(op);
}

} // namespace ordo::loadgen
