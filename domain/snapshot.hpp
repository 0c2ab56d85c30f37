#pragma once
// Snapshot bytes: how an entity's state is stored as a cache of its events, with the schema
// revision of its writer, and read back in the current shape.
//
// Layout of a versioned snapshot: one 0x00 byte, then a v1::Snapshot message
// (messages/ordo/v1/snapshot.proto: schema_version + the state). No Protobuf message starts
// with 0x00 (field number 0 does not exist), so the byte tells a versioned snapshot from a
// BARE one: the state message alone, as snapshots were first written. A bare snapshot reads
// as schema revision 1, the only revision there was when they were written.
//
// Reading: a version newer than this build (schema_version_current) is refused with a typed
// error, never guessed at; the reader then rebuilds the state from events (a snapshot is only
// a cache). The state read back has passed the upcasters (upcast.hpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace ordo::domain {

inline constexpr char snapshot_versioned_marker = '\0';

enum class snapshot_errc : uint8_t {
  malformed = 1,   // the bytes parse as neither layout
  wrong_entity,    // a versioned snapshot of the other entity type
  version_too_new, // written by a newer schema revision: rebuild from events or upgrade
};

/// The code's name, e.g. "version_too_new".
const char* name(snapshot_errc code);

struct snapshot_error {
  snapshot_errc code = snapshot_errc::malformed;
  uint32_t schema_version = 0; // as stored (0 when the bytes did not parse)
  std::string message;         // names the problem and the versions involved
};

template <class State>
struct decoded_snapshot {
  State state;                 // upcast to the current shape
  uint32_t schema_version = 0; // the writer's revision (1 for a bare snapshot)
  bool versioned = false;      // false: a bare state message
};

template <class State>
using snapshot_result = std::variant<decoded_snapshot<State>, snapshot_error>;

/// A versioned snapshot of `state` at this build's schema revision.
std::string encode_snapshot(const v1::OrderState& state);
std::string encode_snapshot(const v1::InventoryState& state);

/// Reads either layout. Errors: malformed, wrong_entity, version_too_new.
snapshot_result<v1::OrderState> decode_order_snapshot(std::string_view bytes);
snapshot_result<v1::InventoryState> decode_inventory_snapshot(std::string_view bytes);

} // namespace ordo::domain
