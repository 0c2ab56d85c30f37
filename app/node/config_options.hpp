// The node's option table, shared by config.cpp (loading, overrides, --help) and its definition.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "app/node/config.hpp"

namespace ordo::node::config_options {

// A setter gets the value as text (TOML scalars are converted) and answers "" or a problem.
using setter = std::function<std::string(node_config&, const std::string&)>;

struct option {
  const char* key;
  const char* fallback; // the default, as shown by --help
  const char* help;
  setter set;
};

// A whole number (digits, `_` allowed between them) in lo..hi into `out`; "" or a problem.
std::string parse_u64(const std::string& s, uint64_t lo, uint64_t hi, uint64_t& out);

// Every setting, in --help order.
const std::vector<option>& options();

// The option named `key` ("section.name"), or nullptr.
const option* find(const std::string& key);

} // namespace ordo::node::config_options
