#pragma once
// Where a virtual shard is served, as this node sees it (the cluster's answer to the
// runtime's "where does this command go?"; docs/cluster.md).

#include <cstdint>

namespace ordo {

enum class shard_route : uint8_t {
  local,   // this node owns and serves it
  remote,  // another node owns it: forward
  moving,  // this node is handing it to another: refuse with retry-later, never serve
  unknown, // a joining node that has not learned the owners yet: retry later
};

} // namespace ordo
