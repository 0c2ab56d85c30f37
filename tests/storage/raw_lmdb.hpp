#pragma once
// Raw LMDB access for the corruption tests: read and overwrite stored values behind the
// journal's back, and dump a whole store's logical content.

#include <map>
#include <string>
#include <vector>

#include <lmdb.h>

namespace ordo::storage::test {

inline const std::vector<std::string>& table_names() {
  static const std::vector<std::string> names{"meta", "log",    "index",     "idem",   "idem_exp",
                                              "snap", "timers", "timer_ids", "offsets"};
  return names;
}

class raw_store {
public:
  explicit raw_store(const std::string& dir, bool read_only = false) {
    mdb_env_create(&env_);
    mdb_env_set_maxdbs(env_, 16);
    mdb_env_set_mapsize(env_, size_t{1} << 30);
    ok_ = mdb_env_open(env_, dir.c_str(), read_only ? MDB_RDONLY : 0, 0644) == 0;
  }
  ~raw_store() { mdb_env_close(env_); }
  raw_store(const raw_store&) = delete;
  raw_store& operator=(const raw_store&) = delete;
  bool ok() const { return ok_; }

  /// All (key, value) of one table; rc != 0 on an LMDB error.
  int dump_table(const std::string& table, std::vector<std::pair<std::string, std::string>>& out) {
    MDB_txn* t = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t);
    if (rc != 0) return rc;
    MDB_dbi d;
    rc = mdb_dbi_open(t, table.c_str(), 0, &d);
    MDB_cursor* c = nullptr;
    if (rc == 0) rc = mdb_cursor_open(t, d, &c);
    if (rc == 0) {
      MDB_val k, v;
      for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
           rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        out.emplace_back(std::string(static_cast<char*>(k.mv_data), k.mv_size),
                         std::string(static_cast<char*>(v.mv_data), v.mv_size));
      if (rc == MDB_NOTFOUND) rc = 0;
      mdb_cursor_close(c);
    }
    mdb_txn_abort(t);
    return rc;
  }

  int put(const std::string& table, const std::string& key, const std::string& value) {
    return write(table, [&](MDB_txn* t, MDB_dbi d) {
      MDB_val k{key.size(), const_cast<char*>(key.data())};
      MDB_val v{value.size(), const_cast<char*>(value.data())};
      return mdb_put(t, d, &k, &v, 0);
    });
  }

  int del(const std::string& table, const std::string& key) {
    return write(table, [&](MDB_txn* t, MDB_dbi d) {
      MDB_val k{key.size(), const_cast<char*>(key.data())};
      return mdb_del(t, d, &k, nullptr);
    });
  }

private:
  // One write transaction on `table` running op(txn, dbi); committed when op returns 0.
  template <class Op>
  int write(const std::string& table, Op&& op) {
    MDB_txn* t = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &t);
    if (rc != 0) return rc;
    MDB_dbi d;
    rc = mdb_dbi_open(t, table.c_str(), 0, &d);
    if (rc == 0) rc = op(t, d);
    if (rc != 0) {
      mdb_txn_abort(t);
      return rc;
    }
    return mdb_txn_commit(t);
  }

  MDB_env* env_ = nullptr;
  bool ok_ = false;
};

/// table -> key -> value for the whole store; rc != 0 if any table failed to read.
inline int dump_store(const std::string& dir,
                      std::map<std::string, std::map<std::string, std::string>>& out) {
  raw_store s(dir, true);
  if (!s.ok()) return -1;
  for (const auto& t : table_names()) {
    std::vector<std::pair<std::string, std::string>> kv;
    if (int rc = s.dump_table(t, kv); rc != 0) return rc;
    for (auto& [k, v] : kv)
      out[t][k] = v;
  }
  return 0;
}

} // namespace ordo::storage::test
