#pragma once
// The checker for the crash and fsync tests: every acknowledged event present and whole,
// sequences contiguous, every stored event byte-exact, verify() clean.

#include <map>
#include <set>
#include <sstream>

#include "crash_common.hpp"
#include "test_util.hpp"

namespace ordo::storage::test {

struct ack {
  std::string entity;
  uint64_t seq = 0;
};

/// Parses "A <entity> <seq> <hash>" lines; other lines are ignored.
inline void parse_acks(const std::vector<std::string>& lines, std::vector<ack>& out) {
  for (const auto& l : lines) {
    if (l.size() < 2 || l[0] != 'A') continue;
    std::istringstream in(l.substr(2));
    ack a;
    uint64_t h = 0;
    in >> a.entity >> a.seq >> h;
    out.push_back(a);
  }
}

struct check_result {
  uint64_t acked = 0, stored = 0;
  uint64_t lost = 0, damaged = 0, read_errors = 0, idem_missing = 0, verify_problems = 0;
  std::string first_problem;
  bool clean() const {
    return lost == 0 && damaged == 0 && read_errors == 0 && idem_missing == 0 &&
           verify_problems == 0;
  }
  std::string summary() const {
    return fmt::format("acked {} stored {} lost {} damaged {} read_errors {} idem_missing {} "
                       "verify_problems {} {}",
                       acked, stored, lost, damaged, read_errors, idem_missing, verify_problems,
                       first_problem);
  }
};

inline check_result check_store(const std::string& dir, const std::vector<ack>& acks,
                                const std::vector<std::string>& extra_entities) {
  check_result r;
  std::map<std::string, uint64_t> max_acked;
  for (const auto& a : acks) {
    auto& m = max_acked[a.entity];
    m = std::max(m, a.seq);
  }
  for (const auto& e : extra_entities)
    max_acked.emplace(e, 0);
  r.acked = acks.size();
  {
    auto o = options_for(dir);
    o.map_size_bytes = uint64_t{4} << 30;
    auto j = open_or_die(o);
    for (const auto& [entity, max_seq] : max_acked) {
      caf::error err;
      auto h = history(*j, entity, 1, &err);
      if (err) {
        ++r.read_errors;
        if (r.first_problem.empty()) r.first_problem = describe(err);
      }
      r.stored += h.size();
      for (const auto& [seq, bytes] : h)
        if (bytes != payload_for(entity, seq)) {
          ++r.damaged;
          if (r.first_problem.empty())
            r.first_problem = fmt::format("{} seq {} payload differs", entity, seq);
        }
      if (h.size() < max_seq) {
        r.lost += max_seq - h.size();
        if (r.first_problem.empty())
          r.first_problem =
              fmt::format("{}: acked up to seq {}, stored {}", entity, max_seq, h.size());
      }
      if (max_seq > 0 && !entity.starts_with("phantom")) {
        auto k = j->find_idempotency(entity, "k1");
        if (!k || !*k) ++r.idem_missing;
      }
    }
  }
  auto rep = verify(dir);
  if (!rep) {
    ++r.verify_problems;
  } else {
    r.verify_problems += rep->problems.size();
    if (!rep->ok() && r.first_problem.empty()) r.first_problem = rep->problems.front();
  }
  return r;
}

} // namespace ordo::storage::test
