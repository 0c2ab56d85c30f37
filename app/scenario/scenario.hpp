#pragma once
// Scenarios: plain-text stories of orders, run against the real runtime (embedded.hpp) or a
// running node (remote.hpp).
//
// One step per line; `#` starts a comment. Orders are named by aliases (A, B, ...) that
// bind to the real order id when the order is placed. Every command may end with
// `key=<idempotency key>` (default: a fresh key per line, so lines never collide).
//
//   stock SKU-1 10                                  # restock a SKU (inventory)
//   price SKU-1 1500                                # its price of record (scenario currency)
//   place A customer=c-1 currency=EUR line=SKU-1:2:1500 [line=...] [merchant=m-1]
//   expect accepted                                 # outcome of the previous command
//   reserved A | out-of-stock A sku=SKU-1
//   authorized A amount=3000 [payment=pay-1] | declined A reason=card | payment-timeout A
//   fulfil A | ship A carrier=DHL tracking=T1 | deliver A
//   cancel A reason=changed-mind | refund A amount=500 [reason=damaged] [restock]
//   reserve SKU-1 order=A qty=2 price=1500 | release SKU-1 order=A | commit SKU-1 order=A
//   adjust SKU-1 delta=-3 reason=count
//   expect accepted | expect rejected [CODE] | expect duplicate | expect failed [code]
//   expect state A DELIVERED [total=3000] [authorized=..] [captured=..] [refunded=..] [seq=..]
//   expect stock SKU-1 [on_hand=10] [reserved=2] [available=8]
//   restart                                         # stop the runtime, start it again
//   saga on | saga off                              # restart with the order saga on/off
//   await A DELIVERED [ms=10000]                    # wait until the saga brought A there
//   sleep 50                                        # milliseconds
//
// `expect rejected CODE` matches the rejection code without its REJECTION_CODE_ prefix,
// e.g. `expect rejected ORDER_CLOSED`. Values with spaces are not supported: use dashes.

#include <map>
#include <optional>
#include <string>
#include <vector>


namespace ordo::scenario {

struct step {
  int line = 0;
  std::string verb;                         // first word, e.g. "place", "expect"
  std::vector<std::string> args;            // positional words after the verb
  std::map<std::string, std::string> named; // key=value words
  std::vector<std::string> lines;           // every line=... (place)
  std::vector<std::string> flags;           // bare words that are flags (e.g. restock)
  std::string text;                         // the original line, for messages
};

struct parse_result {
  std::vector<step> steps;
  std::vector<std::string> errors; // "line N: ..." for every line that does not parse
};

parse_result parse(const std::string& text);

struct run_report {
  int steps_run = 0;
  std::vector<std::string> failures; // "line N: <step>: expected ..., got ..."
  bool ok() const { return failures.empty(); }
};

class target;
/// Runs the steps against any target: the embedded runtime (embedded.hpp) or a running node
/// (remote.hpp).
run_report run_on(const std::vector<step>& steps, target& t, bool keep_going = false);

/// Reads and parses a scenario file; on failure fills report.failures and returns nullopt.
std::optional<std::vector<step>> read_file(const std::string& path, run_report& report);

} // namespace ordo::scenario
