// Loading the node's config: a TOML file or text, command-line overrides, validation, --help.
#include "app/node/config.hpp"
#include "app/node/config_options.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>

#include <fmt/core.h>
#include <openssl/sha.h>
#include <toml++/toml.h>

#include "actors/cluster/tls.hpp"
#include "app/node/errors.hpp"
#include "ordo/parse_number.hpp"

namespace ordo::node {

const char* to_string(role r) {
  switch (r) {
  case role::customer:
    return "customer";
  case role::merchant:
    return "merchant";
  case role::operations:
    return "operations";
  case role::payments:
    return "payments";
  }
  return "?";
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  for (unsigned char b : digest)
    hex += fmt::format("{:02x}", b);
  return hex;
}

const char* to_string(durability d) {
  switch (d) {
  case durability::full_sync:
    return "full_sync";
  case durability::no_meta_sync:
    return "no_meta_sync";
  case durability::no_sync:
    return "no_sync";
  }
  return "?";
}

const char* to_string(log_level l) {
  switch (l) {
  case log_level::debug:
    return "debug";
  case log_level::info:
    return "info";
  case log_level::warn:
    return "warn";
  case log_level::error:
    return "error";
  }
  return "?";
}

namespace {

using config_options::find;
using config_options::option;
using config_options::options;
using config_options::parse_u64;

caf::error bad(std::string msg) {
  return make_error(node_errc::config_invalid, std::move(msg));
}

// A TOML scalar as the text the setters parse.
std::optional<std::string> scalar_text(const toml::node& n) {
  if (auto s = n.as_string()) return s->get();
  if (auto i = n.as_integer()) return std::to_string(i->get());
  if (auto b = n.as_boolean()) return b->get() ? "true" : "false";
  return std::nullopt;
}

std::string where(const std::string& file, const toml::node& n) {
  return fmt::format("{}:{}", file, n.source().begin.line);
}

caf::expected<void> load_keys(node_config& cfg, const std::string& file, const toml::array& arr) {
  for (const auto& el : arr) {
    auto t = el.as_table();
    if (!t) return bad(where(file, el) + ": auth.keys: each entry must be a table");
    api_key k;
    for (const auto& [name, v] : *t) {
      auto s = scalar_text(v);
      std::string n{name.str()};
      if (!s || v.as_string() == nullptr)
        return bad(fmt::format("{}: auth.keys.{}: must be a string", where(file, v), n));
      if (n == "name")
        k.name = *s;
      else if (n == "key") {
        if (s->size() < 16)
          return bad(fmt::format("{}: auth.keys.key: at least 16 characters", where(file, v)));
        k.key_sha256 = sha256_hex(*s);
      } else if (n == "key_sha256") {
        if (s->size() != 64 || s->find_first_not_of("0123456789abcdef") != std::string::npos)
          return bad(fmt::format("{}: auth.keys.key_sha256: must be 64 lowercase hex digits "
                                 "(sha256sum of the key)",
                                 where(file, v)));
        k.key_sha256 = *s;
      } else if (n == "subject")
        k.subject = *s;
      else if (n == "role") {
        if (*s == "customer")
          k.who = role::customer;
        else if (*s == "merchant")
          k.who = role::merchant;
        else if (*s == "operations")
          k.who = role::operations;
        else if (*s == "payments")
          k.who = role::payments;
        else
          return bad(fmt::format("{}: auth.keys.role: '{}' is not customer, merchant, "
                                 "operations or payments",
                                 where(file, v), *s));
      } else
        return bad(fmt::format("{}: auth.keys: unknown field '{}' (name, key or key_sha256, "
                               "role, subject)",
                               where(file, v), n));
    }
    // The name scopes the client's idempotency keys ("name:key", stored): bounded like an id.
    if (k.name.empty() || k.name.size() > 64 ||
        k.name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
            std::string::npos)
      return bad(fmt::format("{}: auth.keys: every key needs a name of 1..64 characters of "
                             "A-Z a-z 0-9 . _ -",
                             where(file, el)));
    if (k.key_sha256.empty())
      return bad(fmt::format("{}: auth.keys '{}': needs key (>= 16 characters) or key_sha256",
                             where(file, el), k.name));
    if ((k.who == role::customer || k.who == role::merchant) && k.subject.empty())
      return bad(fmt::format("{}: auth.keys '{}': a {} key needs the subject (customer or "
                             "merchant id) it acts as",
                             where(file, el), k.name, to_string(k.who)));
    cfg.keys.push_back(std::move(k));
  }
  return caf::unit;
}

caf::expected<void> load_cluster(node_config& cfg, const std::string& file,
                                 const toml::array& arr) {
  for (const auto& el : arr) {
    auto t = el.as_table();
    auto id = t ? (*t)["id"].value<int64_t>() : std::nullopt;
    auto host = t ? (*t)["host"].value<std::string>() : std::nullopt;
    auto port = t ? (*t)["port"].value<int64_t>() : std::nullopt;
    if (!id || !host || !port || *id < 0 || *id > 65535 || *port <= 0 || *port > 65535)
      return bad(where(file, el) + ": cluster.nodes: each entry needs id (0..65535), host and "
                                   "port (1..65535)");
    cfg.cluster.push_back({static_cast<uint16_t>(*id), *host, static_cast<uint16_t>(*port)});
  }
  return caf::unit;
}

// The settings of a parsed file over the defaults; `path` names it in errors.
caf::expected<node_config> load_table(const toml::table& root, const std::string& path) {
  node_config cfg;
  cfg.source = path;
  for (const auto& [section, node] : root) {
    std::string sec{section.str()};
    auto t = node.as_table();
    if (sec == "auth" && t) {
      for (const auto& [name, v] : *t) {
        if (name.str() != "keys" || !v.is_array())
          return bad(fmt::format("{}: auth: unknown key '{}' (only [[auth.keys]])", where(path, v),
                                 name.str()));
        if (auto r = load_keys(cfg, path, *v.as_array()); !r) return r.error();
      }
      continue;
    }
    if (sec == "cluster" && t) {
      for (const auto& [name, v] : *t) {
        if (name.str() == "nodes" && v.is_array()) {
          if (auto r = load_cluster(cfg, path, *v.as_array()); !r) return r.error();
          continue;
        }
        auto key = "cluster." + std::string{name.str()};
        const option* o = find(key);
        auto s = scalar_text(v);
        if (!o || !s)
          return bad(fmt::format("{}: cluster: unknown key '{}' ([[cluster.nodes]] or a "
                                 "cluster.* setting, see --help)",
                                 where(path, v), name.str()));
        if (auto e = o->set(cfg, *s); !e.empty())
          return bad(fmt::format("{}: {}: {}", where(path, v), key, e));
      }
      continue;
    }
    if (!t) return bad(fmt::format("{}: '{}' must be a [section]", where(path, node), sec));
    for (const auto& [name, v] : *t) {
      std::string key = sec + "." + std::string{name.str()};
      const option* o = find(key);
      if (!o) return bad(fmt::format("{}: unknown setting '{}' (see --help)", where(path, v), key));
      auto s = scalar_text(v);
      if (!s)
        return bad(
            fmt::format("{}: {}: must be a string, integer or boolean", where(path, v), key));
      if (auto e = o->set(cfg, *s); !e.empty())
        return bad(fmt::format("{}: {}: {}", where(path, v), key, e));
    }
  }
  return cfg;
}

// toml++ 3.3.0 (Debian 12) reaches TOML_UNREACHABLE — undefined behaviour — when it asks
// whether a character in these ranges is whitespace, which it does after any value or key
// and after a line-ending backslash (marzer/tomlplusplus#190; found by fuzz/node_config.cpp).
// Such text is refused before toml++ sees it; in a string the character can be written as a
// \uXXXX escape instead.
caf::error toml_unsafe(std::string_view text, const std::string& path) {
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const auto cont = [&](size_t k) { return i + k < text.size() && (b(k) & 0xC0) == 0x80; };
    uint32_t cp = 0;
    if (b(0) == '\n') {
      ++line;
    } else if (b(0) >= 0xC2 && b(0) <= 0xDF && cont(1)) {
      cp = (b(0) & 0x1Fu) << 6 | (b(1) & 0x3Fu);
    } else if (b(0) >= 0xE0 && b(0) <= 0xEF && cont(1) && cont(2)) {
      cp = (b(0) & 0x0Fu) << 12 | (b(1) & 0x3Fu) << 6 | (b(2) & 0x3Fu);
    }
    if ((cp >= 0xA1 && cp <= 0x499) || (cp >= 0x2C5E && cp <= 0x3057 && cp != 0x3000) ||
        (cp >= 0xFB26 && cp <= 0xFEFE))
      return bad(fmt::format("{}:{}: character U+{:04X} is not supported by this build's TOML "
                             "parser (toml++ 3.3.0); in a string, write it as \\u{:04X}",
                             path, line, cp, cp));
  }
  return {};
}

caf::error parse_failed(const std::string& path, const toml::parse_error& e) {
  return bad(fmt::format("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column,
                         e.description()));
}

} // namespace

