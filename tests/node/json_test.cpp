// proto_json against protobuf's own JSON mapping: random messages of every type in our schema
// must print byte for byte the same and parse back to the same message, and inputs must be
// accepted or refused exactly as protobuf does (see messages/json/proto_json.hpp).
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "messages/json/proto_json.hpp"
#include "ordo/v1/api.pb.h"
#include "ordo/v1/common.pb.h"
#include "ordo/v1/envelope.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"
#include "support/seed.hpp"

namespace pb = google::protobuf;
namespace pj = ordo::proto_json;
using FD = pb::FieldDescriptor;

namespace {

std::string pb_print(const pb::Message& m, bool proto_names = true, bool pretty = false) {
  pb::util::JsonPrintOptions o;
  o.preserve_proto_field_names = proto_names;
  o.add_whitespace = pretty;
  std::string out;
  REQUIRE(pb::util::MessageToJsonString(m, &out, o).ok());
  return out;
}

bool pb_accepts(const std::string& json, pb::Message& m) {
  return pb::util::JsonStringToMessage(json, &m, pb::util::JsonParseOptions{}).ok();
}

std::string fast_print(const pb::Message& m) {
  std::string out;
  pj::print(m, out);
  return out;
}

bool same(const pb::Message& a, const pb::Message& b) {
  return pb::util::MessageDifferencer::Equals(a, b);
}

std::unique_ptr<pb::Message> fresh(const pb::Descriptor* d) {
  return std::unique_ptr<pb::Message>(
      pb::MessageFactory::generated_factory()->GetPrototype(d)->New());
}

/// Every message type of our schema, nested ones included.
std::vector<const pb::Descriptor*> schema_messages() {
  std::vector<const pb::Descriptor*> out;
  std::vector<const pb::Descriptor*> todo;
  for (const auto* file :
       {ordo::v1::Money::descriptor()->file(), ordo::v1::PlaceOrder::descriptor()->file(),
        ordo::v1::InventoryState::descriptor()->file(), ordo::v1::Envelope::descriptor()->file(),
        ordo::v1::CommandAnswer::descriptor()->file()})
    for (int i = 0; i < file->message_type_count(); ++i)
      todo.push_back(file->message_type(i));
  while (!todo.empty()) {
    const auto* d = todo.back();
    todo.pop_back();
    if (d->map_key() != nullptr) continue; // map entries are not messages of their own
    out.push_back(d);
    for (int i = 0; i < d->nested_type_count(); ++i)
      todo.push_back(d->nested_type(i));
  }
  return out;
}

/// Fills messages with random values through reflection, favouring the edges of each type:
/// empty and non-ASCII text, characters protobuf escapes, int extremes, unknown enum numbers,
/// maps with repeated keys, oneofs, and `optional` fields set to their default.
class Generator {
public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  void fill(pb::Message& m, int depth = 0) {
    const pb::Descriptor* d = m.GetDescriptor();
    for (int i = 0; i < d->real_oneof_decl_count(); ++i) {
      const pb::OneofDescriptor* o = d->oneof_decl(i); // real oneofs come first
      const int pick = uniform(0, o->field_count());   // == field_count: leave it unset
      if (pick < o->field_count()) set(m, o->field(pick), depth);
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const FD* fd = d->field(i);
      if (fd->real_containing_oneof() != nullptr || chance(2)) continue;
      if (!fd->is_repeated()) {
        set(m, fd, depth);
        continue;
      }
      for (int n = uniform(0, 3); n > 0; --n)
        add(m, fd, depth);
    }
  }

private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(int one_in) { return uniform(1, one_in) == 1; }

  int64_t i64() {
    static constexpr int64_t kEdges[] = {
        0, 1, -1, 42, -42, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, (int64_t{1} << 53) + 1};
    if (chance(2)) return kEdges[uniform(0, std::size(kEdges) - 1)];
    return static_cast<int64_t>(rng_());
  }
  uint64_t u64() { return chance(3) ? UINT64_MAX : chance(2) ? 0 : rng_() >> uniform(0, 63); }

