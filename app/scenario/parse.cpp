#include <set>
#include <sstream>

#include <fmt/core.h>

#include "app/scenario/scenario.hpp"

namespace ordo::scenario {

namespace {

// How many positional words each verb takes (after the verb itself).
const std::map<std::string, size_t>& arity() {
  static const std::map<std::string, size_t> table{
      {"stock", 2},
      {"price", 2},
      {"place", 1},
      {"reserved", 1},
      {"out-of-stock", 1},
      {"authorized", 1},
      {"declined", 1},
      {"payment-timeout", 1},
      {"fulfil", 1},
      {"ship", 1},
      {"deliver", 1},
      {"cancel", 1},
      {"refund", 1},
      {"reserve", 1},
      {"release", 1},
      {"commit", 1},
      {"adjust", 1},
      {"restart", 0},
      {"sleep", 1},
      {"saga", 1},
      {"await", 2},
  };
  return table;
}

const std::set<std::string> known_flags{"restock"};

} // namespace

parse_result parse(const std::string& text) {
  parse_result out;
  std::istringstream in{text};
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    auto hash = raw.find('#');
    std::string body = hash == std::string::npos ? raw : raw.substr(0, hash);
    std::istringstream words{body};
    std::vector<std::string> w;
    for (std::string x; words >> x;)
      w.push_back(x);
    if (w.empty()) continue;
    step s;
    s.line = number;
    s.text = body;
    s.verb = w[0];
    for (size_t i = 1; i < w.size(); ++i) {
      auto eq = w[i].find('=');
      if (eq != std::string::npos) {
        auto k = w[i].substr(0, eq), v = w[i].substr(eq + 1);
        if (k == "line")
          s.lines.push_back(v);
        else
          s.named[k] = v;
      } else if (known_flags.count(w[i]) > 0 && s.verb != "expect") {
        s.flags.push_back(w[i]);
      } else {
        s.args.push_back(w[i]);
      }
    }
    if (s.verb == "expect") {
      static const std::set<std::string> kinds{"accepted", "rejected", "duplicate", "overloaded",
                                               "failed",   "state",    "stock"};
      if (s.args.empty() || kinds.count(s.args[0]) == 0) {
        out.errors.push_back(fmt::format("line {}: expect needs one of accepted, rejected, "
                                         "duplicate, overloaded, failed, state, stock",
                                         number));
        continue;
      }
      if ((s.args[0] == "state" || s.args[0] == "stock") && s.args.size() < 2) {
        out.errors.push_back(fmt::format("line {}: expect {} needs a name", number, s.args[0]));
        continue;
      }
    } else {
      auto it = arity().find(s.verb);
      if (it == arity().end()) {
        out.errors.push_back(fmt::format("line {}: unknown step '{}'", number, s.verb));
        continue;
      }
      if (s.args.size() != it->second) {
        out.errors.push_back(fmt::format("line {}: '{}' takes {} name(s), got {}", number, s.verb,
                                         it->second, s.args.size()));
        continue;
      }
    }
    out.steps.push_back(std::move(s));
  }
  return out;
}

} // namespace ordo::scenario
