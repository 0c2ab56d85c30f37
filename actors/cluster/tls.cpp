#include "actors/cluster/tls.hpp"

#include <arpa/inet.h>

#include <set>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <fmt/core.h>

namespace ordo::cluster {

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

std::string check_policy(const tls_options& t, const std::vector<member>& members) {
  if (t.enabled) {
    if (t.certificate.empty() || t.key.empty() || t.ca.empty())
      return "a cluster needs TLS between its nodes: set cluster.tls_certificate, "
             "cluster.tls_key and cluster.tls_ca (docs/cluster.md; scripts/make-test-ca.sh "
             "makes test ones), or cluster.tls = false when every node is on loopback";
    return {};
  }
  for (const auto& m : members)
    if (!is_loopback(m.host))
      return fmt::format("cluster.tls = false is allowed only when every node is on loopback; "
                         "node {} is at {}",
                         m.id, m.host);
  return {};
}

void configure(caf::actor_system_config& cfg, const tls_options& t) {
  if (!t.enabled) return;
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = t.certificate;
  cfg.openssl_key = t.key;
  cfg.openssl_cafile = t.ca;
}

caf::expected<uint16_t> publish(caf::actor_system& sys, const caf::actor& whom, uint16_t port,
                                const std::string& host, bool tls) {
  if (tls) return caf::openssl::publish(whom, port, host.c_str(), true);
  return sys.middleman().publish(whom, port, host.c_str(), true);
}

caf::expected<caf::actor> connect(caf::actor_system& sys, const std::string& host, uint16_t port,
                                  bool tls, std::chrono::milliseconds timeout) {
  auto mm = tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  caf::expected<caf::actor> out = caf::make_error(caf::sec::cannot_connect_to_node);
  caf::scoped_actor self{sys};
  self->request(mm, timeout, caf::connect_atom::value, host, port)
      .receive(
          [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            if (ptr)
              out = caf::actor_cast<caf::actor>(std::move(ptr));
            else
              out = caf::make_error(caf::sec::no_actor_published_at_port,
                                    fmt::format("nothing published at {}:{}", host, port));
          },
          [&](caf::error& e) { out = std::move(e); });
  return out;
}

} // namespace ordo::cluster
