// A workaround for CAF 0.17.6's openssl module on OpenSSL 3 (docs/cluster.md, "TLS between
// nodes"; tls.hpp).
//
// OpenSSL keeps one error queue per thread, and SSL_get_error() reads it: "the current
// thread's error queue must be empty before the TLS/SSL I/O operation is attempted, or
// SSL_get_error() will not work reliably" (OpenSSL's SSL_get_error(3)). CAF's session calls
// SSL_read/SSL_write/SSL_accept/SSL_connect for every connection on its one multiplexer
// thread and never clears the queue. So an error left by one connection — a client whose
// handshake failed (another CA, plaintext), or a peer that closed without close_notify
// (OpenSSL 3 reports that as an error) — made the next harmless "want read" on *another*
// connection look fatal, and CAF closed it. Seen here: one refused client, or one node
// connecting back to a node already connected to it, dropped every connection between the
// nodes, and the drops cascaded from node to node. Reproduced with two bare CAF processes;
// gone with the queue cleared first.
//
// The fix is what OpenSSL asks for: clear the queue before each of those calls. CAF is a
// Debian library we do not patch, so this file defines the four functions in our executable;
// the dynamic linker binds libcaf_openssl's calls to them (an executable's definition comes
// first), and each calls OpenSSL's own after clearing the queue. ssl_error_queue_cleared()
// says whether that binding is in effect; the cluster refuses to start TLS without it.

#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class Fn>
Fn next(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static const auto real = next<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static const auto real = next<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static const auto real = next<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

int SSL_connect(SSL* ssl) {
  static const auto real = next<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"

namespace ordo::cluster {

bool ssl_error_queue_cleared() {
  // Every caller resolves these names to the definitions above.
  return ::dlsym(RTLD_DEFAULT, "SSL_read") == reinterpret_cast<void*>(&SSL_read) &&
         ::dlsym(RTLD_DEFAULT, "SSL_write") == reinterpret_cast<void*>(&SSL_write) &&
         ::dlsym(RTLD_DEFAULT, "SSL_accept") == reinterpret_cast<void*>(&SSL_accept) &&
         ::dlsym(RTLD_DEFAULT, "SSL_connect") == reinterpret_cast<void*>(&SSL_connect);
}

} // namespace ordo::cluster
