#include "app/node/auth.hpp"

#include <string>

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace ordo::node {

namespace {

std::array<unsigned char, 32> digest_of(std::string_view text) {
  std::array<unsigned char, 32> d{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
  return d;
}

std::array<unsigned char, 32> from_hex(const std::string& hex) {
  std::array<unsigned char, 32> d{};
  for (size_t i = 0; i < d.size() && 2 * i + 1 < hex.size(); ++i)
    d[i] = static_cast<unsigned char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return d;
}

} // namespace

authenticator::authenticator(const std::vector<api_key>& keys) {
  for (const auto& k : keys)
    keys_.push_back({from_hex(k.key_sha256), principal{k.who, k.subject, k.name}});
}

std::optional<principal> authenticator::identify(const http_request& r) const {
  if (open()) return principal{role::operations, {}, "anonymous"};
  std::string_view key = r.header("x-api-key");
  auto auth = r.header("authorization");
  constexpr std::string_view bearer = "Bearer ";
  if (key.empty() && auth.size() > bearer.size() && auth.substr(0, bearer.size()) == bearer)
    key = auth.substr(bearer.size());
  if (key.empty()) return std::nullopt;
  const auto presented = digest_of(key);
  const entry* found = nullptr;
  for (const auto& e : keys_) // every entry compared: the time does not depend on which matched
    if (CRYPTO_memcmp(e.digest.data(), presented.data(), presented.size()) == 0) found = &e;
  if (!found) return std::nullopt;
  return found->who;
}

bool may_read(const principal& p, const v1::OrderState& s) {
  switch (p.who) {
  case role::operations:
    return true;
  case role::customer:
    return s.customer_id() == p.subject;
  case role::merchant:
    return s.has_merchant_id() && s.merchant_id() == p.subject;
  case role::payments:
    return false;
  }
  return false;
}

bool may_cancel(const principal& p, const v1::OrderState& s) {
  return may_read(p, s);
}

bool may_fulfil(const principal& p, const v1::OrderState& s) {
  return (p.who == role::merchant || p.who == role::operations) && may_read(p, s);
}

} // namespace ordo::node
