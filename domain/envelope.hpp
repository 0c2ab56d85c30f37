#pragma once
// Envelope compatibility: what this build accepts, refuses, or keeps without applying.
// See messages/README.md ("Reading newer data") for the full policy.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/validation.hpp"
#include "ordo/v1/envelope.pb.h"

namespace ordo::domain {

/// The schema revision this build writes and fully understands.
inline constexpr uint32_t schema_version_current = 1;
/// The oldest revision this build can still read (upcasting covers the gap).
inline constexpr uint32_t schema_version_oldest = 1;

/// Commands: refused (UNSUPPORTED_SCHEMA_VERSION) when newer than this build, older than
/// we upcast, or with a payload this build cannot decode (UNKNOWN_COMMAND); also checks
/// entity type and id agree with the payload.
field_error check_command_envelope(const v1::Envelope& envelope);

enum class event_disposition : uint8_t {
  apply, // evolve() it
  hold,  // keep the stored bytes, do not apply; the entity refuses commands until upgrade
};

/// Events read back from the log: newer schema or an unknown payload case means `hold`.
event_disposition classify_event(const v1::Envelope& envelope);

enum class event_read_errc : uint8_t {
  malformed = 1,  // not an Envelope, or one carrying no event
  schema_too_new, // classify_event says hold: a newer revision or an event case unknown here
};

struct event_read_error {
  event_read_errc code = event_read_errc::malformed;
  std::string message;
};

/// An event as the log stores it (Envelope bytes), read back: parsed, classified, and its
/// event upcast to the current shape (upcast.hpp), ready for evolve().
std::variant<v1::Envelope, event_read_error> read_event(std::string_view bytes);

/// The same for an envelope already parsed (e.g. into an arena): classified and upcast in
/// place; an error when it carries no event or one this build cannot read.
std::optional<event_read_error> check_event(v1::Envelope& envelope);

} // namespace ordo::domain
