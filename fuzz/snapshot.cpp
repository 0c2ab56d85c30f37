// Fuzz target: entity snapshots — the bytes a journal keeps per entity (load_snapshot, feed
// retention) and a shard handoff carries between nodes, decoded when an entity is activated
// (actors/runtime/entity_load.hpp, through domain/snapshot.hpp) and printed by
// GET /v1/orders/ID and /v1/inventory/SKU.
//
// Input: the bytes of a snapshot value as storage/codec.hpp lays it out behind the seal:
// seq(8, big-endian) then the snapshot bytes — either layout domain/snapshot.hpp reads (the
// versioned one: 0x00 + v1::Snapshot; the bare state message first written).
// Checks: nothing crashes; the snapshot decoders (order and inventory) either answer a typed
// error or a state that, written again with encode_snapshot, reads back versioned, at this
// build's revision, to the same state; the activation's own test (the state's last_sequence
// equals the snapshot's seq) gives the same answer for the re-decoded copy. Bytes that parse
// as a bare state also round-trip through bytes and through the API's JSON (protobuf's).
#include <string>
#include <variant>

#include "domain/envelope.hpp"
#include "domain/snapshot.hpp"
#include "fuzz/proto_checks.hpp"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"
#include "storage/codec.hpp"

namespace v1 = ordo::v1;
namespace codec = ordo::storage::codec;
namespace domain = ordo::domain;

namespace {

template <class State>
domain::snapshot_result<State> decode_snapshot(std::string_view bytes) {
  if constexpr (std::is_same_v<State, v1::OrderState>)
    return domain::decode_order_snapshot(bytes);
  else
    return domain::decode_inventory_snapshot(bytes);
}

template <class State>
void decode_bare(uint64_t seq, std::string_view bytes) {
  State s;
  if (!ordo::fuzz::decode_and_check(bytes, s)) return;
  State again;
  FUZZ_CHECK(again.ParseFromString(s.SerializeAsString()), "re-encoded state");
  FUZZ_CHECK((again.last_sequence() == seq) == (s.last_sequence() == seq), "sequence check");
}

template <class State>
void decode_versioned(uint64_t seq, std::string_view bytes) {
  auto first = decode_snapshot<State>(bytes);
  if (auto* e = std::get_if<domain::snapshot_error>(&first)) {
    FUZZ_CHECK(!e->message.empty(), "a snapshot error names its problem");
    return;
  }
  const auto& s = std::get<domain::decoded_snapshot<State>>(first);
  FUZZ_CHECK(s.schema_version <= domain::schema_version_current, "a too new version decoded");
  auto again = decode_snapshot<State>(domain::encode_snapshot(s.state));
  FUZZ_CHECK(std::holds_alternative<domain::decoded_snapshot<State>>(again),
             "an encoded snapshot does not decode");
  const auto& d = std::get<domain::decoded_snapshot<State>>(again);
  FUZZ_CHECK(d.versioned && d.schema_version == domain::schema_version_current,
             "encode_snapshot writes the versioned layout at this build's revision");
  FUZZ_CHECK(ordo::fuzz::same(d.state, s.state), "snapshot round trip differs");
  FUZZ_CHECK((d.state.last_sequence() == seq) == (s.state.last_sequence() == seq),
             "sequence check");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body{reinterpret_cast<const char*>(data), size};
  if (body.size() < 8) return 0; // find_snapshot: damaged
  const uint64_t seq = codec::get_u64(body, 0);
  decode_bare<v1::OrderState>(seq, body.substr(8));
  decode_bare<v1::InventoryState>(seq, body.substr(8));
  decode_versioned<v1::OrderState>(seq, body.substr(8));
  decode_versioned<v1::InventoryState>(seq, body.substr(8));
  return 0;
}
