#include "exposition_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <utility>

#include <fmt/core.h>

namespace ordo::test {

namespace {

using labels = std::vector<std::pair<std::string, std::string>>;

struct sample {
  std::string name;
  labels label;
  double value = 0;
};

struct family {
  std::string type; // "" until its TYPE line
  bool help = false;
  bool sampled = false;
  bool closed = false; // another family's samples followed its group
};

// One histogram series (its labels but `le`): what its lines said, in their order.
struct histogram_series {
  size_t line = 0; // where it starts, for the report
  std::vector<std::pair<double, double>> buckets; // (le, cumulative count)
  bool sum = false;
  std::optional<double> count;
};

bool valid_name(std::string_view n, bool colon_allowed) {
  auto first = [&](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (colon_allowed && c == ':');
  };
  if (n.empty() || !first(n[0])) return false;
  return std::all_of(n.begin() + 1, n.end(), [&](char c) {
    return first(c) || std::isdigit(static_cast<unsigned char>(c));
  });
}

// A float as Prometheus reads a value: decimal or exponent notation, or +Inf, -Inf, NaN.
std::optional<double> parse_float(std::string_view s) {
  if (s == "+Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  static const std::regex number{R"([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)"};
  if (!std::regex_match(s.begin(), s.end(), number)) return std::nullopt;
  return std::strtod(std::string{s}.c_str(), nullptr);
}

// `text` after the opening brace: label pairs up to the closing brace, which `end` is set after.
std::string parse_labels(std::string_view text, size_t& end, labels& out) {
  size_t i = 0;
  while (i < text.size() && text[i] != '}') {
    size_t eq = text.find('=', i);
    if (eq == std::string_view::npos) return "a label without '='";
    auto name = text.substr(i, eq - i);
    if (!valid_name(name, false)) return fmt::format("bad label name '{}'", name);
    if (name.substr(0, 2) == "__") return fmt::format("reserved label name '{}'", name);
    for (const auto& [seen, v] : out)
      if (seen == name) return fmt::format("label '{}' twice", name);
    if (eq + 1 >= text.size() || text[eq + 1] != '"')
      return fmt::format("label '{}': value not quoted", name);
    std::string value;
    size_t j = eq + 2;
    for (; j < text.size() && text[j] != '"'; ++j) {
      if (text[j] != '\\') {
        value += text[j];
        continue;
      }
      if (++j == text.size()) break;
      if (text[j] == 'n')
        value += '\n';
      else if (text[j] == '\\' || text[j] == '"')
        value += text[j];
      else
        return fmt::format("label '{}': escape '\\{}' (only \\\\, \\\" and \\n)", name, text[j]);
    }
    if (j >= text.size()) return fmt::format("label '{}': value not closed", name);
    out.emplace_back(std::string{name}, std::move(value));
    i = j + 1;
    if (i < text.size() && text[i] == ',') ++i;
    else if (i < text.size() && text[i] != '}')
      return fmt::format("after label '{}': '{}' instead of ',' or '}}'", name, text[i]);
  }
  if (i >= text.size()) return "labels not closed by '}'";
  end = i + 1;
  return {};
}

// name[{labels}] value [timestamp]
std::string parse_sample(std::string_view line, sample& out) {
  size_t name_end = line.find_first_of("{ ");
  if (name_end == std::string_view::npos) return "no value";
  out.name = std::string{line.substr(0, name_end)};
  if (!valid_name(out.name, true)) return fmt::format("bad metric name '{}'", out.name);
  auto rest = line.substr(name_end);
  if (rest[0] == '{') {
    size_t end = 0;
    if (auto e = parse_labels(rest.substr(1), end, out.label); !e.empty()) return e;
    rest = rest.substr(1 + end);
  }
  if (rest.empty() || rest[0] != ' ') return "no space before the value";
  rest.remove_prefix(rest.find_first_not_of(' ') == std::string_view::npos
                         ? rest.size()
                         : rest.find_first_not_of(' '));
  auto value_text = rest.substr(0, rest.find(' '));
  auto value = parse_float(value_text);
  if (!value) return fmt::format("value '{}' is not a float", value_text);
  out.value = *value;
  if (value_text.size() < rest.size()) {
    auto ts = rest.substr(value_text.size());
    ts.remove_prefix(std::min(ts.size(), ts.find_first_not_of(' ')));
    static const std::regex integer{R"(-?\d+)"};
    if (!std::regex_match(ts.begin(), ts.end(), integer))
      return fmt::format("'{}' after the value is not a timestamp", ts);
  }
  return {};
}

// The checker's state across lines.
class checker {
public:
  void line(size_t n, std::string_view text) {
    if (text.empty()) return;
    if (text[0] == '#') return comment(n, text);
    sample s;
    if (auto e = parse_sample(text, s); !e.empty()) return problem(n, e);
    take(n, std::move(s));
  }

  std::vector<std::string> finish() {
    for (const auto& [key, h] : histograms_)
      check_histogram(key, h);
    return std::move(problems_);
  }

private:
  void problem(size_t n, const std::string& what) {
    problems_.push_back(fmt::format("line {}: {}", n, what));
  }

  void comment(size_t n, std::string_view text) {
    static const std::regex help{R"(# HELP ([^ ]+)( (.*))?)"}, type{R"(# TYPE ([^ ]+) ([^ ]+))"};
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_match(text.begin(), text.end(), m, help)) {
      auto& f = families_[m.str(1)];
      if (!valid_name(m.str(1), true)) problem(n, fmt::format("bad metric name '{}'", m.str(1)));
      if (f.help) problem(n, fmt::format("a second HELP for {}", m.str(1)));
      f.help = true;
      static const std::regex bad_escape{R"((^|[^\\])(\\\\)*\\([^\\n]|$))"};
      if (std::regex_search(m.str(3), bad_escape))
        problem(n, fmt::format("HELP of {}: a backslash not written \\\\ or \\n", m.str(1)));
    } else if (std::regex_match(text.begin(), text.end(), m, type)) {
      auto& f = families_[m.str(1)];
      static const std::set<std::string> types{"counter", "gauge", "histogram", "summary",
                                               "untyped"};
      if (!valid_name(m.str(1), true)) problem(n, fmt::format("bad metric name '{}'", m.str(1)));
      if (!types.count(m.str(2))) problem(n, fmt::format("unknown type '{}'", m.str(2)));
      if (!f.type.empty()) problem(n, fmt::format("a second TYPE for {}", m.str(1)));
      if (f.sampled) problem(n, fmt::format("TYPE of {} after its samples", m.str(1)));
      f.type = m.str(2);
    } else if (text.rfind("# HELP", 0) == 0 || text.rfind("# TYPE", 0) == 0) {
      problem(n, "malformed HELP or TYPE line");
    }
  }

  // The family a sample belongs to: its own name, or a histogram's (name_bucket, _sum, _count)
  // or summary's (name_sum, _count). "" when no TYPE line declared one.
  std::string family_of(const std::string& name, std::string& suffix) const {
    if (auto it = families_.find(name); it != families_.end() && !it->second.type.empty() &&
                                        it->second.type != "histogram") {
      suffix.clear();
      return name;
    }
    for (const char* s : {"_bucket", "_sum", "_count"}) {
      const std::string_view sv{s};
      if (name.size() <= sv.size() || name.compare(name.size() - sv.size(), sv.size(), sv) != 0)
        continue;
      auto it = families_.find(name.substr(0, name.size() - sv.size()));
      if (it == families_.end()) continue;
      if (it->second.type == "histogram" || (it->second.type == "summary" && sv != "_bucket")) {
        suffix = s;
        return it->first;
      }
    }
    return {};
  }

  void take(size_t n, sample s) {
    std::string suffix;
    auto name = family_of(s.name, suffix);
    if (name.empty()) return problem(n, fmt::format("{} has no TYPE line before it", s.name));
    auto& f = families_[name];
    if (f.closed) problem(n, fmt::format("samples of {} are not in one group", name));
    if (current_ != name) {
      if (!current_.empty()) families_[current_].closed = true;
      current_ = name;
    }
    f.sampled = true;
    auto sorted = s.label;
    std::sort(sorted.begin(), sorted.end());
    if (!series_.insert({s.name, sorted}).second)
      problem(n, fmt::format("{} with these labels twice", s.name));
    if ((f.type == "counter" || f.type == "histogram") && !(s.value >= 0))
      problem(n, fmt::format("{} is {}: a {} is never negative", s.name, s.value, f.type));
    if (f.type == "histogram") histogram_sample(n, name, suffix, s);
  }

  void histogram_sample(size_t n, const std::string& name, const std::string& suffix,
                        const sample& s) {
    std::optional<double> le;
    labels rest;
    for (const auto& [k, v] : s.label)
      if (k == "le") {
        le = parse_float(v);
        if (!le) problem(n, fmt::format("{}: le=\"{}\" is not a float", s.name, v));
      } else {
        rest.emplace_back(k, v);
      }
    std::sort(rest.begin(), rest.end());
    auto& h = histograms_[{name, rest}];
    if (h.line == 0) h.line = n;
    if (suffix == "_bucket") {
      if (le) h.buckets.emplace_back(*le, s.value);
      else problem(n, fmt::format("{} without an le label", s.name));
    } else if (s.label.size() != rest.size()) {
      problem(n, fmt::format("{} has an le label", s.name));
    } else if (suffix == "_sum") {
      h.sum = true;
    } else {
      h.count = s.value;
    }
  }

  void check_histogram(const std::pair<std::string, labels>& key, const histogram_series& h) {
    auto what = fmt::format("histogram {} (series from line {})", key.first, h.line);
    if (h.buckets.empty()) return problem(h.line, what + ": no buckets");
    for (size_t i = 1; i < h.buckets.size(); ++i) {
      if (!(h.buckets[i].first > h.buckets[i - 1].first))
        problem(h.line, fmt::format("{}: le {} does not follow {} in increasing order", what,
                                    h.buckets[i].first, h.buckets[i - 1].first));
      if (h.buckets[i].second < h.buckets[i - 1].second)
        problem(h.line, fmt::format("{}: bucket counts decrease at le {}", what,
                                    h.buckets[i].first));
    }
    if (!std::isinf(h.buckets.back().first) || h.buckets.back().first < 0)
      problem(h.line, what + ": the last bucket is not le=\"+Inf\"");
    if (!h.sum) problem(h.line, what + ": no _sum");
    if (!h.count) problem(h.line, what + ": no _count");
    else if (*h.count != h.buckets.back().second)
      problem(h.line, fmt::format("{}: _count {} differs from the +Inf bucket's {}", what,
                                  *h.count, h.buckets.back().second));
  }

  std::map<std::string, family> families_;
  std::string current_;
  std::set<std::pair<std::string, labels>> series_;
  std::map<std::pair<std::string, labels>, histogram_series> histograms_;
  std::vector<std::string> problems_;
};

} // namespace

std::vector<std::string> exposition_problems(std::string_view text) {
  checker c;
  size_t n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    ++n;
    if (nl == std::string_view::npos) {
      c.line(n, text);
      auto problems = c.finish();
      problems.push_back(fmt::format("line {}: the last line has no newline", n));
      return problems;
    }
    c.line(n, text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  return c.finish();
}

} // namespace ordo::test