  std::string text() {
    static const char* kPieces[] = {
        "",           "a",          "order-1",    "ÅÄÖ",        "日本語",
        "😀",          "\"",         "\\",         "/",          "<>&'",
        "\n\t\r\b\f", "\x1f",       "\x7f",       "\u00ad",     "\u2028\u2029",
        "\ufeff",     "\U0001D173", "\U000E0001", "\U000E007F", "\u0600",
        "\u200b",     " ",          "é"};
    std::string s;
    for (int n = uniform(0, 4); n > 0; --n) {
      if (chance(8)) {
        s += '\0'; // the table's literal cannot hold it
        continue;
      }
      if (chance(6)) {
        append_code_point(s);
        continue;
      }
      s += kPieces[uniform(0, std::size(kPieces) - 1)];
    }
    return s;
  }

  void append_code_point(std::string& s) {
    uint32_t cp = static_cast<uint32_t>(uniform(1, 0x10FFFF));
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string bytes() {
    std::string s(static_cast<size_t>(uniform(0, 7)), '\0');
    for (auto& c : s)
      c = static_cast<char>(uniform(0, 255));
    return s;
  }

  int enum_number(const pb::EnumDescriptor* e) {
    if (chance(8)) return chance(2) ? 99 : -3; // open enums keep unknown numbers
    return e->value(uniform(0, e->value_count() - 1))->number();
  }

  void set(pb::Message& m, const FD* fd, int depth) {
    const pb::Reflection& r = *m.GetReflection();
    switch (fd->cpp_type()) {
    case FD::CPPTYPE_INT32:
      return r.SetInt32(&m, fd, static_cast<int32_t>(i64()));
    case FD::CPPTYPE_INT64:
      return r.SetInt64(&m, fd, i64());
    case FD::CPPTYPE_UINT32:
      return r.SetUInt32(&m, fd, static_cast<uint32_t>(u64()));
    case FD::CPPTYPE_UINT64:
      return r.SetUInt64(&m, fd, u64());
    case FD::CPPTYPE_BOOL:
      return r.SetBool(&m, fd, chance(2));
    case FD::CPPTYPE_ENUM:
      return r.SetEnumValue(&m, fd, enum_number(fd->enum_type()));
    case FD::CPPTYPE_STRING:
      return r.SetString(&m, fd, fd->type() == FD::TYPE_BYTES ? bytes() : text());
    case FD::CPPTYPE_MESSAGE:
      if (depth < 8)
        fill(*r.MutableMessage(&m, fd), depth + 1);
      else
        r.MutableMessage(&m, fd);
      return;
    default:
      FAIL("type not in our schema: " << fd->full_name());
    }
  }

  void add(pb::Message& m, const FD* fd, int depth) {
    const pb::Reflection& r = *m.GetReflection();
    switch (fd->cpp_type()) {
    case FD::CPPTYPE_STRING:
      return r.AddString(&m, fd, fd->type() == FD::TYPE_BYTES ? bytes() : text());
    case FD::CPPTYPE_MESSAGE: {
      pb::Message* e = r.AddMessage(&m, fd);
      if (fd->is_map() && chance(3) && r.FieldSize(m, fd) > 1) {
        // A key written twice: only the last entry counts.
        e->CopyFrom(r.GetRepeatedMessage(m, fd, 0));
        set(*e, e->GetDescriptor()->map_value(), depth);
        return;
      }
      if (depth < 8) fill(*e, depth + 1);
      return;
    }
    default:
      FAIL("repeated type not in our schema: " << fd->full_name());
    }
  }

  std::mt19937_64 rng_;
};

/// Protobuf's verdict and ours on `json` for type `d`: both refuse, or both accept the same.
void check_same_verdict(const pb::Descriptor* d, const std::string& json) {
  auto theirs = fresh(d);
  auto ours = fresh(d);
  const bool pb_ok = pb_accepts(json, *theirs);
  const std::string err = pj::parse(json, *ours);
  INFO(d->full_name() << " input: " << json << "\nours: " << (err.empty() ? "accepted" : err));
  CHECK(pb_ok == err.empty());
  if (pb_ok && err.empty()) CHECK(same(*theirs, *ours));
}

/// `json` with one random edit: a character dropped, doubled or replaced by a JSON-ish one.
std::string mutate(std::string json, std::mt19937_64& rng) {
  static constexpr char kChars[] = "{}[],:\"'\\ 0123456789-+.eEtrufalsn_xAZ";
  if (json.empty()) return json;
  const size_t at = std::uniform_int_distribution<size_t>(0, json.size() - 1)(rng);
  const char c = kChars[std::uniform_int_distribution<size_t>(0, sizeof kChars - 2)(rng)];
  switch (rng() % 4) {
  case 0:
    json.erase(at, 1);
    break;
  case 1:
    json.insert(at, 1, json[at]);
    break;
  case 2:
    json[at] = c;
    break;
  default:
    json.insert(at, 1, c);
  }
  return json;
}

} // namespace

TEST_SUITE("node_json") {
  TEST_CASE("random messages of every type print, parse and round-trip exactly like protobuf") {
    const uint64_t seed = ordo::test::seed_for("node_json_roundtrip");
    Generator gen(seed);
    const auto types = schema_messages();
    REQUIRE(types.size() >= 50); // the whole schema, not a few messages
    const int runs = ordo::test::runs_or(60);
    int compared = 0;
    for (int run = 0; run < runs; ++run) {
      for (const pb::Descriptor* d : types) {
        auto m = fresh(d);
        gen.fill(*m);
        const std::string expected = pb_print(*m);
        const std::string printed = fast_print(*m);
        INFO(d->full_name() << " seed " << seed << " run " << run << "\n" << m->DebugString());
        REQUIRE(printed == expected);

        // The generator may write a map key twice through reflection, which the differencer
        // would see as two entries: compare against the message as protobuf reads it back.
        auto canonical = fresh(d);
        REQUIRE(canonical->ParseFromString(m->SerializeAsString()));
        m = std::move(canonical);

        auto back = fresh(d);
        REQUIRE(pj::parse(printed, *back) == "");
        CHECK(same(*m, *back));
        CHECK(fast_print(*back) == pb_print(*back)); // maps written by our parser print alike

        auto camel = fresh(d);
        REQUIRE(pj::parse(pb_print(*m, false), *camel) == "");
        CHECK(same(*m, *camel));

        auto pretty = fresh(d);
        REQUIRE(pj::parse(pb_print(*m, false, true), *pretty) == "");
        CHECK(same(*m, *pretty));
        ++compared;
      }
    }
    MESSAGE(compared << " random messages compared");
  }

  TEST_CASE("randomly damaged JSON is refused or accepted exactly when protobuf does") {
    const uint64_t seed = ordo::test::seed_for("node_json_mutations");
    Generator gen(seed);
    std::mt19937_64 rng(seed);
    const auto types = schema_messages();
    int refused = 0;
    const int runs = ordo::test::runs_or(60);
    for (int run = 0; run < runs; ++run) {
      for (const pb::Descriptor* d : types) {
        auto m = fresh(d);
        gen.fill(*m);
        std::string json = pb_print(*m, run % 2 == 0, run % 3 == 0);
        for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits)
          json = mutate(json, rng);
        auto probe = fresh(d);
        if (!pb_accepts(json, *probe)) ++refused;
        check_same_verdict(d, json);
      }
    }
    MESSAGE(refused << " damaged inputs refused by both");
    CHECK(refused > runs); // the mutations do produce invalid inputs
  }