caf::expected<node_config> load_config_file(const std::string& path) {
  if (std::ifstream in{path, std::ios::binary}; in) // unreadable: toml++ says so below
    if (auto e = toml_unsafe(std::string{std::istreambuf_iterator<char>(in), {}}, path)) return e;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return parse_failed(path, e);
  }
  return load_table(root, path);
}

caf::expected<node_config> load_config_string(std::string_view toml_text,
                                              const std::string& source) {
  if (auto e = toml_unsafe(toml_text, source)) return e;
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return parse_failed(source, e);
  }
  return load_table(root, source);
}

caf::expected<void> apply_override(node_config& cfg, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos)
    return bad(fmt::format("'{}': expected section.name=value", assignment));
  std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  const option* o = find(key);
  if (!o) return bad(fmt::format("unknown setting '{}' (see --help)", key));
  if (auto e = o->set(cfg, value); !e.empty()) return bad(fmt::format("{}: {}", key, e));
  return caf::unit;
}

ordo::cluster::tls_options cluster_tls(const node_config& cfg) {
  return {cfg.cluster_tls, cfg.tls_certificate, cfg.tls_key, cfg.tls_ca};
}

caf::expected<void> validate(const node_config& cfg) {
  auto colon = cfg.http.listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return bad(fmt::format("http.listen: '{}' is not host:port", cfg.http.listen));
  uint64_t port = 0;
  if (auto e = parse_u64(cfg.http.listen.substr(colon + 1), 0, 65535, port); !e.empty())
    return bad(fmt::format("http.listen: port {}", e));
  std::string host = cfg.http.listen.substr(0, colon);
  bool loopback = host == "127.0.0.1" || host == "localhost" || host == "[::1]";
  if (cfg.keys.empty() && !loopback)
    return bad(fmt::format("http.listen: {} is not loopback but no [[auth.keys]] are configured: "
                           "refusing to serve without authentication",
                           cfg.http.listen));
  if (!cfg.cluster.empty()) { // TLS between nodes, or loopback only (docs/cluster.md)
    std::vector<ordo::cluster::member> members;
    for (const auto& m : cfg.cluster)
      members.push_back({m.id, m.host, m.port});
    if (auto e = ordo::cluster::check_policy(cluster_tls(cfg), members); !e.empty())
      return bad("cluster: " + e);
  }
  // With keys the node is reachable by others: a webhook must prove it comes from the provider.
  if (cfg.gateway == "webhook" && !cfg.keys.empty() && cfg.payments.webhook_secret.empty())
    return bad("payments.webhook_secret: required with saga.gateway = webhook and API keys "
               "(payment webhooks are signed, docs/api.md)");
  for (size_t i = 0; i < cfg.keys.size(); ++i)
    for (size_t j = i + 1; j < cfg.keys.size(); ++j)
      if (cfg.keys[i].key_sha256 == cfg.keys[j].key_sha256 || cfg.keys[i].name == cfg.keys[j].name)
        return bad(fmt::format("auth.keys: '{}' and '{}' share a name or a key", cfg.keys[i].name,
                               cfg.keys[j].name));
  return caf::unit;
}

