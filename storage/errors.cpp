#include "storage/errors.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace ordo::storage {

namespace {
const caf::atom_value storage_atom = caf::atom("storage");
}

std::string to_string(storage_errc c) {
  switch (c) {
  case storage_errc::invalid_argument:
    return "invalid_argument";
  case storage_errc::sequence_conflict:
    return "sequence_conflict";
  case storage_errc::duplicate:
    return "duplicate";
  case storage_errc::record_too_large:
    return "record_too_large";
  case storage_errc::overloaded:
    return "overloaded";
  case storage_errc::storage_full:
    return "storage_full";
  case storage_errc::io_error:
    return "io_error";
  case storage_errc::failed:
    return "failed";
  case storage_errc::corrupted:
    return "corrupted";
  case storage_errc::truncated:
    return "truncated";
  case storage_errc::format_too_new:
    return "format_too_new";
  case storage_errc::closed:
    return "closed";
  case storage_errc::lmdb_error:
    return "lmdb_error";
  case storage_errc::locked:
    return "locked";
  }
  return "unknown_storage_error";
}

caf::error make_error(storage_errc c, std::string context) {
  return caf::error{static_cast<uint8_t>(c), storage_atom, caf::make_message(std::move(context))};
}

caf::error make_duplicate_error(std::string context, std::string stored_result) {
  return caf::error{static_cast<uint8_t>(storage_errc::duplicate), storage_atom,
                    caf::make_message(std::move(context), std::move(stored_result))};
}

std::optional<storage_errc> storage_errc_of(const caf::error& err) {
  if (!err || err.category() != storage_atom) return std::nullopt;
  return static_cast<storage_errc>(err.code());
}

std::string error_context(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0)) return ctx.get_as<std::string>(0);
  return {};
}

std::string describe(const caf::error& err) {
  if (!err) return "ok";
  auto code = storage_errc_of(err);
  if (!code) return caf::to_string(err);
  auto ctx = error_context(err);
  return ctx.empty() ? to_string(*code) : to_string(*code) + ": " + ctx;
}

std::optional<std::string> duplicate_result(const caf::error& err) {
  if (storage_errc_of(err) != storage_errc::duplicate) return std::nullopt;
  const auto& ctx = err.context();
  if (ctx.size() >= 2 && ctx.match_element<std::string>(1)) return ctx.get_as<std::string>(1);
  return std::nullopt;
}

} // namespace ordo::storage
