#pragma once
// Checks shared by the targets that decode Protobuf messages (envelope, snapshot, cluster
// messages): a decoded message encodes and decodes back to itself, and its JSON form — the
// API prints envelopes and states with messages/json/json.hpp — is protobuf's own, byte for byte,
// and parses back to the same message.

#include <memory>
#include <string>

#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "messages/json/json.hpp"
#include "fuzz/fuzz_support.hpp"

namespace ordo::fuzz {

namespace pb = google::protobuf;

// Protobuf logs every string with invalid UTF-8 it refuses; a fuzzer makes thousands.
inline void quiet_log(pb::LogLevel, const char*, int, const std::string&) {}
inline const bool protobuf_log_quiet = (pb::SetLogHandler(&quiet_log), true);

inline bool same(const pb::Message& a, const pb::Message& b) {
  return pb::util::MessageDifferencer::Equals(a, b);
}

inline std::unique_ptr<pb::Message> blank(const pb::Message& like) {
  return std::unique_ptr<pb::Message>(like.New());
}

/// `m` (just parsed from bytes) serializes to bytes that parse back to an equal message.
inline void check_binary_round_trip(const pb::Message& m) {
  std::string bytes;
  FUZZ_CHECK(m.SerializeToString(&bytes), m.GetTypeName() + ": does not serialize");
  auto back = blank(m);
  FUZZ_CHECK(back->ParseFromString(bytes), m.GetTypeName() + ": own bytes do not parse");
  FUZZ_CHECK(same(m, *back), m.GetTypeName() + ": binary round trip differs");
}

/// The API's JSON of `m` is byte for byte protobuf's JSON of it.
inline std::string check_print(const pb::Message& m) {
  const std::string text = ordo::json::print(m);
  pb::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  std::string theirs;
  FUZZ_CHECK(pb::util::MessageToJsonString(m, &theirs, o).ok(),
             m.GetTypeName() + ": protobuf cannot print it");
  FUZZ_CHECK(text == theirs, m.GetTypeName() + ": json::print differs from protobuf:\n  ours   " +
                                 shown(text) + "\n  theirs " + shown(theirs));
  return text;
}

/// `m`'s JSON (= protobuf's) parses back to `m` less its unknown fields, which JSON does not
/// carry; so does that message's JSON in turn (a stable round trip). Map entries may print in
/// another order the second time (protobuf prints them in its hash map's order), so the
/// second round compares messages, not text.
inline void check_json_round_trip(const pb::Message& m) {
  auto known = blank(m);
  known->CopyFrom(m);
  known->DiscardUnknownFields();
  const pb::Message* from = &m;
  std::unique_ptr<pb::Message> back;
  for (int round = 1; round <= 2; ++round) {
    const std::string text = check_print(*from);
    back = blank(m);
    const std::string err = ordo::json::parse(text, *back);
    FUZZ_CHECK(err.empty(), m.GetTypeName() + ": own JSON refused: " + err + "\n  " + shown(text));
    FUZZ_CHECK(same(*known, *back), m.GetTypeName() + ": JSON round trip " +
                                        std::to_string(round) + " differs: " + shown(text));
    known = std::move(back);
    from = known.get();
  }
}

/// Parses `bytes` as `m`'s type; on success runs both round trips. Returns whether it parsed.
inline bool decode_and_check(std::string_view bytes, pb::Message& m) {
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  check_binary_round_trip(m);
  check_json_round_trip(m);
  return true;
}

} // namespace ordo::fuzz
