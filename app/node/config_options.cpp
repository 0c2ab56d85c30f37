// The node's settings as a table: each key's default, help and parser (config.cpp loads onto it).
#include "app/node/config_options.hpp"

#include <chrono>
#include <limits>
#include <optional>

#include <fmt/core.h>

#include "ordo/parse_number.hpp"

namespace ordo::node::config_options {

// Digits may be grouped with '_' as in TOML (1_000_000); include/ordo/parse_number.hpp parses.
std::string parse_u64(const std::string& s, uint64_t lo, uint64_t hi, uint64_t& out) {
  switch (ordo::parse_u64(s, out, lo, hi, digit_groups::underscore)) {
  case number_error::none:
    return {};
  case number_error::out_of_range:
    return fmt::format("{} is outside {}..{}", s, lo, hi);
  case number_error::empty:
  case number_error::not_digits:
    break;
  }
  return fmt::format("'{}' is not a whole number", s);
}

namespace {

// Durations: a whole number of milliseconds, or a number with a unit (us, ms, s, m, h, d).
std::string parse_ms(const std::string& s, int64_t lo_ms, int64_t hi_ms,
                     std::chrono::microseconds& out) {
  size_t split = s.find_first_not_of("0123456789");
  std::string num = s.substr(0, split), unit = split == std::string::npos ? "ms" : s.substr(split);
  uint64_t v = 0;
  if (auto e = parse_u64(num, 0, uint64_t{1} << 40, v); !e.empty())
    return fmt::format("'{}' is not a duration (e.g. 250ms, 30s, 5m)", s);
  int64_t us_per = 0;
  if (unit == "us")
    us_per = 1;
  else if (unit == "ms")
    us_per = 1'000;
  else if (unit == "s")
    us_per = 1'000'000;
  else if (unit == "m")
    us_per = 60'000'000;
  else if (unit == "h")
    us_per = 3'600'000'000;
  else if (unit == "d")
    us_per = 86'400'000'000;
  else
    return fmt::format("'{}': unknown unit '{}' (us, ms, s, m, h, d)", s, unit);
  // Up to 2^40 hours or days do not fit in int64 microseconds (the conversion overflowed:
  // undefined behaviour, found by fuzz/node_config.cpp): such a count is out of range anyway.
  if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / us_per))
    return fmt::format("{} is outside {}ms..{}ms", s, lo_ms, hi_ms);
  out = std::chrono::microseconds{static_cast<int64_t>(v) * us_per};
  if (out < std::chrono::milliseconds{lo_ms} || out > std::chrono::milliseconds{hi_ms})
    return fmt::format("{} is outside {}ms..{}ms", s, lo_ms, hi_ms);
  return {};
}

// Builders for the common kinds, so each option is one line in the table.
template <class Get>
setter number(Get get, uint64_t lo, uint64_t hi) {
  return [get, lo, hi](node_config& c, const std::string& s) {
    uint64_t v = 0;
    auto e = parse_u64(s, lo, hi, v);
    if (e.empty()) {
      auto& field = get(c);
      field = static_cast<std::remove_reference_t<decltype(field)>>(v);
    }
    return e;
  };
}

template <class Get>
setter duration(Get get, int64_t lo_ms, int64_t hi_ms) {
  return [get, lo_ms, hi_ms](node_config& c, const std::string& s) {
    std::chrono::microseconds v{0};
    auto e = parse_ms(s, lo_ms, hi_ms, v);
    if (e.empty()) {
      auto& field = get(c);
      field = std::chrono::duration_cast<std::remove_reference_t<decltype(field)>>(v);
    }
    return e;
  };
}

// A duration or "auto" (unset: the runtime picks).
template <class Get>
setter duration_or_auto(Get get, int64_t lo_ms, int64_t hi_ms) {
  return [get, lo_ms, hi_ms](node_config& c, const std::string& s) -> std::string {
    if (s == "auto") {
      get(c).reset();
      return {};
    }
    std::chrono::microseconds v{0};
    auto e = parse_ms(s, lo_ms, hi_ms, v);
    if (e.empty()) get(c) = v;
    return e.empty() ? e : e + " (or auto)";
  };
}

template <class Get>
setter boolean(Get get) {
  return [get](node_config& c, const std::string& s) -> std::string {
    if (s == "true")
      get(c) = true;
    else if (s == "false")
      get(c) = false;
    else
      return fmt::format("'{}' is not true or false", s);
    return {};
  };
}

template <class Get>
setter text(Get get, size_t max_len) {
  return [get, max_len](node_config& c, const std::string& s) -> std::string {
    if (s.empty() || s.size() > max_len) return fmt::format("must be 1..{} characters", max_len);
    get(c) = s;
    return {};
  };
}

} // namespace

