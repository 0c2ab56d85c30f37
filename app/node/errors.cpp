#include "app/node/errors.hpp"

#include <caf/atom.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "storage/errors.hpp"

namespace ordo::node {

namespace {
const caf::atom_value node_atom = caf::atom("node");

const char* name(node_errc c) {
  switch (c) {
  case node_errc::config_invalid:
    return "config_invalid";
  case node_errc::listen_failed:
    return "listen_failed";
  case node_errc::start_failed:
    return "start_failed";
  }
  return "node_error";
}
} // namespace

caf::error make_error(node_errc c, std::string message) {
  return caf::error{static_cast<uint8_t>(c), node_atom, caf::make_message(std::move(message))};
}

std::string describe(const caf::error& err) {
  if (!err) return "ok";
  if (err.category() != node_atom) return storage::describe(err);
  std::string msg;
  const auto& ctx = err.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0)) msg = ctx.get_as<std::string>(0);
  return std::string{name(static_cast<node_errc>(err.code()))} + ": " + msg;
}

} // namespace ordo::node
