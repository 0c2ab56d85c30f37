// The ack log: one "<order_id> <idempotency_key>" line per 2xx placement, so a crash test can
// check afterwards that every order the node acknowledged is still there. Shared by the
// worker threads; lines are buffered and flushed every second and on close.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace ordo::loadgen {

class ack_log {
public:
  ack_log() = default;
  ack_log(const ack_log&) = delete;
  ack_log& operator=(const ack_log&) = delete;
  ~ack_log() { close(); }

  // Opens `path` for appending; false with `error` set on failure.
  bool open(const std::string& path, std::string& error);
  bool is_open() const { return file_ != nullptr; }
  void append(std::string_view order_id, std::string_view idempotency_key);
  void flush();
  void close();

private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
};

} // namespace ordo::loadgen
