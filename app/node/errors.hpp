#pragma once
// The node's error values (caf::error, category atom "node"): config and startup problems.

#include <cstdint>
#include <string>

#include <caf/error.hpp>

namespace ordo::node {

enum class node_errc : uint8_t {
  config_invalid = 1, // a config file or override is malformed, unknown or out of range
  listen_failed,      // the HTTP listener could not be opened (address in use, bad address)
  start_failed,       // the runtime could not start (the message says why)
};

caf::error make_error(node_errc c, std::string message);

/// "config_invalid: node.toml:7: http.listen: ...", for logs and stderr.
std::string describe(const caf::error& err);

} // namespace ordo::node
