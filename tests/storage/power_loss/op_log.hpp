#pragma once
// Reading the op log that power_shim.c writes (format: power_log.h).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "power_log.h"

namespace ordo::storage::power {

struct op {
  pl_type type = PL_OPEN;
  uint32_t file = 0;
  uint64_t a = 0, b = 0;
  uint32_t tid = 0;
  std::string_view data; // points into op_log::bytes
};

struct op_log {
  std::shared_ptr<const std::string> bytes; // the whole file; ops' data point into it
  std::vector<op> ops;
  bool truncated_tail = false; // the last record was cut short (writer killed mid-record)
};

/// Reads a whole log. On failure returns nullopt and sets `error`.
std::optional<op_log> read_op_log(const std::string& path, std::string& error);

/// A point after which more is durable: fsync, fdatasync, directory sync, sync(), or a write
/// that was durable at completion (O_DSYNC).
bool is_sync_point(const op& o);

/// One line for dumps and failure reports.
std::string describe(const op& o);

} // namespace ordo::storage::power
