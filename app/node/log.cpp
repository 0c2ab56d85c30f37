#include "app/node/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <fmt/core.h>

namespace ordo::node::log {

namespace {
std::atomic<int> threshold{static_cast<int>(log_level::info)};
std::mutex out_mu;

// logfmt quoting: bare when the value has no space, quote, '=' or control character.
void append_value(std::string& line, const std::string& v) {
  bool bare = !v.empty();
  for (unsigned char c : v)
    if (c <= ' ' || c == '"' || c == '=' || c == '\\') bare = false;
  if (bare) {
    line += v;
    return;
  }
  line += '"';
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += static_cast<char>(c);
    } else if (c == '\n') {
      line += "\\n";
    } else if (c < ' ') {
      line += fmt::format("\\x{:02x}", c);
    } else {
      line += static_cast<char>(c);
    }
  }
  line += '"';
}
} // namespace

void set_level(log_level l) {
  threshold = static_cast<int>(l);
}
bool enabled(log_level l) {
  return static_cast<int>(l) >= threshold.load();
}

void write(log_level l, std::string_view event, std::initializer_list<field> fields) {
  if (!enabled(l)) return;
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::string line = fmt::format("ts={:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z level={} event={}",
                                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                 tm.tm_min, tm.tm_sec, ms.count(), to_string(l), event);
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += k;
    line += '=';
    append_value(line, v);
  }
  line += '\n';
  std::lock_guard<std::mutex> g{out_mu};
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace ordo::node::log
