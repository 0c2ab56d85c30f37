// Fuzz target: the journal's record codec (storage/codec.hpp) — the bytes LMDB hands back for
// log records, index entries, sealed values, pair keys and consumer offsets.
//
// Input: mode(1) key_len(1) key value. With bit 0 of mode set, the value is sealed for the key
// first (a correct crc32c), so the decoders get past the checksum to the layouts behind it.
// Checks: nothing crashes; whatever decodes re-encodes to exactly the bytes it came from
// (a record is never accepted in a form the writer would not produce).
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "storage/codec.hpp"
#include "storage/store_ops.hpp"

namespace codec = ordo::storage::codec;
using ordo::fuzz::shown;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ordo::fuzz::input in{data, size};
  const uint8_t mode = in.byte();
  const std::string key{in.take(in.byte())};
  const std::string body{in.rest()};
  const std::string value = (mode & 1) != 0 ? codec::seal(key, body) : body;

  if (auto b = codec::unseal(key, value)) {
    FUZZ_CHECK(codec::seal(key, *b) == value, "unseal/seal: " + shown(value));
    FUZZ_CHECK(codec::sealed_crc(value) == codec::get_u32(value, 0), "sealed_crc");
  }

  if (auto r = codec::decode_log(key, value)) {
    FUZZ_CHECK(!r->entity.empty() && r->entity.size() <= 255, "log entity size");
    FUZZ_CHECK(r->crc == codec::sealed_crc(value), "log crc");
    FUZZ_CHECK(codec::encode_log(key, r->prev_crc, r->seq, r->entity, r->payload) == value,
               "log record re-encodes differently: " + shown(value));
  }

  if (auto iv = codec::decode_index(key, value))
    FUZZ_CHECK(codec::encode_index(key, iv->position, iv->rec_crc) == value,
               "index entry re-encodes differently: " + shown(value));

  // Pair keys (idempotency, timer ids) and timer keys come back from LMDB as keys.
  if (auto p = codec::split_pair_key(key))
    FUZZ_CHECK(codec::pair_key(p->first, p->second) == key, "pair key: " + shown(key));
  if (key.size() >= 10)
    if (auto p = codec::split_pair_key(std::string_view{key}.substr(8)))
      FUZZ_CHECK(codec::timer_key(codec::get_u64(key, 0), p->first, p->second) == key,
                 "timer key: " + shown(key));

  if (auto pos = ordo::storage::ops::decode_offset(key, value))
    FUZZ_CHECK(codec::seal(key, codec::u64_key(*pos)) == value, "offset: " + shown(value));
  return 0;
}