const std::vector<option>& options() {
  static const std::vector<option> table = {
      {"node.data_dir", "./data", "data directory (created if missing)",
       text([](node_config& c) -> std::string& { return c.runtime.data_dir; }, 4096)},
      {"node.id", "1", "this node's id, unique in a cluster (0..65535); part of every order id",
       number([](node_config& c) -> uint16_t& { return c.runtime.node_id; }, 0, 65535)},
      {"node.shards", "64", "virtual shards; fixed for the life of a store/cluster",
       number([](node_config& c) -> uint16_t& { return c.runtime.shard_count; }, 1, 65535)},
      {"node.worker_threads", "2", "actor worker threads",
       number([](node_config& c) -> size_t& { return c.runtime.worker_threads; }, 1, 256)},
      {"node.exit_on_fail_stop", "true",
       "once the journal fail-stops (a failed write or sync), answer /readyz 503, keep serving "
       "reads for node.fail_stop_drain, then exit non-zero so a supervisor restarts the node",
       boolean([](node_config& c) -> bool& { return c.exit_on_fail_stop; })},
      {"node.fail_stop_drain", "5s", "reads served after a fail-stop before the node exits",
       duration([](node_config& c) -> std::chrono::milliseconds& { return c.fail_stop_drain; }, 0,
                600'000)},
      {"node.log_level", "info", "debug, info, warn or error",
       [](node_config& c, const std::string& s) -> std::string {
         for (auto l : {log_level::debug, log_level::info, log_level::warn, log_level::error})
           if (s == to_string(l)) {
             c.log = l;
             return {};
           }
         return fmt::format("'{}' is not debug, info, warn or error", s);
       }},
      {"cluster.join", "false",
       "start owning no shard and wait to be added by a membership change (a new node; "
       "docs/cluster.md). Ignored once the node has a cluster state in its data dir",
       [](node_config& c, const std::string& s) -> std::string {
         if (s != "true" && s != "false") return fmt::format("'{}' is not true or false", s);
         c.cluster_join = s == "true";
         return {};
       }},
      {"cluster.tls", "true",
       "TLS with mutual certificate checks between cluster nodes (docs/cluster.md); false is "
       "allowed only when every node is on loopback, and logged as a warning",
       boolean([](node_config& c) -> bool& { return c.cluster_tls; })},
      {"cluster.tls_certificate", "",
       "PEM certificate of this node, signed by the cluster CA, subject CN ordo-node-<node.id> "
       "(required in a cluster; scripts/make-test-ca.sh makes test ones)",
       text([](node_config& c) -> std::string& { return c.tls_certificate; }, 4096)},
      {"cluster.tls_key", "",
       "PEM private key of cluster.tls_certificate (unencrypted; keep it 0600)",
       text([](node_config& c) -> std::string& { return c.tls_key; }, 4096)},
      {"cluster.tls_ca", "", "PEM file of the cluster CA that every node's certificate chains to",
       text([](node_config& c) -> std::string& { return c.tls_ca; }, 4096)},
      {"cluster.handoff_batch_kb", "512",
       "records per message when a shard moves to another node (membership change)",
       number([](node_config& c) -> uint32_t& { return c.handoff_batch_kb; }, 1, 65536)},
      {"cluster.handoff_pause_ms", "0",
       "testing only: hold a moving shard stopped this long before its final copy, so tests "
       "can kill a node in the middle of a handoff",
       number([](node_config& c) -> uint32_t& { return c.handoff_pause_ms; }, 0, 60'000)},
      {"journal.durability", "full_sync",
       "full_sync (an answer means on disk), no_meta_sync, or no_sync (benchmarks only; an OS "
       "crash may lose acknowledged commands — see docs/storage.md)",
       [](node_config& c, const std::string& s) -> std::string {
         for (auto d : {durability::full_sync, durability::no_meta_sync, durability::no_sync})
           if (s == to_string(d)) {
             c.runtime.sync = d;
             return {};
           }
         return fmt::format("'{}' is not full_sync, no_meta_sync or no_sync", s);
       }},
      {"journal.map_size_mb", "65536", "LMDB map size in MiB (the file grows with use)",
       [](node_config& c, const std::string& s) {
         uint64_t v = 0;
         auto e = parse_u64(s, 1, uint64_t{1} << 24, v);
         if (e.empty()) c.runtime.map_size_bytes = v << 20;
         return e;
       }},
      {"journal.queue_max", "65536", "appends waiting for the writer before overload",
       number([](node_config& c) -> size_t& { return c.runtime.journal_queue_max; }, 16, 1 << 24)},
      {"journal.batch_max", "4096", "appends per group commit",
       number([](node_config& c) -> size_t& { return c.runtime.batch_max_requests; }, 1, 1 << 20)},
      {"journal.idempotency_retention", "7d",
       "idempotency keys are remembered at least this long, then deleted (a later retry is a "
       "new command); 0s: forever",
       duration([](node_config& c)
                    -> std::chrono::milliseconds& { return c.runtime.idempotency_retention; },
                0, int64_t{3'650} * 86'400'000)},
      {"journal.feed_retention", "0s",
       "events older than this that every feed consumer has passed are removed after a "
       "snapshot of their order or SKU (state kept, early events gone); 0s: keep every event",
       duration(
           [](node_config& c) -> std::chrono::milliseconds& { return c.runtime.feed_retention; }, 0,
           int64_t{3'650} * 86'400'000)},
      {"journal.retention_every", "60s", "how often the idempotency and feed retentions run",
       duration(
           [](node_config& c) -> std::chrono::milliseconds& { return c.runtime.retention_every; },
           10, 86'400'000)},
      {"journal.batch_wait", "auto",
       "how long the writer waits to fill a batch when fewer appends are queued; auto: 200us "
       "with a sync (appends share an fdatasync), 0us with no_sync (the wait only delays answers)",
       duration_or_auto(
           [](node_config& c) -> std::optional<std::chrono::microseconds>& {
             return c.runtime.batch_max_wait;
           },
           0, 1'000)},
      {"limits.in_flight_max", "100000", "commands accepted but not answered, node-wide",
       number([](node_config& c) -> size_t& { return c.runtime.in_flight_max; }, 1, 1 << 24)},
      {"limits.saga_lag_max", "100000",
       "new placements are refused (429) while the saga trails the event feed by more than this "
       "many positions: the pipeline's backlog stays bounded under overload; 0: no bound",
       number([](node_config& c) -> uint64_t& { return c.saga_lag_max; }, 0, uint64_t{1} << 40)},
      {"limits.pending_per_order_max", "1024", "commands queued at one order before overload",
       number([](node_config& c) -> size_t& { return c.runtime.limits.pending_per_entity_max; }, 1,
              1 << 20)},
      {"limits.active_max", "500000",
       "live order (and SKU) actors, split over the shards; past it the least recently used "
       "idle ones are passivated early, at twice it new ones are refused (429); 0: no bound",
       number([](node_config& c) -> size_t& { return c.runtime.limits.active_max; }, 0,
              size_t{1} << 32)},
      {"limits.batch_per_order_max", "64",
       "commands queued at one order (or SKU) decided together and written in one append",
       number([](node_config& c) -> size_t& { return c.runtime.limits.entity_batch_max; }, 1,
              4'096)},
      {"limits.snapshot_every", "64", "an order's snapshot is written every N events",
       number([](node_config& c) -> uint32_t& { return c.runtime.limits.snapshot_every_events; }, 1,
              1 << 20)},
      {"limits.passivate_after", "30s",
       "order actors no command reached for this long are stopped (within 1.25x)",
       duration([](node_config& c)
                    -> std::chrono::milliseconds& { return c.runtime.limits.passivate_after; },
                10, 86'400'000)},
      {"limits.crashes_per_command_max", "3", "crashes of one command before quarantine",
       number([](node_config& c) -> int& { return c.runtime.limits.crashes_per_command_max; }, 1,
              100)},
      {"http.listen", "127.0.0.1:8080", "HTTP address host:port (port 0: any free port)",
       text([](node_config& c) -> std::string& { return c.http.listen; }, 255)},
      {"http.threads", "1", "HTTP I/O threads",
       number([](node_config& c) -> uint32_t& { return c.http.threads; }, 1, 64)},
      {"http.connections_max", "4096", "open connections; more are answered 503",
       number([](node_config& c) -> uint32_t& { return c.http.connections_max; }, 1, 1 << 20)},
      {"http.body_max_bytes", "65536", "larger request bodies are answered 413",
       number([](node_config& c) -> uint32_t& { return c.http.body_max_bytes; }, 256, 16 << 20)},
      {"http.header_max_bytes", "16384", "larger request heads are answered 431",
       number([](node_config& c) -> uint32_t& { return c.http.header_max_bytes; }, 1024, 1 << 20)},
      {"http.connections_per_client_max", "256",
       "open connections from one client IP address; more are refused (503)",
       number([](node_config& c) -> uint32_t& { return c.http.connections_per_client_max; }, 1,
              1 << 20)},
      {"http.allowed_hosts", "",
       "comma-separated extra Host header names a node without API keys accepts (besides "
       "localhost, 127.0.0.1, [::1] and its listen host), against DNS rebinding",
       [](node_config& c, const std::string& s) -> std::string {
         c.http.allowed_hosts.clear();
         size_t i = 0;
         while (i <= s.size()) {
           size_t j = std::min(s.find(',', i), s.size());
           if (j > i) c.http.allowed_hosts.push_back(s.substr(i, j - i));
           i = j + 1;
         }
         return {};
       }},
      {"http.idle_timeout", "30s", "idle or slow connections are closed after this",
       duration([](node_config& c) -> std::chrono::milliseconds& { return c.http.idle_timeout; },
                100, 3'600'000)},
      {"http.events_wait_max", "30s", "longest long-poll of GET /v1/events",
       duration([](node_config& c) -> std::chrono::milliseconds& { return c.http.events_wait_max; },
                0, 300'000)},
      {"http.feed_consumers_max", "64",
       "named consumers of GET /v1/events (?consumer=) whose offsets the node keeps",
       number([](node_config& c) -> uint32_t& { return c.http.feed_consumers_max; }, 1, 4'096)},
      {"http.feed_offset_save_every", "1s",
       "a named consumer's offset is written durably at most this often (0s: on every read)",
       duration([](node_config& c)
                    -> std::chrono::milliseconds& { return c.http.feed_offset_save_every; },
                0, 60'000)},
      {"saga.enabled", "true", "placed orders drive themselves through stock, payment, fulfilment",
       boolean([](node_config& c) -> bool& { return c.runtime.saga.enabled; })},
      {"saga.gateway", "simulated",
       "simulated (built-in gateway) or webhook (authorizations arrive on "
       "POST /v1/webhooks/payment)",
       [](node_config& c, const std::string& s) -> std::string {
         if (s != "simulated" && s != "webhook")
           return fmt::format("'{}' is not simulated or webhook", s);
         c.gateway = s;
         return {};
       }},
      {"saga.fulfilment", "simulated",
       "simulated (built-in warehouse ships and delivers) or external (shipment and delivery "
       "arrive on the HTTP API)",
       [](node_config& c, const std::string& s) -> std::string {
         if (s != "simulated" && s != "external")
           return fmt::format("'{}' is not simulated or external", s);
         c.runtime.saga.external_fulfilment = s == "external";
         return {};
       }},
      {"saga.payment_timeout", "30s", "an order with no payment answer is cancelled after this",
       duration([](node_config& c)
                    -> std::chrono::milliseconds& { return c.runtime.saga.payment_timeout; },
                10, 86'400'000)},
      {"saga.gateway_latency", "0ms", "the simulated gateway's latency per call",
       duration([](node_config& c)
                    -> std::chrono::milliseconds& { return c.runtime.saga.simulated.latency; },
                0, 60'000)},
      {"saga.gateway_keys_max", "100000",
       "idempotency keys (and orders) the simulated gateway remembers, newest first; bounds "
       "its memory (also behind saga.gateway = webhook, for captures, voids and refunds)",
       number([](node_config& c)
                  -> size_t& { return c.runtime.saga.simulated.keys_remembered_max; },
              1, 100'000'000)},
      {"saga.decline_percent", "0", "share of authorizations the simulated gateway declines",
       [](node_config& c, const std::string& s) {
         uint64_t v = 0;
         auto e = parse_u64(s, 0, 100, v);
         if (e.empty()) c.runtime.saga.simulated.decline_rate = static_cast<double>(v) / 100.0;
         return e;
       }},
      {"payments.webhook_secret", "",
       "shared secret of signed payment webhooks (Ordo-Signature: t=..,v1=HMAC-SHA256); "
       "required with saga.gateway = webhook and API keys",
       text([](node_config& c) -> std::string& { return c.payments.webhook_secret; }, 4096)},
      {"payments.webhook_tolerance", "5m",
       "a webhook signed further than this from the node's clock is refused as stale",
       duration([](node_config& c) -> std::chrono::seconds& { return c.payments.tolerance; },
                1'000, 86'400'000)},
      {"saga.warehouse_latency", "0ms", "the simulated warehouse's time to ship and to deliver",
       duration([](node_config& c)
                    -> std::chrono::milliseconds& { return c.runtime.saga.warehouse_latency; },
                0, 86'400'000)},
      {"saga.parked_retry_every", "30s",
       "a saga effect out of retries (e.g. a capture during a long gateway outage) is tried "
       "again this often; 0s: only at the next start",
       duration([](node_config& c)
                    -> std::chrono::milliseconds& { return c.runtime.saga.parked_retry_every; },
                0, 86'400'000)},
  };
  return table;
}

const option* find(const std::string& key) {
  for (const auto& o : options())
    if (key == o.key) return &o;
  return nullptr;
}

} // namespace ordo::node::config_options
