// Fuzz target: the JSON request bodies of the node's API (messages/json/json.hpp over
// messages/json/proto_json.hpp), parsed into every body type the API accepts.
//
// Input: a request body (any bytes; the corpus holds valid bodies of each type).
// Checks, for each type: nothing crashes; the body is accepted exactly when protobuf's own
// JSON parser accepts it, into the same message (proto_json.hpp promises that; nesting deeper
// than 64 is the one documented refusal of ours) — compared for every type that accepts the
// body and for one more picked by the input, protobuf's parser being the slow part; nothing
// half-parsed is left behind a refusal; an accepted body prints as protobuf prints it, and
// that text parses back to the same message and prints the same again (stable round trip);
// the command a body becomes passes through the domain's validation without a crash.
#include <iterator>
#include <memory>
#include <string>

#include "domain/validation.hpp"
#include "fuzz/proto_checks.hpp"
#include "ordo/v1/api.pb.h"
#include "ordo/v1/cluster.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace v1 = ordo::v1;
namespace pb = google::protobuf;
using ordo::fuzz::shown;

namespace {

// What the API does with the message next: order and inventory commands are validated by
// the domain before they reach an entity.
void use(const pb::Message& m) {
  v1::OrderCommand oc;
  if (const auto* c = dynamic_cast<const v1::OrderCommand*>(&m)) oc = *c;
  if (const auto* c = dynamic_cast<const v1::PlaceOrder*>(&m)) *oc.mutable_place_order() = *c;
  if (const auto* c = dynamic_cast<const v1::CancelOrder*>(&m)) *oc.mutable_cancel_order() = *c;
  if (const auto* c = dynamic_cast<const v1::RefundOrder*>(&m)) *oc.mutable_refund_order() = *c;
  if (const auto* c = dynamic_cast<const v1::MarkShipped*>(&m)) *oc.mutable_mark_shipped() = *c;
  if (const auto* c = dynamic_cast<const v1::MarkDelivered*>(&m))
    *oc.mutable_mark_delivered() = *c;
  (void)ordo::domain::validate(oc);
  v1::InventoryCommand ic;
  if (const auto* c = dynamic_cast<const v1::InventoryCommand*>(&m)) ic = *c;
  if (const auto* c = dynamic_cast<const v1::Restock*>(&m)) *ic.mutable_restock() = *c;
  if (const auto* c = dynamic_cast<const v1::Adjust*>(&m)) *ic.mutable_adjust() = *c;
  (void)ordo::domain::validate(ic);
}

// `compare`: also run protobuf's parser (slow) on this body for this type; done for every type
// that accepted the body, and for one type picked by the input when all refuse.
void check(std::string_view body, const pb::Message& prototype, bool compare) {
  auto ours = ordo::fuzz::blank(prototype);
  const std::string err = ordo::json::parse(body, *ours);
  if (!err.empty() && !compare) {
    FUZZ_CHECK(ours->ByteSizeLong() == 0, "a refused body left a half-parsed message");
    return;
  }

  auto theirs = ordo::fuzz::blank(prototype);
  const bool they_accept =
      pb::util::JsonStringToMessage(pb::StringPiece(body.data(), body.size()), theirs.get(), {})
          .ok();
  const bool too_deep = err.find("nesting deeper than 64") != std::string::npos;
  if (!too_deep)
    FUZZ_CHECK(err.empty() == they_accept,
               prototype.GetTypeName() + (they_accept ? ": refused what protobuf accepts: " + err
                                                      : ": accepted what protobuf refuses") +
                   "\n  body " + shown(body));
  if (!err.empty()) {
    FUZZ_CHECK(ours->ByteSizeLong() == 0, "a refused body left a half-parsed message");
    return;
  }
  if (they_accept)
    FUZZ_CHECK(ordo::fuzz::same(*ours, *theirs),
               prototype.GetTypeName() + ": parsed differently from protobuf: " + shown(body));
  ordo::fuzz::check_json_round_trip(*ours);
  use(*ours);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body{reinterpret_cast<const char*>(data), size};
  static const pb::Message* const types[] = {
      &v1::PlaceOrder::default_instance(),     &v1::CancelOrder::default_instance(),
      &v1::RefundOrder::default_instance(),    &v1::MarkShipped::default_instance(),
      &v1::MarkDelivered::default_instance(),  &v1::PaymentWebhook::default_instance(),
      &v1::OrderCommand::default_instance(),   &v1::InventoryCommand::default_instance(),
      &v1::Restock::default_instance(),        &v1::Adjust::default_instance(),
      &v1::ClusterMembers::default_instance(),
  };
  size_t pick = 0;
  for (unsigned char c : body)
    pick = pick * 31 + c;
  pick %= std::size(types);
  for (size_t i = 0; i < std::size(types); ++i)
    check(body, *types[i], i == pick);
  return 0;
}
