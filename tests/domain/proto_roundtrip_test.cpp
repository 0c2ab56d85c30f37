// Every message type, every oneof case, filled with random values through reflection,
// serialized and parsed back: must compare equal field by field.
#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>
#include <google/protobuf/util/message_differencer.h>

#include "ordo/v1/envelope.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"
#include "support/seed.hpp"

namespace {

using namespace ordo;
namespace pb = google::protobuf;
using pb::FieldDescriptor;

struct filler {
  std::mt19937_64 rng;

  int64_t between(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  }
  std::string text() { // proto3 strings must be UTF-8: printable ASCII keeps it simple
    std::string s(static_cast<std::size_t>(between(0, 12)), ' ');
    for (auto& c : s)
      c = static_cast<char>(between(32, 126));
    return s;
  }
  std::string bytes() {
    std::string s(static_cast<std::size_t>(between(0, 16)), '\0');
    for (auto& c : s)
      c = static_cast<char>(between(0, 255));
    return s;
  }

  void scalar(pb::Message* m, const FieldDescriptor* f, bool repeated, int index) {
    const auto* r = m->GetReflection();
    switch (f->cpp_type()) {
#define ORDO_SET(TYPE, NAME, VALUE)                                                                \
  case FieldDescriptor::CPPTYPE_##TYPE:                                                            \
    repeated ? r->Add##NAME(m, f, VALUE) : r->Set##NAME(m, f, VALUE);                              \
    break;
      ORDO_SET(INT32, Int32, static_cast<int32_t>(rng()))
      ORDO_SET(INT64, Int64, static_cast<int64_t>(rng()))
      ORDO_SET(UINT32, UInt32, static_cast<uint32_t>(rng()))
      ORDO_SET(UINT64, UInt64, rng())
      ORDO_SET(BOOL, Bool, rng() % 2 == 1)
      ORDO_SET(DOUBLE, Double, static_cast<double>(between(-1000, 1000)) / 8)
      ORDO_SET(FLOAT, Float, static_cast<float>(between(-1000, 1000)) / 8)
#undef ORDO_SET
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* e = f->enum_type();
      const int v = e->value(static_cast<int>(between(0, e->value_count() - 1)))->number();
      repeated ? r->AddEnumValue(m, f, v) : r->SetEnumValue(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      // Map keys get a unique prefix: duplicate keys would collapse on parse.
      std::string v = f->type() == FieldDescriptor::TYPE_BYTES ? bytes() : text();
      if (index >= 0) v = fmt::format("k{}-{}", index, v);
      repeated ? r->AddString(m, f, v) : r->SetString(m, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
    }
  }

  /// Fills every field; for each oneof picks exactly one case (or `forced` if it belongs
  /// to that oneof).
  void fill(pb::Message* m, int depth, const FieldDescriptor* forced = nullptr,
            int map_index = -1) {
    const auto* d = m->GetDescriptor();
    const auto* r = m->GetReflection();
    std::vector<const FieldDescriptor*> chosen;
    for (int o = 0; o < d->real_oneof_decl_count(); ++o) {
      const auto* od = d->oneof_decl(o);
      if (forced && forced->real_containing_oneof() == od)
        chosen.push_back(forced);
      else
        chosen.push_back(od->field(static_cast<int>(between(0, od->field_count() - 1))));
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const auto* f = d->field(i);
      if (f->real_containing_oneof() && std::find(chosen.begin(), chosen.end(), f) == chosen.end())
        continue;
      if (f->is_repeated()) {
        const int n = depth > 3 ? 0 : static_cast<int>(between(0, 3));
        for (int k = 0; k < n; ++k) {
          if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE)
            fill(r->AddMessage(m, f), depth + 1, nullptr, f->is_map() ? k : -1);
          else
            scalar(m, f, true, -1);
        }
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (depth <= 3) fill(r->MutableMessage(m, f), depth + 1);
      } else if (!f->has_presence() || f->real_containing_oneof() || between(0, 1) == 1) {
        // map entry keys are field number 1
        scalar(m, f, false, (map_index >= 0 && f->number() == 1) ? map_index : -1);
      }
    }
  }
};

template <class M>
void roundtrip(filler& g, uint64_t seed, int& count, const FieldDescriptor* forced = nullptr,
               std::size_t* total_bytes = nullptr) {
  M original;
  g.fill(&original, 0, forced);
  std::string bytes;
  REQUIRE(original.SerializeToString(&bytes));
  if (total_bytes) *total_bytes += bytes.size();
  M parsed;
  REQUIRE(parsed.ParseFromString(bytes));
  std::string diff;
  pb::util::MessageDifferencer differ;
  differ.ReportDifferencesToString(&diff);
  REQUIRE_MESSAGE(
      differ.Compare(original, parsed),
      fmt::format("ORDO_SEED={} {} #{}: {}", seed, M::descriptor()->name(), count, diff));
  ++count;
}

// Every case of the wrapper's oneof, `per_case` times each.
template <class M>
void every_case(filler& g, uint64_t seed, int& count, int per_case) {
  const auto* od = M::descriptor()->oneof_decl(0);
  for (int i = 0; i < od->field_count(); ++i)
    for (int k = 0; k < per_case; ++k)
      roundtrip<M>(g, seed, count, od->field(i));
}

} // namespace

TEST_SUITE("proto_roundtrip") {

  TEST_CASE("every message type and oneof case survives serialize + parse") {
    const uint64_t seed = ordo::test::seed_for("proto_roundtrip");
    filler g{std::mt19937_64(seed)};
    const int runs = ordo::test::runs_or(10'000);
    int count = 0;
    while (count < runs) { // one round = every oneof case once plus every plain message
      every_case<v1::OrderCommand>(g, seed, count, 1);
      every_case<v1::OrderEvent>(g, seed, count, 1);
      every_case<v1::InventoryCommand>(g, seed, count, 1);
      every_case<v1::InventoryEvent>(g, seed, count, 1);
      every_case<v1::Envelope>(g, seed, count, 1);
      every_case<v1::IdempotencyRecord>(g, seed, count, 1);
      roundtrip<v1::OrderState>(g, seed, count);
      roundtrip<v1::InventoryState>(g, seed, count);
      roundtrip<v1::Money>(g, seed, count);
      roundtrip<v1::Rejection>(g, seed, count);
      roundtrip<v1::OrderLine>(g, seed, count);
      roundtrip<v1::Address>(g, seed, count);
    }
    // Not vacuous: the filler really sets fields (every envelope carries its payload case).
    std::size_t envelope_bytes = 0;
    int probe = 0;
    for (int k = 0; k < 100; ++k)
      roundtrip<v1::Envelope>(g, seed, probe, nullptr, &envelope_bytes);
    CHECK(envelope_bytes > 100 * 20);
    MESSAGE(fmt::format("{} messages round-tripped", count));
    CHECK(count >= runs);
  }

  TEST_CASE("unknown fields from a newer writer survive re-serialization") {
    v1::OrderEvent newer;
    newer.set_order_id("order-1");
    newer.mutable_order_delivered();
    newer.GetReflection()->MutableUnknownFields(&newer)->AddVarint(99, 42); // a v2 field
    newer.GetReflection()->MutableUnknownFields(&newer)->AddLengthDelimited(40, "new oneof case");
    std::string bytes;
    REQUIRE(newer.SerializeToString(&bytes));

    v1::OrderEvent old_reader;
    REQUIRE(old_reader.ParseFromString(bytes));
    CHECK(old_reader.has_order_delivered());
    CHECK(old_reader.GetReflection()->GetUnknownFields(old_reader).field_count() == 2);
    std::string rewritten;
    REQUIRE(old_reader.SerializeToString(&rewritten));
    v1::OrderEvent again;
    REQUIRE(again.ParseFromString(rewritten));
    CHECK(again.GetReflection()->GetUnknownFields(again).field_count() == 2);

    // An event whose only case is unknown parses with KIND_NOT_SET: the domain must hold it.
    v1::OrderEvent only_new;
    only_new.set_order_id("order-1");
    only_new.GetReflection()->MutableUnknownFields(&only_new)->AddLengthDelimited(40, "x");
    REQUIRE(only_new.SerializeToString(&bytes));
    v1::OrderEvent parsed;
    REQUIRE(parsed.ParseFromString(bytes));
    CHECK(parsed.kind_case() == v1::OrderEvent::KIND_NOT_SET);
  }

} // TEST_SUITE