std::string help_text() {
  std::string out =
      "usage: ordo-node [--config FILE] [--section.name=value ...]\n"
      "\n"
      "Starts an Ordo node: the order runtime (CAF actors, LMDB journal, full sync) behind the\n"
      "HTTP/JSON API of docs/api.md. Every setting has a default, so no config is needed for a\n"
      "single node. A TOML file (--config) sets any of them per [section]; a command-line\n"
      "--section.name=value overrides the file. SIGTERM/SIGINT: stop accepting, drain, flush.\n"
      "\n"
      "  --config FILE       TOML config file (example: app/node/ordo-node.example.toml)\n"
      "  --data DIR          shorthand for --node.data_dir=DIR\n"
      "  --listen HOST:PORT  shorthand for --http.listen=HOST:PORT\n"
      "  --check-config      load and validate the config, print it, and exit\n"
      "  --help              this text\n"
      "\nSettings (key, default, meaning):\n";
  for (const auto& o : options())
    out += fmt::format("  {:<32} {:<15} {}\n", o.key, o.fallback, o.help);
  out += "\nIn the file only:\n"
         "  [[auth.keys]]  name, key (>= 16 chars) or key_sha256 (its SHA-256, 64 hex digits),\n"
         "                 role (customer|merchant|operations|payments), subject (the customer\n"
         "                 or merchant id it acts as). No keys: no authentication, and\n"
         "                 http.listen must stay on loopback.\n"
         "  [[cluster.nodes]]  id, host, port (the cluster issue; one node: leave out). A cluster\n"
         "                 needs cluster.tls_certificate, cluster.tls_key and cluster.tls_ca\n"
         "                 (or cluster.tls = false with every node on loopback)\n";
  return out;
}

} // namespace ordo::node
