// Internal: the small steps shard export and import share (transfer_export.cpp, transfer_import.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "storage/codec.hpp"
#include "storage/errors.hpp"
#include "storage/journal.hpp"
#include "storage/lmdb_util.hpp"

namespace ordo::storage::transfer {

inline caf::error bad(std::string what) {
  return make_error(storage_errc::invalid_argument, std::move(what));
}

// created_ms and result of a sealed idem value; nullopt if damaged.
inline std::optional<std::pair<uint64_t, std::string_view>> idem_body(std::string_view key,
                                                                      std::string_view value) {
  auto body = codec::unseal(key, value);
  if (!body || body->size() < 8) return std::nullopt;
  return std::pair{codec::get_u64(*body, 0), body->substr(8)};
}

// Appends every durable timer of `entity` to `out.timers`, checked against the timers table
// (transfer_export.cpp; the import compares a moving entity's timers with them).
caf::error read_timers_of(MDB_txn* t, const lmdb::tables& db, std::string_view entity,
                          entity_records& out);

} // namespace ordo::storage::transfer
