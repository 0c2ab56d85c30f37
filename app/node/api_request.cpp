#include "app/node/api_request.hpp"

#include <atomic>
#include <random>

#include <fmt/core.h>

#include "app/node/api_answers.hpp"
#include "domain/validation.hpp"

namespace ordo::node {

std::vector<std::string_view> split_path(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '/') {
      ++i;
      continue;
    }
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    parts.push_back(p.substr(i, j - i));
    i = j;
  }
  return parts;
}

std::string_view query_param(std::string_view q, std::string_view name) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    auto kv = q.substr(0, amp);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string_view::npos ? "" : kv.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

std::optional<http_response> check_idempotency_key(const http_request& r) {
  auto k = r.header("idempotency-key");
  bool visible = true;
  for (unsigned char c : k)
    visible = visible && c >= 0x21 && c <= 0x7e;
  if (k.size() <= idempotency_key_bytes_max && visible) return std::nullopt;
  return error(400, "invalid_idempotency_key",
               fmt::format("Idempotency-Key must be 1..{} bytes of visible ASCII (0x21-0x7E); "
                           "got {} bytes{}",
                           idempotency_key_bytes_max, k.size(),
                           visible ? "" : " with other characters"));
}

std::string command_key(const http_request& r, const principal& who) {
  auto k = r.header("idempotency-key");
  if (!k.empty()) return who.name + ":" + std::string{k};
  // Without a key a command still needs a unique one (the journal stores one per command);
  // it is then simply a new command on every try.
  static std::atomic<uint64_t> n{0};
  static const uint64_t boot = std::random_device{}();
  return fmt::format("auto:{:x}:{}", boot, n.fetch_add(1));
}

std::optional<http_response> check_sku(std::string_view sku) {
  if (auto e = domain::check_id("sku", sku)) return error(400, "invalid_sku", e->message());
  return std::nullopt;
}

} // namespace ordo::node
