#pragma once
// TLS between the nodes of a cluster (docs/cluster.md, "TLS between nodes").
//
// Transport: CAF 0.17's openssl module (libcaf_openssl). With TLS on, the link's actor system
// loads caf::openssl::manager with this node's certificate and key and the cluster CA; the
// ingress is published through it and peers are reached through it, so every node-to-node
// connection is TLS, and CAF requires and verifies the peer's certificate against the CA on
// both sides (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT). A plaintext peer, a peer
// without a certificate, or one whose certificate another CA signed never gets a message to
// an actor.
//
// What CAF does not do: tell the receiver *which* certificate a peer presented (its session
// keeps the SSL object private and installs no verify callback; a message's sender is a
// proxy named by the node id the peer declared itself). control_auth.hpp binds the node id a
// control message claims to a certificate instead.
//
// Policy: TLS is required whenever cluster nodes are configured. `tls.enabled = false` is
// allowed only when every member host is loopback (tests, a trial on one machine); the node
// logs a warning at start.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "actors/cluster/ownership.hpp"

namespace ordo::cluster {

struct tls_options {
  bool enabled = true;
  std::string certificate; // PEM: this node's certificate (CN ordo-node-<id>)
  std::string key;         // PEM: its private key, unencrypted (keep it 0600)
  std::string ca;          // PEM: the cluster CA (and any intermediate) every node trusts
};

/// 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

/// The policy above: with TLS on, all three files named; off, every member on loopback.
/// "" or what is wrong.
std::string check_policy(const tls_options& t, const std::vector<member>& members);

/// Loads the openssl module into `cfg` (after the middleman) and names the files; nothing
/// when TLS is off. Check the files first (credentials::load): CAF reads them again for
/// every connection and throws from its I/O thread when one is unusable.
void configure(caf::actor_system_config& cfg, const tls_options& t);

/// Whether this executable clears OpenSSL's error queue before CAF's TLS calls
/// (ssl_error_queue.cpp: without it, one failed handshake drops other connections). TLS
/// is refused without it.
bool ssl_error_queue_cleared();

/// Publishes `whom` at host:port, through TLS when `tls`.
caf::expected<uint16_t> publish(caf::actor_system& sys, const caf::actor& whom, uint16_t port,
                                const std::string& host, bool tls);

/// Connects to the actor published at host:port (through TLS when `tls`), waiting at most
/// `timeout` for the connection and handshakes. The TCP connect itself runs inside CAF's
/// middleman actor without a timeout: probe the port first (a vanished host would block it).
caf::expected<caf::actor> connect(caf::actor_system& sys, const std::string& host, uint16_t port,
                                  bool tls, std::chrono::milliseconds timeout);

} // namespace ordo::cluster
