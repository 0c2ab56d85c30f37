#include "storage/codec.hpp"

#include "storage/check.hpp"
#include "storage/crc32c.hpp"

namespace ordo::storage::codec {

void put_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i)
    out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}

uint64_t get_u64(std::string_view b, size_t at) {
  ORDO_STORAGE_CHECK(b.size() >= at + 8, "get_u64 past end ({} < {})", b.size(), at + 8);
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

uint32_t get_u32(std::string_view b, size_t at) {
  ORDO_STORAGE_CHECK(b.size() >= at + 4, "get_u32 past end ({} < {})", b.size(), at + 4);
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

std::string u64_key(uint64_t v) {
  std::string k;
  put_u64(k, v);
  return k;
}

std::string entity_prefix(std::string_view entity) {
  ORDO_STORAGE_CHECK(!entity.empty() && entity.size() <= 255, "entity size {}", entity.size());
  std::string k;
  k.reserve(entity.size() + 9);
  k.push_back(static_cast<char>(entity.size()));
  k.append(entity);
  return k;
}

std::string index_key(std::string_view entity, uint64_t seq) {
  auto k = entity_prefix(entity);
  put_u64(k, seq);
  return k;
}

std::string pair_key(std::string_view entity, std::string_view second) {
  auto k = entity_prefix(entity);
  k.append(second);
  return k;
}

std::optional<std::pair<std::string_view, std::string_view>> split_pair_key(std::string_view k) {
  if (k.empty()) return std::nullopt;
  size_t n = static_cast<unsigned char>(k[0]);
  if (n == 0 || k.size() < 1 + n) return std::nullopt;
  return std::pair{k.substr(1, n), k.substr(1 + n)};
}

std::string timer_key(uint64_t due_ms, std::string_view entity, std::string_view timer_id) {
  std::string k;
  put_u64(k, due_ms);
  k.append(pair_key(entity, timer_id));
  return k;
}

std::string expiry_key(uint64_t created_ms, std::string_view entity, std::string_view key) {
  std::string k;
  put_u64(k, created_ms);
  k.append(pair_key(entity, key));
  return k;
}

namespace {

// Fills the 4-byte crc placeholder at the front of `v` (crc over key || v[4..]).
void seal_in_place(std::string_view key, std::string& v) {
  uint32_t c = crc32c(crc32c(key), std::string_view(v).substr(4));
  for (int i = 0; i < 4; ++i)
    v[static_cast<size_t>(i)] = static_cast<char>((c >> (24 - 8 * i)) & 0xFF);
}

} // namespace

std::string seal(std::string_view key, std::string_view body) {
  std::string v;
  v.reserve(body.size() + 4);
  v.append(4, '\0');
  v.append(body);
  seal_in_place(key, v);
  return v;
}

uint32_t sealed_crc(std::string_view value) {
  return value.size() < 4 ? 0 : get_u32(value, 0);
}

std::optional<std::string_view> unseal(std::string_view key, std::string_view value) {
  if (value.size() < 4) return std::nullopt;
  auto body = value.substr(4);
  if (get_u32(value, 0) != crc32c(crc32c(key), body)) return std::nullopt;
  return body;
}

std::string encode_log(std::string_view pos_key, uint32_t prev_crc, uint64_t seq,
                       std::string_view entity, std::string_view payload) {
  std::string v;
  v.reserve(17 + entity.size() + payload.size());
  v.append(4, '\0');
  put_u32(v, prev_crc);
  put_u64(v, seq);
  v.push_back(static_cast<char>(entity.size()));
  v.append(entity);
  v.append(payload);
  seal_in_place(pos_key, v);
  return v;
}

std::optional<log_record> decode_log(std::string_view pos_key, std::string_view value) {
  auto body = unseal(pos_key, value);
  if (!body || body->size() < 13) return std::nullopt;
  size_t n = static_cast<unsigned char>((*body)[12]);
  if (n == 0 || body->size() < 13 + n) return std::nullopt;
  log_record r;
  r.crc = sealed_crc(value);
  r.prev_crc = get_u32(*body, 0);
  r.seq = get_u64(*body, 4);
  r.entity = body->substr(13, n);
  r.payload = body->substr(13 + n);
  return r;
}

std::string encode_index(std::string_view key, uint64_t position, uint32_t rec_crc) {
  std::string body;
  put_u64(body, position);
  put_u32(body, rec_crc);
  return seal(key, body);
}

std::optional<index_value> decode_index(std::string_view key, std::string_view value) {
  auto body = unseal(key, value);
  if (!body || body->size() != 12) return std::nullopt;
  return index_value{get_u64(*body, 0), get_u32(*body, 8)};
}

} // namespace ordo::storage::codec
