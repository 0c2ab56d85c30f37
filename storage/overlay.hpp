#pragma once
// Internal: the log's un-checkpointed tail, indexed the way the journal reads.
//
// Every batch the writer made durable in the shard log is added here before its requests are
// acknowledged, and removed once a checkpoint has applied it to LMDB. Reads merge this with
// LMDB: what is here is newer than (or the same as) what LMDB holds. It holds the batches
// themselves (shared, immutable) and indexes into them: the feed by position, events by entity
// and seq, idempotency records by entity and key, the newest snapshot and the timer changes of
// each entity, and the timers it schedules by due time. Bounded by the checkpoint thresholds
// (the writer waits when it is full).
//
// Not thread-safe: journal::impl guards it (see journal_impl.hpp, "The overlay's locks").

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "storage/log_format.hpp"

namespace ordo::storage {

class overlay {
public:
  using batch_ptr = std::shared_ptr<const logfmt::logged_batch>;

  /// Indexes a durable batch (positions after every batch added so far).
  void add(batch_ptr b);
  /// Drops the batches with position ≤ `position` (applied to LMDB) and their index entries.
  void remove_through(uint64_t position);

  const std::deque<batch_ptr>& batches() const { return batches_; }
  bool empty() const { return batches_.empty(); }
  size_t bytes() const { return bytes_; }
  size_t records() const { return records_; }

  /// Whether the tail holds anything of the entity (events, snapshot, timers).
  bool holds(std::string_view entity) const { return entities_.count(std::string{entity}) != 0; }
  /// The entity's last seq if the tail holds events of it.
  std::optional<uint64_t> last_seq(std::string_view entity) const;
  /// The entity's first seq held here (events before it are in LMDB), 0 if none.
  uint64_t first_seq(std::string_view entity) const;
  /// Events of the entity with seq ≥ from held here, in order.
  void events(std::string_view entity, uint64_t from,
              std::vector<std::pair<uint64_t, std::string>>& out) const;
  /// The newest snapshot requested in the tail (may be older than LMDB's: compare seqs).
  std::optional<snapshot> latest_snapshot(std::string_view entity) const;
  /// The stored result of an idempotency record in the tail.
  std::optional<std::string> idempotency(std::string_view entity, std::string_view key) const;

  struct timer_change {
    bool scheduled = false; // false: cancelled in the tail (LMDB's copy no longer counts)
    uint64_t due_ms = 0;
    std::string payload;
  };
  std::optional<timer_change> timer(std::string_view entity, std::string_view timer_id) const;
  struct due_timer {
    std::string entity, timer_id, payload;
    uint64_t due_ms = 0;
  };
  /// Timers scheduled in the tail with due_ms ≤ now_ms, earliest first, at most max.
  std::vector<due_timer> due(uint64_t now_ms, size_t max) const;

  /// First feed position held here (0: none) and the last.
  uint64_t feed_first() const { return feed_.empty() ? 0 : feed_first_; }
  uint64_t feed_last() const { return feed_.empty() ? 0 : feed_first_ + feed_.size() - 1; }
  struct feed_item {
    uint64_t position = 0, seq = 0;
    std::string entity, bytes;
  };
  /// Feed records with position > after, at most max.
  void feed(uint64_t after, size_t max, std::vector<feed_item>& out) const;

  /// Entities with events here whose name starts with `prefix`.
  std::optional<std::string> last_entity_with_prefix(std::string_view prefix) const;

private:
  struct feed_ref {
    const logfmt::logged_request* req = nullptr;
    uint32_t index = 0; // event index in req
  };
  struct timer_state {
    const timer_schedule* schedule = nullptr; // null: cancelled
    uint64_t batch = 0;
  };
  // Feed positions in order, popped from the front. Not a std::deque: libstdc++'s allocates
  // ~600 bytes even when empty, one per entity in the tail, which was most of a replay's
  // page faults; an entity holds a handful of positions.
  class position_fifo {
  public:
    bool empty() const { return head_ == v_.size(); }
    size_t size() const { return v_.size() - head_; }
    uint64_t operator[](size_t i) const { return v_[head_ + i]; }
    void push_back(uint64_t p) { v_.push_back(p); }
    void pop_front() {
      if (++head_ == v_.size()) {
        v_.clear();
        head_ = 0;
      } else if (head_ >= 64 && head_ * 2 >= v_.size()) { // keep a busy entity's vector small
        v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
      }
    }

  private:
    std::vector<uint64_t> v_;
    size_t head_ = 0;
  };
  struct entity_tail {
    uint64_t first_seq = 0;
    position_fifo positions; // feed positions of seqs first_seq, first_seq + 1, ...
    const snapshot_write* snap = nullptr;
    uint64_t snap_batch = 0;
    std::unordered_map<std::string, timer_state> timers;
  };
  struct idem_ref {
    const idempotency_record* rec = nullptr;
    uint64_t batch = 0;
  };

  const feed_ref* at_position(uint64_t position) const;
  void drop_idempotency(const append_request& r, uint64_t position);
  void set_timer(entity_tail& t, const std::string& entity, const std::string& id,
                 const timer_schedule* s, uint64_t batch);

  std::deque<batch_ptr> batches_;
  std::deque<feed_ref> feed_;
  uint64_t feed_first_ = 0;
  std::unordered_map<std::string, entity_tail> entities_;
  // Idempotency records by a hash of (entity, key): no key string to build per lookup. The
  // record holds its entity and key, so a lookup compares them (colliding pairs share a hash).
  using idem_map = std::unordered_multimap<uint64_t, idem_ref>;
  static uint64_t idem_hash(std::string_view entity, std::string_view key);
  idem_map::const_iterator find_idem(std::string_view entity, std::string_view key) const;
  idem_map idem_;
  std::set<std::tuple<uint64_t, std::string, std::string>> due_; // due_ms, entity, timer id
  size_t bytes_ = 0, records_ = 0;
};

} // namespace ordo::storage
