#pragma once
// Internal: thin RAII over the LMDB C API, and the table handles of one store.

#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <lmdb.h>

#include "storage/errors.hpp"

namespace ordo::storage::lmdb {

struct tables {
  MDB_dbi meta = 0;      // "format_version", "feed_low", "feed_next", "truncate_cursor",
                         // "import_next"
  MDB_dbi log = 0;       // position(BE) -> event record (the feed)
  MDB_dbi index = 0;     // len|entity|seq(BE) -> position, record crc
  MDB_dbi idem = 0;      // len|entity|key -> created_ms, result
  MDB_dbi idem_exp = 0;  // created_ms(BE)|len|entity|key -> (empty, sealed)
  MDB_dbi snap = 0;      // len|entity -> seq, bytes
  MDB_dbi timers = 0;    // due_ms(BE)|len|entity|timer_id -> payload
  MDB_dbi timer_ids = 0; // len|entity|timer_id -> due_ms
  MDB_dbi offsets = 0;   // name -> position
  // Imported events (journal::import_records): position(BE, 2^63 and up) -> event record, as in
  // `log`. A table of its own so that the feed stays the right edge of `log` (MDB_APPEND) and
  // feed scans never meet them. Absent in a store no build with imports has opened yet (only
  // possible read-only, in verify): has_import_log is false then.
  MDB_dbi import_log = 0;
  bool has_import_log = false;
};

inline MDB_val val(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline std::string_view sv(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

/// True for the "out of space" family: map full or disk full.
inline bool is_full(int rc) {
  return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT;
}

/// A caf::error for an LMDB return code; `what` names the operation and key.
caf::error error_from(int rc, const std::string& what);

class txn {
public:
  txn() = default;
  txn(txn&& other) noexcept : t_(other.t_) { other.t_ = nullptr; }
  txn& operator=(txn&&) = delete;
  ~txn() { abort(); }
  /// Begins a transaction; returns the LMDB code.
  int begin(MDB_env* env, bool read_only);
  int commit();
  void abort();
  MDB_txn* get() const { return t_; }

private:
  MDB_txn* t_ = nullptr;
};

class cursor {
public:
  cursor(MDB_txn* t, MDB_dbi d);
  ~cursor();
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;
  /// mdb_cursor_get; on success key()/value() hold the position.
  int get(MDB_cursor_op op);
  int seek(std::string_view key, MDB_cursor_op op = MDB_SET_RANGE);
  std::string_view key() const { return sv(k_); }
  std::string_view value() const { return sv(v_); }
  MDB_cursor* raw() const { return c_; }
  int open_rc() const { return rc_; }

private:
  MDB_cursor* c_ = nullptr;
  MDB_val k_{}, v_{};
  int rc_ = 0;
};

/// mdb_get; out is valid while the transaction lives.
int get(MDB_txn* t, MDB_dbi d, std::string_view key, std::string_view& out);
int put(MDB_txn* t, MDB_dbi d, std::string_view key, std::string_view value, unsigned flags = 0);
int del(MDB_txn* t, MDB_dbi d, std::string_view key);

/// Opens every table (creating them when `create`).
int open_tables(MDB_txn* t, bool create, tables& out);

} // namespace ordo::storage::lmdb
