// The node's config: defaults, TOML files, command-line overrides and their errors.
#include <fstream>

#include <doctest/doctest.h>

#include "app/node/config.hpp"
#include "app/node/errors.hpp"
#include "support/node_process.hpp"

using namespace ordo::node;

namespace {
std::string write(const std::string& text) {
  auto path = ordo::test::fresh_dir("config") + "/node.toml";
  std::ofstream(path) << text;
  return path;
}
std::string error_of(const std::string& text) {
  auto r = load_config_file(write(text));
  REQUIRE_FALSE(r);
  return describe(r.error());
}
} // namespace

TEST_SUITE("node_config") {
  TEST_CASE("the defaults are a valid single node on loopback, full sync, no keys") {
    node_config c;
    CHECK(validate(c));
    CHECK(c.http.listen == "127.0.0.1:8080");
    CHECK(c.runtime.sync == ordo::durability::full_sync);
    CHECK(c.keys.empty());
  }

  TEST_CASE("a file sets every kind of value, and keys with roles") {
    auto r = load_config_file(write(R"(
[node]
data_dir = "/tmp/x"
id = 7
worker_threads = 3
log_level = "debug"
[journal]
durability = "no_meta_sync"
batch_wait = "500us"
[http]
listen = "0.0.0.0:9000"
idle_timeout = "5s"
body_max_bytes = 4096
[saga]
enabled = false
gateway = "webhook"
fulfilment = "external"
decline_percent = 10
[payments]
webhook_secret = "whsec-0123456789"
webhook_tolerance = "2m"
[[auth.keys]]
name = "ops"
key = "0123456789abcdef-ops"
role = "operations"
[[auth.keys]]
name = "alice"
key = "0123456789abcdef-alice"
role = "customer"
subject = "c-alice"
[[auth.keys]]
name = "provider"
key_sha256 = "5b1a4b6b1b0c0a3b3e1d0f7c2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"
role = "payments"
[cluster]
tls_certificate = "/etc/ordo/node-7.pem"
tls_key = "/etc/ordo/node-7.key"
tls_ca = "/etc/ordo/cluster-ca.pem"
[[cluster.nodes]]
id = 1
host = "10.0.0.1"
port = 4000
)"));
    REQUIRE(r);
    CHECK(r->runtime.data_dir == "/tmp/x");
    CHECK(r->runtime.node_id == 7);
    CHECK(r->runtime.worker_threads == 3);
    CHECK(r->log == log_level::debug);
    CHECK(r->runtime.sync == ordo::durability::no_meta_sync);
    CHECK(r->runtime.batch_max_wait == std::chrono::microseconds{500});
    CHECK(r->http.idle_timeout == std::chrono::seconds{5});
    CHECK(r->http.body_max_bytes == 4096);
    CHECK_FALSE(r->runtime.saga.enabled);
    CHECK(r->gateway == "webhook");
    CHECK(r->runtime.saga.external_fulfilment);
    CHECK(r->runtime.saga.simulated.decline_rate == doctest::Approx(0.10));
    REQUIRE(r->keys.size() == 3);
    CHECK(r->keys[1].who == role::customer);
    CHECK(r->keys[1].subject == "c-alice");
    CHECK(r->keys[0].key_sha256 == sha256_hex("0123456789abcdef-ops")); // only the digest kept
    CHECK(r->keys[2].who == role::payments);
    CHECK(r->keys[2].key_sha256 ==
          "5b1a4b6b1b0c0a3b3e1d0f7c2a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e");
    CHECK(r->payments.webhook_secret == "whsec-0123456789");
    CHECK(r->payments.tolerance == std::chrono::minutes{2});
    REQUIRE(r->cluster.size() == 1);
    CHECK(r->cluster[0].port == 4000);
    CHECK(validate(*r)); // public address, but with keys
    // A webhook gateway reachable with keys needs the secret its webhooks are signed with.
    auto unsigned_webhooks = *r;
    unsigned_webhooks.payments.webhook_secret.clear();
    auto v = validate(unsigned_webhooks);
    REQUIRE_FALSE(v);
    CHECK(describe(v.error()).find("payments.webhook_secret") != std::string::npos);
  }

  TEST_CASE("API keys: names bounded, key or its SHA-256, roles") {
    CHECK(error_of("[[auth.keys]]\nname = \"has space\"\nkey = \"0123456789abcdef\"\nrole = "
                   "\"operations\"\n")
              .find("1..64 characters") != std::string::npos);
    CHECK(error_of("[[auth.keys]]\nname = \"x\"\nkey_sha256 = \"abc\"\nrole = \"operations\"\n")
              .find("64 lowercase hex digits") != std::string::npos);
    CHECK(error_of("[[auth.keys]]\nname = \"x\"\nrole = \"operations\"\n").find("key_sha256") !=
          std::string::npos);
    CHECK(error_of("[[auth.keys]]\nname = \"x\"\nkey = \"0123456789abcdef\"\nrole = \"admin\"\n")
              .find("payments") != std::string::npos);
    CHECK(sha256_hex("abc") ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"); // FIPS 180-2
  }

  TEST_CASE("mistakes name the file line and the key") {
    CHECK(
        error_of("[node]\nworker_thread = 2\n").find(":2: unknown setting 'node.worker_thread'") !=
        std::string::npos);
    CHECK(error_of("[node]\n\nid = 70000\n").find(":3: node.id: 70000 is outside 0..65535") !=
          std::string::npos);
    CHECK(error_of("[journal]\ndurability = \"sometimes\"\n").find("journal.durability") !=
          std::string::npos);
    CHECK(error_of("[http]\nidle_timeout = \"5 parsecs\"\n").find("http.idle_timeout") !=
          std::string::npos);
    CHECK(error_of("[node\n").find("node.toml:") != std::string::npos); // TOML syntax
    CHECK(error_of("[[auth.keys]]\nname = \"x\"\nkey = \"short\"\nrole = \"operations\"\n")
              .find("at least 16") != std::string::npos);
    CHECK(error_of("[[auth.keys]]\nname = \"m\"\nkey = \"0123456789abcdef\"\nrole = "
                   "\"merchant\"\n")
              .find("needs the subject") != std::string::npos);
    CHECK(error_of("[node]\nid = -1\n").find("node.id") != std::string::npos);
  }

  TEST_CASE("command-line overrides, and a public address without keys is refused") {
    node_config c;
    CHECK(apply_override(c, "http.threads=2"));
    CHECK(c.http.threads == 2);
    CHECK_FALSE(apply_override(c, "http.threads"));
    CHECK_FALSE(apply_override(c, "http.nope=1"));
    CHECK_FALSE(apply_override(c, "http.threads=zero"));
    CHECK(apply_override(c, "journal.idempotency_retention=12h"));
    CHECK(c.runtime.idempotency_retention == std::chrono::hours{12});
    CHECK(apply_override(c, "journal.idempotency_retention=7d"));
    CHECK(c.runtime.idempotency_retention == std::chrono::hours{24 * 7});
    CHECK_FALSE(apply_override(c, "journal.idempotency_retention=7w"));
    CHECK(apply_override(c, "http.listen=0.0.0.0:8080"));
    auto v = validate(c);
    REQUIRE_FALSE(v);
    CHECK(describe(v.error()).find("no [[auth.keys]]") != std::string::npos);
  }

  TEST_CASE("the example config in the repository loads and validates") {
    auto r = load_config_file(ORDO_EXAMPLE_CONFIG);
    REQUIRE_MESSAGE(r, describe(r.error()));
    CHECK(validate(*r));
    CHECK(r->keys.size() == 4);
  }

  TEST_CASE("--help documents every setting") {
    auto h = help_text();
    for (const char* k : {"node.data_dir", "node.id", "journal.durability", "http.listen",
                          "http.body_max_bytes", "http.idle_timeout", "limits.in_flight_max",
                          "saga.gateway", "saga.fulfilment", "auth.keys", "cluster.nodes"})
      CHECK_MESSAGE(h.find(k) != std::string::npos, k);
  }
}
