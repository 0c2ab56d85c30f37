#pragma once
// The node's configuration: one struct, loaded from a TOML file and/or command-line
// overrides, every setting with a default so a single node needs no config at all.
//
// Every option is declared once, in config_options.cpp's option table: its TOML key
// ("section.name"), its default, what it means. `--help`, the TOML loader and the
// `--section.name=value` command-line overrides are all generated from that table, so they
// cannot disagree. Unknown keys and invalid values are errors naming the key and the file
// line — a typo in a config must not silently fall back to a default.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "actors/cluster/tls.hpp"
#include "ordo/runtime.hpp"
#include "app/node/webhook_signature.hpp"

namespace ordo::node {

// payments: a payment provider's key; it may only POST /v1/webhooks/payment.
enum class role : uint8_t { customer, merchant, operations, payments };
const char* to_string(role r);

/// One API client: its key authenticates it; `subject` is the customer or merchant id it acts
/// as (operations, payments: unused). `name` is what logs show — never the key. The config
/// holds either the key itself or only its SHA-256 (`key_sha256`), so the file need hold no
/// usable secret; the node keeps only the digest in memory either way.
struct api_key {
  std::string name;
  std::string key_sha256; // 64 lowercase hex digits of SHA-256(key)
  role who = role::customer;
  std::string subject;
};

/// Lowercase hex SHA-256 of an API key as presented by a client.
std::string sha256_hex(std::string_view text);

/// The durability mode as the config spells it ("full_sync", ...).
const char* to_string(durability d);

enum class log_level : uint8_t { debug, info, warn, error };
const char* to_string(log_level l);

struct http_config {
  std::string listen = "127.0.0.1:8080";             // host:port; port 0 = any free port (printed)
  uint32_t threads = 1;                              // HTTP I/O threads (actors have their own)
  uint32_t connections_max = 4'096;                  // more are refused with 503
  uint32_t body_max_bytes = 64 * 1024;               // larger bodies answer 413
  uint32_t header_max_bytes = 16 * 1024;             // larger request heads answer 431
  std::chrono::milliseconds idle_timeout{30'000};    // idle/slow connections are closed
  std::chrono::milliseconds events_wait_max{30'000}; // long-poll cap of GET /v1/events
  uint32_t feed_consumers_max = 64;                  // named consumers of GET /v1/events
  uint32_t connections_per_client_max = 256;         // open connections from one IP address
  std::vector<std::string> allowed_hosts;            // extra Host names of a node without keys
  std::chrono::milliseconds feed_offset_save_every{1'000}; // a consumer's offset, durably
};

/// Filled in by the cluster issue: the nodes and their addresses. One node: empty.
struct cluster_member {
  uint16_t id = 0;
  std::string host;
  uint16_t port = 0;
};

struct node_config {
  runtime_config runtime; // data dir, threads, durability, limits, saga
  http_config http;
  log_level log = log_level::info;
  std::string gateway = "simulated"; // "simulated" or "webhook" (POST /v1/webhooks/payment)
  payments_config payments;          // webhook signatures (webhook_signature.hpp)
  uint64_t saga_lag_max = 100'000;   // feed positions the saga may trail before placements get 429
  bool exit_on_fail_stop = true;     // exit non-zero once the journal fail-stops (after draining)
  std::chrono::milliseconds fail_stop_drain{5'000}; // reads still served before that exit
  std::vector<api_key> keys;         // empty: no authentication (loopback only)
  std::vector<cluster_member> cluster;
  bool cluster_join = false;       // a new node: owns nothing until a membership change adds it
  bool cluster_tls = true;         // TLS between nodes; false: only when every node is loopback
  std::string tls_certificate;     // PEM: this node's certificate (CN ordo-node-<node.id>)
  std::string tls_key;             // PEM: its private key
  std::string tls_ca;              // PEM: the cluster CA
  uint32_t handoff_batch_kb = 512; // records per message when a shard moves
  uint32_t handoff_pause_ms = 0;   // testing only (see --help)
  std::string source = "defaults"; // where the config came from, for the start log line
};

/// Reads a TOML file over the defaults. Errors name the file, line, key and problem.
caf::expected<node_config> load_config_file(const std::string& path);

/// The same, from TOML text already in memory; `source` stands for the file name in errors
/// and in node_config::source.
caf::expected<node_config> load_config_string(std::string_view toml_text,
                                              const std::string& source);

/// Applies one `section.name=value` override (the command line form). Errors name the key.
caf::expected<void> apply_override(node_config& cfg, const std::string& assignment);

/// The cluster's TLS settings (cluster.tls, cluster.tls_certificate/_key/_ca).
ordo::cluster::tls_options cluster_tls(const node_config& cfg);

/// Checks cross-field rules (e.g. a non-loopback listen address without API keys; a cluster
/// without TLS settings, or without TLS off loopback).
caf::expected<void> validate(const node_config& cfg);

/// The `--help` text: usage plus every option with its default and meaning.
std::string help_text();

} // namespace ordo::node
