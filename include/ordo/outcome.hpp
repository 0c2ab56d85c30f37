#pragma once
// The answer to one submitted command, as a host application sees it.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ordo/v1/envelope.pb.h"

namespace ordo {

enum class outcome_status : uint8_t {
  accepted,   // events committed (durably, per the configured sync) before this answer
  rejected,   // the domain refused the command; nothing changed. The refusal is recorded
              // under the idempotency key, so a retry gets the same answer
  overloaded, // a bounded queue was full: nothing was done; retry later with the same key
  failed,     // an error (storage full, I/O failure, quarantined entity, shutting down ...)
};

const char* to_string(outcome_status s);

struct outcome {
  outcome_status status = outcome_status::failed;
  std::string entity_id;  // the order (or SKU) the command went to; new orders learn theirs
  uint64_t first_seq = 0; // sequences of the committed events (accepted with events)
  uint64_t last_seq = 0;
  bool duplicate = false; // the stored first answer to a retried idempotency key
  std::string code;       // rejection or error code, e.g. "INVALID_TRANSITION", "storage_full"
  std::string message;    // names the field, state or resource behind the problem
  std::vector<v1::Envelope> events; // the committed events (accepted, first answer only)
  // The command may or may not have been applied (the actor stopped, the node shut down
  // mid-commit): retry with the same idempotency key to learn the answer.
  bool unknown_if_applied = false;

  bool ok() const { return status == outcome_status::accepted; }
};

/// Receives the answer to a command; called exactly once, on a runtime thread.
using completion = std::function<void(outcome)>;

/// A failed outcome with an error code and a message naming the problem.
outcome failure(std::string code, std::string message, bool unknown_if_applied = false);

/// The "retry later" outcome of a full bounded queue.
outcome overloaded(std::string what);

} // namespace ordo
