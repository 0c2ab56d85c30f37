#pragma once
// The HTTP/1.1 listener behind the API: keep-alive, limits on connections, head and body
// size, idle/slow-client timeouts; requests are handed to a handler that answers later from
// any thread (commands answer after their commit). The library behind it is chosen in
// docs/dependencies.md and hidden in http_server.cpp and http_request_parse.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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

/// What a connection makes of the bytes it received: the same parser, limits, conversion and
/// error answers as the server, only without the socket. For tests and the fuzzer
/// (fuzz/http_request.cpp). The bytes arrive in reads of at most 64 KiB, the first one
/// `first_read_bytes` long (a request split by the network must parse the same); after the
/// last byte the client closes its side.
struct parsed_request {
  bool complete = false;                // a whole request: `request` holds it
  std::optional<http_response> refusal; // else the answer sent before closing (431, 413, 400)
  http_request request;
  bool keep_alive = false;
  size_t consumed = 0; // bytes of the input taken by this request (a pipelined next one stays)
};
parsed_request parse_request(std::string_view bytes, const http_config& cfg,
                             size_t first_read_bytes = 65'536);

} // namespace ordo::node
