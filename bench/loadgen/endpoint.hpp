// The node's resolved address, shared by the workers and the blocking client.
#pragma once

#include <sys/socket.h>

namespace ordo::loadgen {

struct endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

} // namespace ordo::loadgen
