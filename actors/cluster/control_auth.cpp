#include "actors/cluster/control_auth.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <caf/sec.hpp>
#include <fmt/core.h>

namespace ordo::cluster {

namespace {

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const { Free(p); }
};
using x509_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using store_ptr = std::unique_ptr<X509_STORE, freer<X509_STORE, X509_STORE_free>>;
using store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, freer<X509_STORE_CTX, X509_STORE_CTX_free>>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, freer<EVP_MD_CTX, EVP_MD_CTX_free>>;
using bio_ptr = std::unique_ptr<BIO, freer<BIO, BIO_free_all>>;

caf::error refused(std::string why) {
  return caf::make_error(caf::sec::runtime_error, std::move(why));
}

// The last OpenSSL error as text (and the queue emptied, so it does not leak into CAF's).
std::string ssl_error() {
  std::string out;
  while (auto e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  return out.empty() ? "no detail" : out;
}

// No passphrase prompt: an encrypted key fails to load, with a clear error.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

// The certificate's chain to the CA in `store`, validity now, and TLS client purpose;
// "" or why not.
std::string verify_chain(X509_STORE* store, X509* cert) {
  store_ctx_ptr ctx{X509_STORE_CTX_new()};
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, cert, nullptr) != 1) return ssl_error();
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) == 1) return {};
  auto why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  ERR_clear_error();
  return why;
}

std::string common_name(X509* cert) {
  char buf[256] = {};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

} // namespace

std::string node_common_name(uint16_t id) {
  return fmt::format("ordo-node-{}", id);
}

struct credentials::impl {
  pkey_ptr key;
  store_ptr store;
  std::string cert_der;
};

credentials::credentials() : impl_(std::make_unique<impl>()) {}
credentials::~credentials() = default;

caf::expected<std::shared_ptr<const credentials>> credentials::load(const tls_options& t,
                                                                    uint16_t self) {
  std::shared_ptr<credentials> c{new credentials()};
  auto& p = *c->impl_;
  bio_ptr cert_in{BIO_new_file(t.certificate.c_str(), "r")};
  x509_ptr cert{cert_in ? PEM_read_bio_X509(cert_in.get(), nullptr, nullptr, nullptr) : nullptr};
  if (!cert)
    return refused(fmt::format("cluster.tls_certificate: cannot read a PEM certificate from {}: {}",
                               t.certificate, ssl_error()));
  bio_ptr key_in{BIO_new_file(t.key.c_str(), "r")};
  p.key.reset(key_in ? PEM_read_bio_PrivateKey(key_in.get(), nullptr, no_passphrase, nullptr)
                     : nullptr);
  if (!p.key)
    return refused(fmt::format("cluster.tls_key: cannot read an unencrypted PEM private key from "
                               "{}: {}",
                               t.key, ssl_error()));
  if (X509_check_private_key(cert.get(), p.key.get()) != 1)
    return refused(fmt::format("cluster.tls_key: {} is not the key of the certificate {}: {}",
                               t.key, t.certificate, ssl_error()));
  p.store.reset(X509_STORE_new());
  if (!p.store || X509_STORE_load_locations(p.store.get(), t.ca.c_str(), nullptr) != 1)
    return refused(
        fmt::format("cluster.tls_ca: cannot read CA certificates from {}: {}", t.ca, ssl_error()));
  if (auto why = verify_chain(p.store.get(), cert.get()); !why.empty())
    return refused(fmt::format("cluster.tls_certificate: {} does not verify against the CA in {}: "
                               "{}",
                               t.certificate, t.ca, why));
  if (auto cn = common_name(cert.get()); cn != node_common_name(self))
    return refused(fmt::format("cluster.tls_certificate: {} is for '{}', but this node is {} "
                               "(its certificate's CN must be '{}')",
                               t.certificate, cn, self, node_common_name(self)));
  int len = i2d_X509(cert.get(), nullptr);
  if (len <= 0) return refused("cluster.tls_certificate: cannot encode it: " + ssl_error());
  p.cert_der.resize(static_cast<size_t>(len));
  auto* out = reinterpret_cast<unsigned char*>(p.cert_der.data());
  i2d_X509(cert.get(), &out);
  return std::shared_ptr<const credentials>{std::move(c)};
}

std::string credentials::seal(const v1::ClusterControl& msg) const {
  v1::SignedControl s;
  s.set_control(msg.SerializeAsString());
  s.set_certificate(impl_->cert_der);
  md_ctx_ptr md{EVP_MD_CTX_new()};
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(s.control().data());
  if (md && EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, impl_->key.get()) == 1 &&
      EVP_DigestSign(md.get(), nullptr, &len, data, s.control().size()) == 1) {
    std::string sig(len, '\0');
    if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                       s.control().size()) == 1) {
      sig.resize(len);
      s.set_signature(std::move(sig));
    }
  }
  // A signing failure leaves the signature empty: the receiver refuses it, and says why.
  ERR_clear_error();
  return s.SerializeAsString();
}

std::string credentials::open(const std::string& bytes, uint16_t self,
                              v1::ClusterControl& msg) const {
  v1::SignedControl s;
  if (!s.ParseFromString(bytes) || !msg.ParseFromString(s.control()))
    return "malformed control message";
  if (s.certificate().empty() || s.signature().empty())
    return "an unsigned control message (this cluster requires TLS and signatures)";
  const auto* der = reinterpret_cast<const unsigned char*>(s.certificate().data());
  x509_ptr cert{d2i_X509(nullptr, &der, static_cast<long>(s.certificate().size()))};
  if (!cert) {
    ERR_clear_error();
    return "a control message with an unreadable certificate";
  }
  if (auto why = verify_chain(impl_->store.get(), cert.get()); !why.empty())
    return fmt::format("a control message signed with a certificate the cluster CA does not "
                       "vouch for: {}",
                       why);
  auto cn = common_name(cert.get());
  if (msg.from_node() > 65535 || cn != node_common_name(static_cast<uint16_t>(msg.from_node())))
    return fmt::format("a control message claiming to be from node {} signed with the "
                       "certificate of '{}'",
                       msg.from_node(), cn);
  md_ctx_ptr md{EVP_MD_CTX_new()};
  bool ok = md &&
            EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr,
                                 X509_get0_pubkey(cert.get())) == 1 &&
            EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(s.signature().data()),
                             s.signature().size(),
                             reinterpret_cast<const unsigned char*>(s.control().data()),
                             s.control().size()) == 1;
  ERR_clear_error();
  if (!ok)
    return fmt::format("a control message from node {} whose signature does not match",
                       msg.from_node());
  if (msg.to_node() != self)
    return fmt::format("a control message from node {} meant for node {}, not {}", msg.from_node(),
                       msg.to_node(), self);
  return {};
}

std::string seal(const credentials* creds, const v1::ClusterControl& msg) {
  if (creds) return creds->seal(msg);
  v1::SignedControl s;
  s.set_control(msg.SerializeAsString());
  return s.SerializeAsString();
}

std::string open(const credentials* creds, const std::string& bytes, uint16_t self,
                 v1::ClusterControl& msg) {
  if (creds) return creds->open(bytes, self, msg);
  v1::SignedControl s;
  if (!s.ParseFromString(bytes) || !msg.ParseFromString(s.control()))
    return "malformed control message";
  if (msg.to_node() != self)
    return fmt::format("a control message from node {} meant for node {}, not {}", msg.from_node(),
                       msg.to_node(), self);
  return {};
}

} // namespace ordo::cluster
