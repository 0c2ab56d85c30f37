#pragma once
// Judging a crash image: what the acknowledgements before the cut promise, and whether the
// image keeps those promises (opened and read in a forked process, so an LMDB crash on a
// broken image is a finding, not the end of the test).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ordo::storage::power {

/// What the acknowledgements seen so far promise. Fed the child's stdout bytes in order.
struct expectations {
  bool opened = false;                                        // an "R" line
  std::map<std::string, std::map<uint64_t, uint64_t>> events; // entity → seq → content hash
  std::map<std::pair<std::string, std::string>, std::string> idempotency; // (entity,key) → result
  std::map<std::string, uint64_t> snapshots; // entity → highest acked snapshot seq
  std::map<std::string, uint64_t> offsets;   // name → highest acked position
  uint64_t acked_events = 0;
  std::vector<std::string> errors; // "E" lines
  std::string partial;             // an incomplete last line

  void add(std::string_view bytes);
};

struct image_result {
  bool open_failed = false;    // journal::open or verify() could not open the store
  bool crashed = false;        // the checking process died (signal) or timed out
  uint64_t lost = 0;           // acked items missing: events, idempotency records, snapshots,
                               // offsets, or the store itself (the journal's tables after "R")
  uint64_t damaged = 0;        // stored bytes differ from what was written
  uint64_t read_errors = 0;    // read calls that failed (corrupted, ...)
  uint64_t verify_before = 0;  // verify() problems of the image as it is
  uint64_t verify_after = 0;   // ... after journal::open and close
  uint64_t events_checked = 0; // acked events looked up
  std::string first_problem;

  /// No promise broken. Before the first "R" (journal::open returned) nothing was promised:
  /// the image may not open, or hold an LMDB env without the journal's tables (init_store's
  /// commit not yet durable) — but once journal::open succeeds, all must be well.
  bool clean(bool opened) const {
    return !crashed && (!opened || (!open_failed && verify_before == 0)) && lost == 0 &&
           damaged == 0 && read_errors == 0 && verify_after == 0;
  }
  std::string summary() const;
};

/// Checks the store in `dir` against `e` in a forked child (timeout in seconds): verify(),
/// then journal::open and every acked item read back (events by entity and seq with their
/// content hash; unacknowledged stored events must still be byte-exact), close, verify() again.
image_result check_image(const std::string& dir, const expectations& e, int timeout_s = 60);

} // namespace ordo::storage::power
