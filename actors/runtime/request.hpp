#pragma once
// One command travelling through the runtime, with the completion that answers it.
//
// A request is shared (runtime → shard → entity actor → journal callback) and answered
// exactly once. If every holder drops it unanswered — an actor died in a way it could not
// report — the destructor answers `failed / actor_stopped` (unknown whether applied), so a
// caller is never left waiting forever.

#include <atomic>
#include <functional>
#include <memory>

#include "ordo/outcome.hpp"
#include "ordo/v1/envelope.pb.h"

namespace ordo {

class request {
public:
  request(v1::Envelope command, completion done)
      : command_(std::move(command)), done_(std::move(done)) {}
  request(const request&) = delete;
  request& operator=(const request&) = delete;
  ~request();

  /// Answers the request; later calls are ignored (the first answer wins).
  void answer(outcome o);

  bool answered() const { return answered_.load(); }
  const v1::Envelope& command() const { return command_; }
  /// Only the shard that assigns a new order's id changes the command, before forwarding it.
  v1::Envelope& mutable_command() { return command_; }
  const std::string& entity_id() const { return command_.entity_id(); }
  const std::string& idempotency_key() const { return command_.idempotency_key(); }

  /// How many activations crashed while handling this request (supervision).
  int crashes = 0;

private:
  v1::Envelope command_; // entity type and id, idempotency key, correlation, the command
  completion done_;
  std::atomic<bool> answered_{false};
};

using request_ptr = std::shared_ptr<request>;

} // namespace ordo