  TEST_CASE("malformed and ill-typed inputs are refused, as protobuf refuses them") {
    using ordo::v1::Envelope;
    using ordo::v1::InventoryState;
    using ordo::v1::Money;
    using ordo::v1::OpaquePayload;
    using ordo::v1::PlaceOrder;
    using ordo::v1::Rejection;
    const std::vector<std::pair<const pb::Descriptor*, std::string>> bad = {
        {Money::descriptor(), ""},
        {Money::descriptor(), "  "},
        {Money::descriptor(), "null"},
        {Money::descriptor(), "[]"},
        {Money::descriptor(), "\"x\""},
        {Money::descriptor(), "{"},
        {Money::descriptor(), "{\"currency\":\"x\""},
        {Money::descriptor(), "{\"currency\":"},
        {Money::descriptor(), "{} x"},
        {Money::descriptor(), "{}{}"},
        {Money::descriptor(), "{\"currency\":\"x\"},"},
        {Money::descriptor(), std::string("{}\0", 3)},
        {Money::descriptor(), "\xef\xbb\xbf{}"},
        {Money::descriptor(), "{/*c*/}"},
        {Money::descriptor(), R"({"foo":1})"},
        {Money::descriptor(), R"({"foo":null})"},
        {Money::descriptor(), R"({"amountminor":1})"},
        {Money::descriptor(), R"({"":1})"},
        {Money::descriptor(), R"({,})"},
        {Money::descriptor(), R"({"currency":"x",,})"},
        {Money::descriptor(), R"({"amount_minor" 1})"},
        {Money::descriptor(), R"({"amount_minor":1 "currency":"x"})"},
        {Money::descriptor(), R"({1:1})"},
        {Money::descriptor(), R"({null:1})"},
        {Money::descriptor(), R"({cur-rency:"x"})"},
        {Money::descriptor(), R"({"amount_minor":true})"},
        {Money::descriptor(), R"({"amount_minor":"abc"})"},
        {Money::descriptor(), R"({"amount_minor":""})"},
        {Money::descriptor(), R"({"amount_minor":" 12 "})"},
        {Money::descriptor(), R"({"amount_minor":"1.0"})"},
        {Money::descriptor(), R"({"amount_minor":"1e2"})"},
        {Money::descriptor(), R"({"amount_minor":"0x10"})"},
        {Money::descriptor(), R"({"amount_minor":1.5})"},
        {Money::descriptor(), R"({"amount_minor":4.9e-324})"},
        {Money::descriptor(), R"({"amount_minor":9223372036854775808})"},
        {Money::descriptor(), R"({"amount_minor":"9223372036854775808"})"},
        {Money::descriptor(), R"({"amount_minor":"-9223372036854775809"})"},
        {Money::descriptor(), R"({"amount_minor":9.3e18})"},
        {Money::descriptor(), R"({"amount_minor":1e400})"},
        {Money::descriptor(), R"({"amount_minor":010})"},
        {Money::descriptor(), R"({"amount_minor":-01})"},
        {Money::descriptor(), R"({"amount_minor":00})"},
        {Money::descriptor(), R"({"amount_minor":.5})"},
        {Money::descriptor(), R"({"amount_minor":+1})"},
        {Money::descriptor(), R"({"amount_minor":-})"},
        {Money::descriptor(), R"({"amount_minor":1e})"},
        {Money::descriptor(), R"({"amount_minor":1.2.3})"},
        {Money::descriptor(), R"({"amount_minor":--1})"},
        {Money::descriptor(), R"({"amount_minor":1x})"},
        {Money::descriptor(), R"({"amount_minor":Infinity})"},
        {Money::descriptor(), R"({"amount_minor":"NaN"})"},
        {Money::descriptor(), R"({"amount_minor":[1]})"},
        {Money::descriptor(), R"({"amount_minor":{}})"},
        {Money::descriptor(), R"({"currency":12})"},
        {Money::descriptor(), R"({"currency":true})"},
        {Money::descriptor(), R"({"currency":{}})"},
        {Money::descriptor(), R"({"currency":["a"]})"},
        {Money::descriptor(), R"({"currency":[]})"},
        {Money::descriptor(), R"({"currency":Null})"},
        {Money::descriptor(), R"({"currency":nul})"},
        {Money::descriptor(), R"({"currency":nullx})"},
        {Money::descriptor(), R"({"currency":"abc})"},
        {Money::descriptor(), R"({"currency":"\})"},
        {Money::descriptor(), R"({"currency":"\u12"})"},
        {Money::descriptor(), R"({"currency":"\u12G4"})"},
        {Money::descriptor(), R"({"currency":"\ud800"})"},
        {Money::descriptor(), R"({"currency":"\ud800x"})"},
        {Money::descriptor(), R"({"currency":"\udc00"})"},
        {Money::descriptor(), R"({"currency":"\ud800\ud800"})"},
        {Money::descriptor(), R"({"currency":"\ud83d\u0041"})"},
        {Money::descriptor(), "{\"currency\":\"\xff\"}"},
        {Money::descriptor(), "{\"currency\":\"\xc0\xaf\"}"},
        {Money::descriptor(), "{\"currency\":\"\xed\xa0\x80\"}"},
        {Money::descriptor(), "{\"currency\":\"\xf4\x90\x80\x80\"}"},
        {Money::descriptor(), "{\"currency\":\"\xe2\x82\"}"},
        {Money::descriptor(), "{\"currency\":\"a\"\xff}"},
        {OpaquePayload::descriptor(), R"({"data":"A"})"},
        {OpaquePayload::descriptor(), R"({"data":"A==="})"},
        {OpaquePayload::descriptor(), R"({"data":"AQ="})"},
        {OpaquePayload::descriptor(), R"({"data":"AQI=="})"},
        {OpaquePayload::descriptor(), R"({"data":"AQID="})"},
        {OpaquePayload::descriptor(), R"({"data":"AR=="})"},
        {OpaquePayload::descriptor(), R"({"data":"QUJ"})"},
        {OpaquePayload::descriptor(), R"({"data":"AQ ID"})"},
        {OpaquePayload::descriptor(), R"({"data":"AQ*D"})"},
        {OpaquePayload::descriptor(), R"({"data":"+_8="})"},
        {OpaquePayload::descriptor(), R"({"data":"=AQ"})"},
        {OpaquePayload::descriptor(), R"({"data":1})"},
        {Rejection::descriptor(), R"({"code":"NOPE"})"},
        {Rejection::descriptor(), R"({"code":"rejection_code_not_found"})"},
        {Rejection::descriptor(), R"({"code":"-2"})"},
        {Rejection::descriptor(), R"({"code":"2.0"})"},
        {Rejection::descriptor(), R"({"code":" 2"})"},
        {Rejection::descriptor(), R"({"code":4294967296})"},
        {Rejection::descriptor(), R"({"code":true})"},
        {Rejection::descriptor(), R"({"code":1.5})"},
        {ordo::v1::ErrorDetail::descriptor(), R"({"unknown_if_applied":1})"},
        {ordo::v1::ErrorDetail::descriptor(), R"({"unknown_if_applied":" true"})"},
        {ordo::v1::ErrorDetail::descriptor(), R"({"unknown_if_applied":""})"},
        {ordo::v1::ErrorDetail::descriptor(), R"({"unknown_if_applied":True})"},
        {Envelope::descriptor(), R"({"schema_version":-1})"},
        {Envelope::descriptor(), R"({"schema_version":4294967296})"},
        {Envelope::descriptor(), R"({"sequence":"-1"})"},
        {Envelope::descriptor(), R"({"sequence":"-0"})"},
        {Envelope::descriptor(), R"({"sequence":"18446744073709551616"})"},
        {Envelope::descriptor(), R"({"sequence":18446744073709551616})"},
        {Envelope::descriptor(), R"({"opaque":{},"order_command":{}})"},
        {Envelope::descriptor(), R"({"opaque":{"type":"a"},"opaque":{"data":"AQ=="}})"},
        {Envelope::descriptor(), R"({"orderCommand":{},"order_command":{}})"},
        {Envelope::descriptor(), R"({"order_command":{"place_order":{},"cancel_order":{}}})"},
        {Envelope::descriptor(), R"({"opaque":[]})"},
        {Envelope::descriptor(), R"({"opaque":"x"})"},
        {Envelope::descriptor(), R"({"opaque":{"unknown":1}})"},
        {Envelope::descriptor(), R"({"entity_type":[]})"},
        {PlaceOrder::descriptor(), R"({"merchant_id":"a","merchant_id":"b"})"},
        {PlaceOrder::descriptor(), R"({"merchant_id":"a","merchantId":"b"})"},
        {PlaceOrder::descriptor(), R"({"lines":[,]})"},
        {PlaceOrder::descriptor(), R"({"lines":[{},,]})"},
        {PlaceOrder::descriptor(), R"({"lines":[,{}]})"},
        {PlaceOrder::descriptor(), R"({"lines":[1]})"},
        {PlaceOrder::descriptor(), R"({"lines":["x"]})"},
        {PlaceOrder::descriptor(), R"({"lines":[{"quantity":"many"}]})"},
        {PlaceOrder::descriptor(), R"({"lines":[{"unit_price":{"amount_minor":{}}}]})"},
        {InventoryState::descriptor(), R"({"committed_order":1})"},
        {InventoryState::descriptor(), R"({"committed_order":[1]})"},
        {InventoryState::descriptor(), R"({"committed_order":[{}]})"},
        {InventoryState::descriptor(), R"({"committed_order":{}})"},
        {InventoryState::descriptor(), R"({"reservations":{"a":"2","a":1}})"},
        {InventoryState::descriptor(), R"({"reservations":{"a":1,"\u0061":2}})"},
        {InventoryState::descriptor(), R"({"reservations":[]})"},
        {InventoryState::descriptor(), R"({"reservations":1})"},
        {InventoryState::descriptor(), R"({"reservations":"x"})"},
        {InventoryState::descriptor(), R"({"reservations":{"a":"x"}})"},
        {InventoryState::descriptor(), R"({"reservations":{"a":true}})"},
        {InventoryState::descriptor(), R"({"reservations":{"a":{}}})"},
        {InventoryState::descriptor(), R"({"reservations":{"a":[1]}})"},
    };
    for (const auto& [d, json] : bad) {
      auto theirs = fresh(d);
      auto ours = fresh(d);
      INFO(d->full_name() << " input: " << json);
      REQUIRE_FALSE(pb_accepts(json, *theirs)); // the table itself is right
      const std::string err = pj::parse(json, *ours);
      CHECK_FALSE(err.empty());
      CHECK(same(*ours, *fresh(d))); // nothing half-parsed is left behind
    }
  }

  TEST_CASE("protobuf's lenient inputs are accepted with protobuf's result") {
    using ordo::v1::Envelope;
    using ordo::v1::InventoryState;
    using ordo::v1::Money;
    using ordo::v1::PlaceOrder;
    const std::vector<std::pair<const pb::Descriptor*, std::string>> lenient = {
        {Money::descriptor(), " { \"amount_minor\" : 1 , \"currency\" : \"x\" } \n"},
        {Money::descriptor(), "{\r\n\t\v\f\"currency\":\"x\"}"},
        {Money::descriptor(), R"({"amountMinor":"5"})"},
        {Money::descriptor(), R"({"amount_minor":"+1"})"},
        {Money::descriptor(), R"({"amount_minor":"010"})"},
        {Money::descriptor(), R"({"amount_minor":"-0"})"},
        {Money::descriptor(), R"({"amount_minor":1.0})"},
        {Money::descriptor(), R"({"amount_minor":1.})"},
        {Money::descriptor(), R"({"amount_minor":1.e5})"},
        {Money::descriptor(), R"({"amount_minor":1E2})"},
        {Money::descriptor(), R"({"amount_minor":100e-2})"},
        {Money::descriptor(), R"({"amount_minor":1e-400})"},
        {Money::descriptor(), R"({"amount_minor":-0.0})"},
        {Money::descriptor(), R"({"amount_minor":9.2e18})"},
        {Money::descriptor(), R"({"amount_minor":9223372036854775807})"},
        {Money::descriptor(), R"({"amount_minor":-9223372036854775808})"},
        {Money::descriptor(), R"({"amount_minor":-9223372036854775809})"},
        {Money::descriptor(), R"({"amount_minor":9007199254740993.0})"},
        {Money::descriptor(), R"({"amount_minor":1.00000000000000000001})"},
        {Money::descriptor(), R"({"amount_minor":null})"},
        {Money::descriptor(), R"({"currency":'a"b'})"},
        {Money::descriptor(), R"({currency:"ab"})"},
        {Money::descriptor(), R"({'currency':"ab"})"},
        {Money::descriptor(), R"({"currency":"ab",})"},
        {Money::descriptor(), R"({"currency":"a","currency":"b"})"},
        {Money::descriptor(), "{\"currency\":\"a\nb\x01\x7f\"}"},
        {Money::descriptor(), std::string("{\"currency\":\"x\0y\"}", 18)},
        {Money::descriptor(), R"({"currency":"\u00e9\u0000\/\b\f\'\x\U0041"})"},
        {Money::descriptor(), R"({"currency":"\ud83d\ude00"})"},
        {Money::descriptor(), R"({"curr\u0065ncy":"a"})"},
        {ordo::v1::OpaquePayload::descriptor(), R"({"data":"AQID+/8="})"},
        {ordo::v1::OpaquePayload::descriptor(), R"({"data":"AQID-_8"})"},
        {ordo::v1::OpaquePayload::descriptor(), R"({"data":"AQI"})"},
        {ordo::v1::OpaquePayload::descriptor(), R"({"data":""})"},
        {ordo::v1::Rejection::descriptor(), R"({"code":2})"},
        {ordo::v1::Rejection::descriptor(), R"({"code":"2"})"},
        {ordo::v1::Rejection::descriptor(), R"({"code":"+2"})"},
        {ordo::v1::Rejection::descriptor(), R"({"code":2.0})"},
        {ordo::v1::Rejection::descriptor(), R"({"code":99})"},
        {ordo::v1::Rejection::descriptor(), R"({"code":-3})"},
        {ordo::v1::ErrorDetail::descriptor(), R"({"unknown_if_applied":"yes"})"},
        {ordo::v1::ErrorDetail::descriptor(), R"({"unknown_if_applied":"F"})"},
        {ordo::v1::ErrorDetail::descriptor(), R"({"unknown_if_applied":"1"})"},
        {Envelope::descriptor(), R"({"sequence":18446744073709551615})"},
        {Envelope::descriptor(), R"({"sequence":"18446744073709551615"})"},
        {Envelope::descriptor(), R"({"sequence":-0})"},
        {Envelope::descriptor(), R"({"sequence":1e19})"},
        {Envelope::descriptor(), R"({"schema_version":4294967295.0})"},
        {Envelope::descriptor(), R"({"opaque":{},"order_command":null})"},
        {Envelope::descriptor(), R"({"opaque":null,"opaque":{}})"},
        {Envelope::descriptor(), R"({"order_command":{"place_order":null}})"},
        {PlaceOrder::descriptor(), R"({"merchant_id":""})"},
        {PlaceOrder::descriptor(), R"({"merchant_id":null,"merchantId":"b"})"},
        {PlaceOrder::descriptor(), R"({"lines":null})"},
        {PlaceOrder::descriptor(), R"({"lines":[null,{},null]})"},
        {PlaceOrder::descriptor(), R"({"lines":{"sku":"a"}})"},
        {PlaceOrder::descriptor(), R"({"lines":[[{}],[[{"sku":"b"}]]]})"},
        {PlaceOrder::descriptor(), R"({"lines":[{"sku":"a"}],"lines":[{"sku":"b"}]})"},
        {PlaceOrder::descriptor(), R"({"lines":[{} , ]})"},
        {PlaceOrder::descriptor(),
         R"({"shipping_address":{"name":"a"},"shippingAddress":{"city":"b"}})"},
        {InventoryState::descriptor(), R"({"committed_order":"a"})"},
        {InventoryState::descriptor(), R"({"committed_order":["a",null,]})"},
        {InventoryState::descriptor(), R"({"reservations":{"b":"2","a":1,"":-3}})"},
        {InventoryState::descriptor(), R"({"reservations":{a:1,'b':2,}})"},
        {InventoryState::descriptor(), R"({"reservations":{"a":null}})"},
        {InventoryState::descriptor(), R"({"reservations":null})"},
        {InventoryState::descriptor(), R"({"reservations":{"a":1},"reservations":{"a":2}})"},
    };
    for (const auto& [d, json] : lenient) {
      auto theirs = fresh(d);
      auto ours = fresh(d);
      INFO(d->full_name() << " input: " << json);
      REQUIRE(pb_accepts(json, *theirs)); // the table itself is right
      CHECK(pj::parse(json, *ours) == "");
      CHECK(same(*theirs, *ours));
    }
  }

  TEST_CASE("an unknown field is an error naming it, never silently dropped") {
    ordo::v1::PlaceOrder m;
    const std::string err = pj::parse(R"({"customer_id":"c1","lines":[{"sku":"a","qty":2}]})", m);
    CHECK(err == "ordo.v1.PlaceOrder.lines[0]: unknown field \"qty\" in ordo.v1.OrderLine at "
                 "offset 40");
    CHECK_FALSE(m.has_shipping_address());
    CHECK(m.customer_id().empty()); // a refused body leaves nothing behind
  }

  TEST_CASE("type errors name the field, the expected type and the offset") {
    ordo::v1::PlaceOrder m;
    CHECK(pj::parse(R"({"lines":[{"quantity":"many"}]})", m) ==
          "ordo.v1.PlaceOrder.lines[0].quantity: expected int64 (a number or a decimal string, "
          "in range), got \"many\" at offset 22");
    ordo::v1::Envelope e;
    CHECK(pj::parse(R"({"entity_type":"SHIP"})", e) ==
          "ordo.v1.Envelope.entity_type: expected ordo.v1.EntityType (a value name or number), "
          "got \"SHIP\" at offset 15");
    CHECK(pj::parse(R"({"opaque":{},"order_event":{}})", e) ==
          "ordo.v1.Envelope.order_event: oneof \"payload\" is already set at offset 27");
    CHECK(pj::parse("{\"entity_id\":\"a\xff\"}", e) ==
          "ordo.v1.Envelope.entity_id: invalid UTF-8 in string at offset 15");
  }

  TEST_CASE("nesting deeper than 64 is refused without deep recursion") {
    const auto nested = [](int levels) {
      return "{\"lines\":" + std::string(static_cast<size_t>(levels), '[') + "{}" +
             std::string(static_cast<size_t>(levels), ']') + "}";
    };
    ordo::v1::PlaceOrder m;
    CHECK(pj::parse(nested(62), m) == ""); // 62 arrays + 2 objects = 64 levels
    CHECK(m.lines_size() == 1);
    CHECK(pj::parse(nested(63), m).find("nesting deeper than 64") != std::string::npos);
    CHECK_FALSE(pj::parse(nested(100000), m).empty());
    CHECK_FALSE(pj::parse(std::string(100000, '{'), m).empty());
  }

  TEST_CASE("large bodies parse in linear time") {
    std::string json = "{\"committed_order\":[";
    std::string map = "\"reservations\":{";
    constexpr int kN = 200000;
    for (int i = 0; i < kN; ++i) {
      json += (i ? ",\"o" : "\"o") + std::to_string(i) + "\"";
      map += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    }
    json += "]," + map + "}}";
    ordo::v1::InventoryState m;
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(pj::parse(json, m) == "");
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(m.committed_order_size() == kN);
    CHECK(m.reservations().size() == kN);
    CHECK(took < std::chrono::seconds(5)); // quadratic would take minutes
    CHECK(fast_print(m) == pb_print(m));
  }

  TEST_CASE("types beyond our schema fall back to protobuf and still match it") {
    pb::Timestamp ts;
    ts.set_seconds(1700000000);
    ts.set_nanos(5000);
    CHECK(fast_print(ts) == pb_print(ts));
    pb::Timestamp back;
    CHECK(pj::parse(fast_print(ts), back) == "");
    CHECK(same(ts, back));
    CHECK_FALSE(pj::parse("\"yesterday\"", back).empty());

    ordo::v1::Money bad_utf8; // printed lossily by protobuf: we defer to it
    bad_utf8.set_currency("a\xff"
                          "b\xc0\xaf");
    CHECK(fast_print(bad_utf8) == pb_print(bad_utf8));
  }

  TEST_CASE("print appends to what is already in the buffer") {
    ordo::v1::Money m;
    m.set_amount_minor(-5);
    std::string out = "x";
    pj::print(m, out);
    CHECK(out == "x{\"amount_minor\":\"-5\"}");
  }
}
