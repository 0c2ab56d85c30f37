#pragma once
// Structured, greppable logs: one line per event in logfmt, on stderr.
//
//   ts=2026-11-29T07:01:02.345Z level=info event=http_listening addr=127.0.0.1:8080
//
// `event` is a fixed snake_case name per kind of line (grep for it); values with spaces or
// quotes are quoted. Secrets (API keys) are never passed here: callers log the key's name.

#include <atomic>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "app/node/config.hpp"

namespace ordo::node::log {

using field = std::pair<std::string_view, std::string>;

void set_level(log_level l);
bool enabled(log_level l);

/// Writes one line (atomically with respect to other log lines).
void write(log_level l, std::string_view event, std::initializer_list<field> fields = {});

inline void info(std::string_view event, std::initializer_list<field> f = {}) {
  write(log_level::info, event, f);
}
inline void warn(std::string_view event, std::initializer_list<field> f = {}) {
  write(log_level::warn, event, f);
}
inline void error(std::string_view event, std::initializer_list<field> f = {}) {
  write(log_level::error, event, f);
}
inline void debug(std::string_view event, std::initializer_list<field> f = {}) {
  if (enabled(log_level::debug)) write(log_level::debug, event, f);
}

} // namespace ordo::node::log
