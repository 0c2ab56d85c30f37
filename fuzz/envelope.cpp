// Fuzz target: the envelope (messages/ordo/v1/envelope.proto) — what every stored event,
// forwarded command and feed item is — and the compatibility checks on it
// (domain/envelope.hpp), as a node reads it from its journal or from a peer.
//
// Input: the envelope's binary Protobuf encoding.
// Checks: nothing crashes; a decoded envelope round-trips through bytes and through the API's
// JSON (byte for byte protobuf's JSON); the command check and the event classification give
// the same answer for the re-decoded copy; the payload as stored in an idempotency record
// decodes too.
#include <string>

#include "domain/envelope.hpp"
#include "domain/validation.hpp"
#include "fuzz/proto_checks.hpp"
#include "ordo/v1/envelope.pb.h"

namespace v1 = ordo::v1;
namespace domain = ordo::domain;

namespace {

std::string verdict(const v1::Envelope& env) {
  std::string out = std::to_string(static_cast<int>(domain::classify_event(env)));
  if (auto e = domain::check_command_envelope(env)) out.append("|").append(e->SerializeAsString());
  if (env.has_order_command())
    if (auto e = domain::validate(env.order_command())) out.append("|").append(e->SerializeAsString());
  if (env.has_inventory_command())
    if (auto e = domain::validate(env.inventory_command())) out.append("|").append(e->SerializeAsString());
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes{reinterpret_cast<const char*>(data), size};
  v1::Envelope env;
  if (ordo::fuzz::decode_and_check(bytes, env)) {
    const std::string first = verdict(env);
    v1::Envelope again;
    FUZZ_CHECK(again.ParseFromString(env.SerializeAsString()), "re-encoded envelope");
    FUZZ_CHECK(verdict(again) == first, "checks differ on the re-decoded envelope");
  }
  // The same bytes as an idempotency record (the stored answer to a retried key).
  v1::IdempotencyRecord rec;
  ordo::fuzz::decode_and_check(bytes, rec);
  return 0;
}
