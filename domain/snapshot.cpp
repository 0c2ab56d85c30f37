// Snapshot bytes (see snapshot.hpp for the layout and the errors).
#include "domain/snapshot.hpp"

#include <fmt/core.h>

#include "domain/envelope.hpp"
#include "domain/upcast.hpp"
#include "ordo/v1/snapshot.pb.h"

namespace ordo::domain {

const char* name(snapshot_errc code) {
  switch (code) {
  case snapshot_errc::malformed:
    return "malformed";
  case snapshot_errc::wrong_entity:
    return "wrong_entity";
  case snapshot_errc::version_too_new:
    return "version_too_new";
  }
  return "unknown";
}

namespace {

// Bare snapshots were written at the first schema revision; there was no other then.
constexpr uint32_t bare_snapshot_version = 1;
// Every revision from 1 up is still read; raising the oldest needs a refusal of the versions
// below it in decode().
static_assert(schema_version_oldest == 1);

std::string with_marker(const v1::Snapshot& s) {
  std::string out(1, snapshot_versioned_marker);
  s.AppendToString(&out);
  return out;
}

const v1::OrderState* state_of(const v1::Snapshot& s, const v1::OrderState*) {
  return s.has_order() ? &s.order() : nullptr;
}
const v1::InventoryState* state_of(const v1::Snapshot& s, const v1::InventoryState*) {
  return s.has_inventory() ? &s.inventory() : nullptr;
}

snapshot_error error(snapshot_errc code, uint32_t version, std::string message) {
  return snapshot_error{code, version, std::move(message)};
}

template <class State>
snapshot_result<State> decode(std::string_view bytes, const char* kind) {
  decoded_snapshot<State> out;
  if (bytes.empty() || bytes.front() != snapshot_versioned_marker) {
    if (!out.state.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
      return error(snapshot_errc::malformed, 0, fmt::format("{} snapshot: does not parse", kind));
    out.schema_version = bare_snapshot_version;
    upcast(out.state);
    return out;
  }
  v1::Snapshot s;
  bytes.remove_prefix(1);
  if (!s.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || s.schema_version() == 0)
    return error(snapshot_errc::malformed, 0,
                 fmt::format("{} snapshot: versioned layout does not parse", kind));
  const auto v = s.schema_version();
  if (v > schema_version_current)
    return error(snapshot_errc::version_too_new, v,
                 fmt::format("{} snapshot: schema version {} is newer than this build's {}", kind,
                             v, schema_version_current));
  const State* state = state_of(s, static_cast<const State*>(nullptr));
  if (state == nullptr)
    return error(snapshot_errc::wrong_entity, v,
                 fmt::format("{} snapshot: holds no {} state (state case {})", kind, kind,
                             static_cast<int>(s.state_case())));
  out.state = *state;
  out.schema_version = v;
  out.versioned = true;
  upcast(out.state);
  return out;
}

} // namespace

std::string encode_snapshot(const v1::OrderState& state) {
  v1::Snapshot s;
  s.set_schema_version(schema_version_current);
  *s.mutable_order() = state;
  return with_marker(s);
}

std::string encode_snapshot(const v1::InventoryState& state) {
  v1::Snapshot s;
  s.set_schema_version(schema_version_current);
  *s.mutable_inventory() = state;
  return with_marker(s);
}

snapshot_result<v1::OrderState> decode_order_snapshot(std::string_view bytes) {
  return decode<v1::OrderState>(bytes, "order");
}

snapshot_result<v1::InventoryState> decode_inventory_snapshot(std::string_view bytes) {
  return decode<v1::InventoryState>(bytes, "inventory");
}

} // namespace ordo::domain
