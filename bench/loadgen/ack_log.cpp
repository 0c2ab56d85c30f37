#include "ack_log.hpp"

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace ordo::loadgen {

bool ack_log::open(const std::string& path, std::string& error) {
  file_ = std::fopen(path.c_str(), "a");
  if (file_ == nullptr) {
    error = fmt::format("cannot open ack log {}: {}", path, std::strerror(errno));
    return false;
  }
  return true;
}

void ack_log::append(std::string_view order_id, std::string_view idempotency_key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr) fmt::print(file_, "{} {}\n", order_id, idempotency_key);
}

void ack_log::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr) std::fflush(file_);
}

void ack_log::close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

} // namespace ordo::loadgen
