#pragma once
// The HTTP/1.1 listener behind the API: keep-alive, limits on connections, head and body
// size, idle/slow-client timeouts; requests are handed to a handler that answers later from
// any thread (commands answer after their commit). The library behind it is chosen in
// docs/dependencies.md and hidden in http_server.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <caf/expected.hpp>

#include "app/node/config.hpp"
#include "app/node/http_types.hpp"
#include "app/node/metrics.hpp"

namespace ordo::node {

using http_handler = std::function<void(http_request, responder)>;

class http_server {
public:
  /// Binds cfg.listen and starts cfg.threads I/O threads. Errors: listen_failed, naming the
  /// address and the reason.
  static caf::expected<std::unique_ptr<http_server>> start(const http_config& cfg,
                                                           http_handler handler, metrics& m);
  virtual ~http_server() = default;

  /// The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  /// Stops accepting connections and new requests; requests already received still answer.
  virtual void stop_accepting() = 0;
  /// Requests received and not yet answered.
  virtual size_t in_flight() const = 0;
  /// Closes every connection and stops the threads (after draining).
  virtual void stop() = 0;
};

} // namespace ordo::node
