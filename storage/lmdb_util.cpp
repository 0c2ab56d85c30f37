#include "storage/lmdb_util.hpp"

#include <fmt/core.h>

namespace ordo::storage::lmdb {

caf::error error_from(int rc, const std::string& what) {
  auto msg = fmt::format("{}: {} ({})", what, mdb_strerror(rc), rc);
  if (is_full(rc)) return make_error(storage_errc::storage_full, std::move(msg));
  return make_error(storage_errc::lmdb_error, std::move(msg));
}

int txn::begin(MDB_env* env, bool read_only) {
  abort();
  return mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &t_);
}

int txn::commit() {
  auto* t = t_;
  t_ = nullptr;
  return mdb_txn_commit(t);
}

void txn::abort() {
  if (t_ != nullptr) mdb_txn_abort(t_);
  t_ = nullptr;
}

cursor::cursor(MDB_txn* t, MDB_dbi d) {
  rc_ = mdb_cursor_open(t, d, &c_);
}

cursor::~cursor() {
  if (c_ != nullptr) mdb_cursor_close(c_);
}

int cursor::get(MDB_cursor_op op) {
  if (rc_ != 0) return rc_;
  return mdb_cursor_get(c_, &k_, &v_, op);
}

int cursor::seek(std::string_view key, MDB_cursor_op op) {
  if (rc_ != 0) return rc_;
  k_ = val(key);
  return mdb_cursor_get(c_, &k_, &v_, op);
}

int get(MDB_txn* t, MDB_dbi d, std::string_view key, std::string_view& out) {
  MDB_val k = val(key), v{};
  int rc = mdb_get(t, d, &k, &v);
  if (rc == 0) out = sv(v);
  return rc;
}

int put(MDB_txn* t, MDB_dbi d, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = val(key), v = val(value);
  return mdb_put(t, d, &k, &v, flags);
}

int del(MDB_txn* t, MDB_dbi d, std::string_view key) {
  MDB_val k = val(key);
  return mdb_del(t, d, &k, nullptr);
}

int open_tables(MDB_txn* t, bool create, tables& out) {
  unsigned flags = create ? MDB_CREATE : 0;
  struct entry {
    const char* name;
    MDB_dbi* dbi;
  };
  const entry all[] = {{"meta", &out.meta},         {"log", &out.log},
                       {"index", &out.index},       {"idem", &out.idem},
                       {"idem_exp", &out.idem_exp}, {"snap", &out.snap},
                       {"timers", &out.timers},     {"timer_ids", &out.timer_ids},
                       {"offsets", &out.offsets}};
  for (const auto& e : all)
    if (int rc = mdb_dbi_open(t, e.name, flags, e.dbi); rc != 0) return rc;
  int rc = mdb_dbi_open(t, "import_log", flags, &out.import_log);
  out.has_import_log = rc == 0;
  return rc == MDB_NOTFOUND && !create ? 0 : rc;
}

} // namespace ordo::storage::lmdb
