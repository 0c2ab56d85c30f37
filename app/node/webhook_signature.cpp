#include "app/node/webhook_signature.hpp"

#include <charconv>

#include <fmt/core.h>
#include <openssl/crypto.h>

#include "app/node/api_answers.hpp"

namespace ordo::node {

namespace {

http_response refused(std::string_view code, std::string message) {
  return error(401, code, message);
}

// "t=1700000000,v1=ab12..." → the two values ("" when absent).
std::pair<std::string_view, std::string_view> parse_header(std::string_view h) {
  std::string_view t, v1;
  while (!h.empty()) {
    auto comma = h.find(',');
    auto part = h.substr(0, comma);
    if (part.substr(0, 2) == "t=") t = part.substr(2);
    if (part.substr(0, 3) == "v1=") v1 = part.substr(3);
    if (comma == std::string_view::npos) break;
    h.remove_prefix(comma + 1);
  }
  return {t, v1};
}

} // namespace

std::optional<http_response> check_webhook_signature(const http_request& r,
                                                     const payments_config& cfg,
                                                     std::chrono::system_clock::time_point now) {
  if (cfg.webhook_secret.empty()) return std::nullopt;
  auto header = r.header("ordo-signature");
  if (header.empty())
    return refused("missing_signature",
                   "POST /v1/webhooks/payment needs Ordo-Signature: t=<unix seconds>,v1=<hex "
                   "HMAC-SHA256 of \"<t>.<body>\">");
  auto [t_text, given] = parse_header(header);
  int64_t t = 0;
  auto [end, ec] = std::from_chars(t_text.data(), t_text.data() + t_text.size(), t);
  if (t_text.empty() || ec != std::errc{} || end != t_text.data() + t_text.size() ||
      given.size() != 64)
    return refused("malformed_signature",
                   "Ordo-Signature must be t=<unix seconds>,v1=<64 hex digits>");
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const int64_t skew = now_s > t ? now_s - t : t - now_s;
  if (skew > cfg.tolerance.count())
    return refused("stale_signature",
                   fmt::format("Ordo-Signature timestamp {} is {} s from the node's clock "
                               "(payments.webhook_tolerance = {} s)",
                               t, skew, cfg.tolerance.count()));
  auto expected = hmac_sha256_hex(cfg.webhook_secret, fmt::format("{}.{}", t_text, r.body));
  if (CRYPTO_memcmp(expected.data(), given.data(), expected.size()) != 0)
    return refused("invalid_signature", "Ordo-Signature does not match the body");
  return std::nullopt;
}

} // namespace ordo::node
