#pragma once
// Signing a payment webhook, as a provider does (the scheme: webhook_signature.hpp). Header
// only, OpenSSL's libcrypto and fmt: the node checks with it, tests and ordo-loadgen sign.

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace ordo::node {

/// Lowercase hex of HMAC-SHA256(secret, message).
inline std::string hmac_sha256_hex(std::string_view secret, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i)
    fmt::format_to(std::back_inserter(hex), "{:02x}", mac[i]);
  return hex;
}

/// The Ordo-Signature header value for `body` sent at `unix_seconds`: "t=<s>,v1=<hex>".
inline std::string sign_webhook(std::string_view secret, int64_t unix_seconds,
                                std::string_view body) {
  return fmt::format("t={},v1={}", unix_seconds,
                     hmac_sha256_hex(secret, fmt::format("{}.{}", unix_seconds, body)));
}

} // namespace ordo::node
