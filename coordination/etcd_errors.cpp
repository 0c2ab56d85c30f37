#include "coordination/etcd_errors.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace ordo::coordination {

namespace {
const caf::atom_value etcd_atom = caf::atom("etcd");
}

std::string to_string(etcd_errc c) {
  switch (c) {
  case etcd_errc::invalid_argument:
    return "invalid_argument";
  case etcd_errc::unreachable:
    return "unreachable";
  case etcd_errc::timeout:
    return "timeout";
  case etcd_errc::unavailable:
    return "unavailable";
  case etcd_errc::lease_not_found:
    return "lease_not_found";
  case etcd_errc::compacted:
    return "compacted";
  case etcd_errc::rejected:
    return "rejected";
  case etcd_errc::bad_answer:
    return "bad_answer";
  }
  return "unknown_etcd_error";
}

caf::error make_error(etcd_errc c, std::string context) {
  return caf::error{static_cast<uint8_t>(c), etcd_atom, caf::make_message(std::move(context))};
}

caf::error make_compacted_error(std::string context, int64_t compact_revision) {
  return caf::error{static_cast<uint8_t>(etcd_errc::compacted), etcd_atom,
                    caf::make_message(std::move(context), compact_revision)};
}

std::optional<etcd_errc> etcd_errc_of(const caf::error& err) {
  if (!err || err.category() != etcd_atom) return std::nullopt;
  return static_cast<etcd_errc>(err.code());
}

std::string describe(const caf::error& err) {
  if (!err) return "ok";
  auto code = etcd_errc_of(err);
  if (!code) return caf::to_string(err);
  const auto& ctx = err.context();
  std::string text =
      ctx.size() >= 1 && ctx.match_element<std::string>(0) ? ctx.get_as<std::string>(0) : "";
  return text.empty() ? to_string(*code) : to_string(*code) + ": " + text;
}

std::optional<int64_t> compact_revision(const caf::error& err) {
  if (etcd_errc_of(err) != etcd_errc::compacted) return std::nullopt;
  const auto& ctx = err.context();
  if (ctx.size() >= 2 && ctx.match_element<int64_t>(1)) return ctx.get_as<int64_t>(1);
  return std::nullopt;
}

} // namespace ordo::coordination
