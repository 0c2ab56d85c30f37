#pragma once
// Who sent a control message: the node id it claims, bound to a certificate of the cluster CA
// (docs/cluster.md, "What the receiver checks").
//
// CAF 0.17's TLS layer authenticates the connection (the peer holds *some* certificate of the
// cluster CA) but does not tell the receiver which one, so any cluster certificate could claim
// any node id. Control messages (prepare, move, records, activate, commit) decide who owns a
// shard, so each is signed by its sender: the ClusterControl's bytes travel in a SignedControl
// with the sender's certificate (DER) and an SHA-256 signature made with the node's TLS key.
// The receiver verifies the certificate against the cluster CA (chain, validity, TLS client
// purpose), requires its subject CN to be ordo-node-<from_node>, the signature to match, and
// to_node to be itself. Forwarded commands and reads are not signed: every cluster node may
// forward any client's command (the TLS handshake proves it is a cluster node).
//
// Threading: a loaded `credentials` is immutable; sign() and open() may run on any thread.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "actors/cluster/tls.hpp"
#include "ordo/v1/cluster.pb.h"

namespace ordo::cluster {

/// "ordo-node-<id>": the subject CN a node's certificate must carry.
std::string node_common_name(uint16_t id);

class credentials {
public:
  /// Loads and checks this node's TLS files: the certificate and key are readable PEM (an
  /// encrypted key is refused: no passphrase prompt), the key matches the certificate, the
  /// certificate chains to the CA and is valid now, its CN is ordo-node-<self>. Errors name
  /// the file and the problem.
  static caf::expected<std::shared_ptr<const credentials>> load(const tls_options& t,
                                                                uint16_t self);
  ~credentials();
  credentials(const credentials&) = delete;
  credentials& operator=(const credentials&) = delete;

  /// `msg` for the wire: signed with this node's key.
  std::string seal(const v1::ClusterControl& msg) const;

  /// Checks what seal() made on another node (see above) into `out`: "" or why it was refused.
  std::string open(const std::string& bytes, uint16_t self, v1::ClusterControl& out) const;

  struct impl;

private:
  credentials();
  std::unique_ptr<impl> impl_;
};

/// seal/open of `creds`, or without TLS (`creds` null, loopback only) the unsigned form:
/// parsed, and addressed to `self`.
std::string seal(const credentials* creds, const v1::ClusterControl& msg);
std::string open(const credentials* creds, const std::string& bytes, uint16_t self,
                 v1::ClusterControl& out);

} // namespace ordo::cluster
