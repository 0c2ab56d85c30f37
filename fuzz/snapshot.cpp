// Fuzz target: entity snapshots — the state bytes a journal keeps per entity (load_snapshot,
// feed retention) and a shard handoff carries between nodes, decoded when an entity is
// activated (actors/entity_load.hpp) and printed by GET /v1/orders/ID and /v1/inventory/SKU.
//
// Input: the bytes of a snapshot value as storage/codec.hpp lays it out behind the seal:
// seq(8, big-endian) then the state's binary Protobuf encoding, read as an order and as an
// inventory state.
// Checks: nothing crashes; a state that decodes round-trips through bytes and through the
// API's JSON (byte for byte protobuf's); the activation's own test (the state's last_sequence
// equals the snapshot's seq) gives the same answer for the re-decoded copy.
#include <string>

#include "fuzz/proto_checks.hpp"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"
#include "storage/codec.hpp"

namespace v1 = ordo::v1;
namespace codec = ordo::storage::codec;

namespace {

template <class State>
void decode(uint64_t seq, std::string_view bytes) {
  State s;
  if (!ordo::fuzz::decode_and_check(bytes, s)) return;
  State again;
  FUZZ_CHECK(again.ParseFromString(s.SerializeAsString()), "re-encoded state");
  FUZZ_CHECK((again.last_sequence() == seq) == (s.last_sequence() == seq), "sequence check");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body{reinterpret_cast<const char*>(data), size};
  if (body.size() < 8) return 0; // find_snapshot: damaged
  const uint64_t seq = codec::get_u64(body, 0);
  decode<v1::OrderState>(seq, body.substr(8));
  decode<v1::InventoryState>(seq, body.substr(8));
  return 0;
}
