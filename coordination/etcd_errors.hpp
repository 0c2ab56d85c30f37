#pragma once
// The etcd client's error codes as values (caf::error, category atom "etcd"). When each one
// happens, and whether the request may have been applied, is part of the contract in
// etcd_client.hpp.

#include <cstdint>
#include <optional>
#include <string>

#include <caf/error.hpp>

namespace ordo::coordination {

enum class etcd_errc : uint8_t {
  invalid_argument =
      1,           // refused before sending (empty key, TTL < 1, ...) or etcd's InvalidArgument
  unreachable,     // no endpoint accepted a connection in time: nothing was sent
  timeout,         // sent, but no whole answer in time: the outcome is unknown
  unavailable,     // etcd answered Unavailable or DeadlineExceeded: the outcome is unknown
  lease_not_found, // the lease does not exist (expired or revoked)
  compacted,       // the revision asked for is below etcd's compaction
  rejected,        // any other status etcd answered with (the context has code and message)
  bad_answer,      // the answer was not what the gateway sends (HTTP, JSON, size)
};

std::string to_string(etcd_errc c);

/// The caf::error for `c`; `context` says which call, which endpoint, and etcd's message.
caf::error make_error(etcd_errc c, std::string context = {});

/// The etcd code carried by `err`, or nothing when `err` is not an etcd error.
std::optional<etcd_errc> etcd_errc_of(const caf::error& err);

/// "code: context", e.g. "lease_not_found: keep_alive of lease 7: ...".
std::string describe(const caf::error& err);

/// For a `compacted` error from a watch: etcd's compaction revision (watch again from it).
std::optional<int64_t> compact_revision(const caf::error& err);

/// A `compacted` error carrying etcd's compaction revision.
caf::error make_compacted_error(std::string context, int64_t compact_revision);

} // namespace ordo::coordination
