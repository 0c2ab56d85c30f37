#include "app/node/auth.hpp"

namespace ordo::node {

authenticator::authenticator(const std::vector<api_key>& keys) {
  for (const auto& k : keys)
    by_key_.emplace(k.key, principal{k.who, k.subject, k.name});
}

std::optional<principal> authenticator::identify(const http_request& r) const {
  if (open()) return principal{role::operations, {}, "anonymous"};
  std::string_view key = r.header("x-api-key");
  auto auth = r.header("authorization");
  constexpr std::string_view bearer = "Bearer ";
  if (key.empty() && auth.size() > bearer.size() && auth.substr(0, bearer.size()) == bearer)
    key = auth.substr(bearer.size());
  if (key.empty()) return std::nullopt;
  auto it = by_key_.find(std::string{key});
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

bool may_read(const principal& p, const v1::OrderState& s) {
  switch (p.who) {
  case role::operations:
    return true;
  case role::customer:
    return s.customer_id() == p.subject;
  case role::merchant:
    return s.has_merchant_id() && s.merchant_id() == p.subject;
  }
  return false;
}

bool may_cancel(const principal& p, const v1::OrderState& s) {
  return may_read(p, s);
}

bool may_fulfil(const principal& p, const v1::OrderState& s) {
  return p.who != role::customer && may_read(p, s);
}

} // namespace ordo::node
