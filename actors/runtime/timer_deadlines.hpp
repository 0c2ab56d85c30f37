#pragma once
// When durable timers fire while the process runs: steady-clock deadlines kept in memory
// beside the wall-clock deadlines the journal stores.
//
// Why: a durable timer (the payment timeout) is stored with its deadline in wall-clock ms —
// the journal orders timers by it and it survives restarts. But the wall clock can be
// stepped (NTP, an operator, a resumed VM). Fired by the wall clock, a step forward of hours
// cancels every order waiting for payment at once, and a step back holds their timeouts for
// hours. So while the process runs, timers fire on std::chrono::steady_clock
// (CLOCK_MONOTONIC, which a step of the wall clock does not move):
//  - scheduled here (an entity actor, just before it submits the append holding the
//    schedule): fires at (steady now) + (its delay = wall deadline − the decision's wall
//    time), whatever the wall clock does meanwhile;
//  - stored but not scheduled by this process (written by an earlier run, imported with a
//    shard): *adopted* when the saga first sees it, to fire at
//        steady now + clamp(wall deadline − wall now, 0, cap),   cap = the payment timeout,
//    i.e. at min(its wall deadline, now + its timeout). Across a restart only the wall time
//    exists: a step forward while the node was down fires such timers at once, a step back
//    delays them by at most the timeout.
// A deadline here is a hint, the journal is the truth: a timer fired from here whose order has
// moved on gets a refused TimeOutPayment and its stored timer is cancelled (docs/saga.md).
// The saga fires stored timers this table does not know (a cancel that lost a race, more
// timers than it adopts) by their wall deadline, as before. See docs/runtime.md, "Clocks, durable
// timers and clock steps".
//
// Thread-safe: entity actors write, the saga dispatcher adopts and takes; one mutex.
// Size: one entry per live timer (an order waiting for payment), about 200 bytes each
// (estimated: the key twice, a hash-map node, a tree node).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ordo {

class timer_deadlines {
public:
  using clock = std::chrono::steady_clock;
  struct timer_ref {
    std::string entity;   // storage key, e.g. "o/01J..."
    std::string timer_id; // e.g. "payment"
  };

  /// A schedule about to be appended: fires at `due` (replaces a deadline of the same timer).
  void scheduled(std::string_view entity, std::string_view timer_id, uint64_t wall_due_ms,
                 clock::time_point due);
  /// The append holding that schedule failed: forgets it if it is still that schedule.
  void unscheduled(std::string_view entity, std::string_view timer_id, uint64_t wall_due_ms);
  /// A committed cancel (or a timer handled elsewhere): forgets the deadline.
  void cancelled(std::string_view entity, std::string_view timer_id);
  /// A stored timer the saga saw: unless known, it fires at now + clamp(wall_due − wall_now,
  /// 0, cap) (no cap: its wall deadline only). Returns true if it was adopted.
  bool adopt(std::string_view entity, std::string_view timer_id, uint64_t wall_due_ms,
             int64_t wall_now_ms, clock::time_point now,
             std::optional<std::chrono::milliseconds> cap);
  bool known(std::string_view entity, std::string_view timer_id) const;
  /// Removes and returns the timers whose deadline is ≤ now, earliest first, at most `max`.
  std::vector<timer_ref> take_due(clock::time_point now, size_t max);
  /// Forgets the timers of the entities `select` picks (a shard handed to another node).
  void forget_if(const std::function<bool(std::string_view entity)>& select);
  /// Stored timers appeared that nobody scheduled here (an import): the saga adopts again.
  void request_scan() { scan_.store(true); }
  /// True once per request_scan() (and once at start: timers of an earlier run).
  bool take_scan_request() { return scan_.exchange(false); }
  size_t size() const;

private:
  struct entry {
    uint64_t wall_due_ms = 0;
    clock::time_point due;
  };
  static std::string key_of(std::string_view entity, std::string_view timer_id);
  static timer_ref ref_of(std::string_view key);
  void put(std::string key, uint64_t wall_due_ms, clock::time_point due); // mu_ held
  void erase(std::unordered_map<std::string, entry>::iterator it);        // mu_ held

  mutable std::mutex mu_;
  std::unordered_map<std::string, entry> by_key_;
  std::set<std::pair<clock::time_point, std::string>> by_due_;
  std::atomic<bool> scan_{true};
};

} // namespace ordo
