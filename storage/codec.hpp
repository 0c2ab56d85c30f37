#pragma once
// Byte layouts of keys and values. Integers in keys are big-endian so LMDB's byte order is
// numeric order. Every value is "sealed": crc32c(key || body) (4 bytes, big-endian) || body, so
// a value moved under another key, or damaged in place, fails its check.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ordo::storage::codec {

void put_u64(std::string& out, uint64_t v);
void put_u32(std::string& out, uint32_t v);
uint64_t get_u64(std::string_view bytes, size_t at);
uint32_t get_u32(std::string_view bytes, size_t at);
std::string u64_key(uint64_t v);

/// len(1) || entity: keeps all keys of one entity contiguous whatever their suffix.
std::string entity_prefix(std::string_view entity);
std::string index_key(std::string_view entity, uint64_t seq);
/// entity||key for idem / entity||timer_id for timer_ids (both length-prefixed).
std::string pair_key(std::string_view entity, std::string_view second);
/// Splits a pair_key back; nullopt if malformed.
std::optional<std::pair<std::string_view, std::string_view>> split_pair_key(std::string_view k);
std::string timer_key(uint64_t due_ms, std::string_view entity, std::string_view timer_id);
std::string expiry_key(uint64_t created_ms, std::string_view entity, std::string_view key);

std::string seal(std::string_view key, std::string_view body);
/// The crc a sealed value carries (first 4 bytes), 0 if too short.
uint32_t sealed_crc(std::string_view value);
/// The body if the crc matches, nullopt otherwise.
std::optional<std::string_view> unseal(std::string_view key, std::string_view value);

/// A log record: the event and where it belongs. Body = prev_crc(4) seq(8) elen(1) entity payload.
struct log_record {
  uint32_t crc = 0;
  uint32_t prev_crc = 0; // crc of the entity's previous event record, 0 for seq 1
  uint64_t seq = 0;
  std::string_view entity;
  std::string_view payload;
};
std::string encode_log(std::string_view pos_key, uint32_t prev_crc, uint64_t seq,
                       std::string_view entity, std::string_view payload);
std::optional<log_record> decode_log(std::string_view pos_key, std::string_view value);

/// An index value: log position and the record's crc. Body = pos(8) rec_crc(4).
struct index_value {
  uint64_t position = 0;
  uint32_t rec_crc = 0;
};
std::string encode_index(std::string_view key, uint64_t position, uint32_t rec_crc);
std::optional<index_value> decode_index(std::string_view key, std::string_view value);

} // namespace ordo::storage::codec
