/* libordo_power_shim.so — LD_PRELOAD recorder for the power-loss test.
 *
 * Environment: ORDO_PL_DIR (the data directory; only files below it are recorded) and
 * ORDO_PL_LOG (where the op log goes; power_log.h). Without both, every call passes through.
 *
 * What it records, and why (strace -f of LMDB 0.9.24 under the journal):
 *   open/openat(O_CREAT) of lock.mdb and data.mdb, a second open of data.mdb with O_DSYNC for
 *   the meta page; lseek + writev and pwrite64 of data pages; fdatasync; pwrite64 of the meta
 *   page through the O_DSYNC fd (MDB_NOSYNC/MDB_NOMETASYNC: through the plain fd); ftruncate and
 *   a MAP_SHARED writable mmap of lock.mdb. No fsync, msync, rename or unlink on Linux.
 * The other calls (fsync, directory fsync, sync, syncfs, rename, unlink, fallocate, pwritev2,
 * dup, O_APPEND, fopen) are here so that other files in the data directory — a write-ahead
 * log, a lock file, a manifest renamed into place — are recorded the same way.
 *
 * Every recorded call runs under one process-wide lock together with writing its record, so
 * the log order is the order in which the calls took effect, across threads. Writes to fd 1
 * become PL_MARKER records in the same order: an acknowledgement printed after a commit's
 * syncs is logged after them.
 *
 * Not seen by the shim (the test checks the end state against the real directory to catch
 * it): writes through stdio (glibc's fopen/fwrite use internal, non-interposable symbols;
 * fopen of a data file for writing is reported as PL_UNSUPPORTED) and stores into shared
 * mappings (PL_MMAP_SHARED names the file). */
#define _GNU_SOURCE
#include "power_log.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FDS 65536
#define MAX_FILES 65536
#define FD_DIR 0xffffffffu /* fd table: a directory inside the data directory */

struct fd_entry {
  uint32_t file;     /* 0: not recorded; FD_DIR: a directory below the data dir */
  int flags;         /* open flags (O_DSYNC, O_APPEND) */
  uint16_t dir_name; /* index into dir_names for FD_DIR entries */
};
struct file_entry {
  dev_t dev;
  ino_t ino;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int enabled;
static int log_fd = -1;
static char dir[PATH_MAX];
static size_t dir_len;
static dev_t dir_dev;
static struct fd_entry fds[MAX_FDS];
static struct file_entry files[MAX_FILES + 1]; /* files[id], id >= 1 */
static uint32_t file_count;
static char dir_names[64][256]; /* names of directories opened (for PL_DIRSYNC) */
static unsigned dir_name_count;

/* ---- the real functions ---- */

#define DECLARE_REAL(ret, name, ...)                                                               \
  typedef ret (*name##_fn)(__VA_ARGS__);                                                           \
  static name##_fn real_##name;

DECLARE_REAL(int, openat, int, const char*, int, ...)
DECLARE_REAL(int, close, int)
DECLARE_REAL(int, dup, int)
DECLARE_REAL(int, dup2, int, int)
DECLARE_REAL(int, dup3, int, int, int)
DECLARE_REAL(int, fcntl, int, int, ...)
DECLARE_REAL(ssize_t, write, int, const void*, size_t)
DECLARE_REAL(ssize_t, pwrite, int, const void*, size_t, off_t)
DECLARE_REAL(ssize_t, writev, int, const struct iovec*, int)
DECLARE_REAL(ssize_t, pwritev, int, const struct iovec*, int, off_t)
DECLARE_REAL(ssize_t, pwritev2, int, const struct iovec*, int, off_t, int)
DECLARE_REAL(int, ftruncate, int, off_t)
DECLARE_REAL(int, truncate, const char*, off_t)
DECLARE_REAL(int, fallocate, int, int, off_t, off_t)
DECLARE_REAL(int, posix_fallocate, int, off_t, off_t)
DECLARE_REAL(int, fsync, int)
DECLARE_REAL(int, fdatasync, int)
DECLARE_REAL(void, sync, void)
DECLARE_REAL(int, syncfs, int)
DECLARE_REAL(int, sync_file_range, int, off_t, off_t, unsigned int)
DECLARE_REAL(int, msync, void*, size_t, int)
DECLARE_REAL(void*, mmap, void*, size_t, int, int, int, off_t)
DECLARE_REAL(int, renameat2, int, const char*, int, const char*, unsigned int)
DECLARE_REAL(int, unlinkat, int, const char*, int)
DECLARE_REAL(int, linkat, int, const char*, int, const char*, int)
DECLARE_REAL(FILE*, fopen, const char*, const char*)
DECLARE_REAL(FILE*, fopen64, const char*, const char*)

static void* next_symbol(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (p == NULL) {
    static const char msg[] = "ordo power shim: a libc symbol is missing\n";
    (void)syscall(SYS_write, 2, msg, sizeof msg - 1);
    abort();
  }
  return p;
}
#define RESOLVE(name)                                                                              \
  do {                                                                                             \
    void* p_ = next_symbol(#name);                                                                 \
    memcpy(&real_##name, &p_, sizeof p_);                                                          \
  } while (0)

static void write_all_raw(const struct iovec* iov_in, int n) {
  struct iovec iov[64];
  while (n > 0) {
    int k = n < 64 ? n : 64;
    memcpy(iov, iov_in, sizeof(struct iovec) * (size_t)k);
    int first = 0;
    while (first < k) {
      ssize_t r = real_writev(log_fd, iov + first, k - first);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        static const char msg[] = "ordo power shim: cannot write the op log\n";
        (void)syscall(SYS_write, 2, msg, sizeof msg - 1);
        abort();
      }
      size_t left = (size_t)r;
      while (first < k && left >= iov[first].iov_len)
        left -= iov[first++].iov_len;
      if (first < k) {
        iov[first].iov_base = (char*)iov[first].iov_base + left;
        iov[first].iov_len -= left;
      }
    }
    iov_in += k;
    n -= k;
  }
}

/* The real functions, resolved on first use (possibly inside a sanitizer's early init). */
static void resolve(void) {
  RESOLVE(openat);
  RESOLVE(close);
  RESOLVE(dup);
  RESOLVE(dup2);
  RESOLVE(dup3);
  RESOLVE(fcntl);
  RESOLVE(write);
  RESOLVE(pwrite);
  RESOLVE(writev);
  RESOLVE(pwritev);
  RESOLVE(pwritev2);
  RESOLVE(ftruncate);
  RESOLVE(truncate);
  RESOLVE(fallocate);
  RESOLVE(posix_fallocate);
  RESOLVE(fsync);
  RESOLVE(fdatasync);
  RESOLVE(sync);
  RESOLVE(syncfs);
  RESOLVE(sync_file_range);
  RESOLVE(msync);
  RESOLVE(mmap);
  RESOLVE(renameat2);
  RESOLVE(unlinkat);
  RESOLVE(linkat);
  RESOLVE(fopen);
  RESOLVE(fopen64);
}

#define INIT() pthread_once(&once, resolve)

/* The configuration, read once libc is initialised: an ASan runtime calls write/open before
 * that, when getenv still finds nothing. Until then every call passes through. */
__attribute__((constructor)) static void configure(void) {
  INIT();
  const char* d = getenv("ORDO_PL_DIR");
  const char* l = getenv("ORDO_PL_LOG");
  if (d == NULL || l == NULL || *d == '\0' || *l == '\0') return;
  if (realpath(d, dir) == NULL) {
    fprintf(stderr, "ordo power shim: ORDO_PL_DIR %s: %s\n", d, strerror(errno));
    abort();
  }
  dir_len = strlen(dir);
  struct stat st;
  if (stat(dir, &st) != 0) abort();
  dir_dev = st.st_dev;
  log_fd = real_openat(AT_FDCWD, l, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    fprintf(stderr, "ordo power shim: ORDO_PL_LOG %s: %s\n", l, strerror(errno));
    abort();
  }
  struct iovec v = {(void*)PL_MAGIC, 8};
  write_all_raw(&v, 1);
  enabled = 1;
}

/* ---- records ---- */

/* Appends a record; `payload` holds up to `len` bytes spread over n iovecs. Caller holds mu. */
static void emit_iov(uint32_t type, uint32_t file, uint64_t a, uint64_t b,
                     const struct iovec* payload, int n, size_t len) {
  struct pl_rec h;
  h.type = type;
  h.file = file;
  h.a = a;
  h.b = b;
  h.tid = (uint32_t)syscall(SYS_gettid);
  h.len = (uint32_t)len;
  struct iovec head = {&h, sizeof h};
  write_all_raw(&head, 1);
  size_t left = len;
  for (int i = 0; i < n && left > 0; ++i) {
    struct iovec v = payload[i];
    if (v.iov_len > left) v.iov_len = left;
    if (v.iov_len > 0) write_all_raw(&v, 1);
    left -= v.iov_len;
  }
}

static void emit(uint32_t type, uint32_t file, uint64_t a, uint64_t b, const void* data,
                 size_t len) {
  struct iovec v = {(void*)data, len};
  emit_iov(type, file, a, b, &v, 1, len);
}

static void emit_str(uint32_t type, uint32_t file, const char* s) {
  emit(type, file, 0, 0, s, strlen(s));
}

/* ---- names ---- */

/* Name relative to the data directory of the canonical path p; NULL when outside it. */
static const char* rel_name(const char* p) {
  if (strncmp(p, dir, dir_len) != 0) return NULL;
  if (p[dir_len] == '\0') return "";
  if (p[dir_len] != '/') return NULL;
  return p + dir_len + 1;
}

/* Canonical path of (dirfd, path) without following its last component. 0 on success. */
static int canon_at(int dirfd, const char* path, char* out, size_t out_size) {
  char full[2 * PATH_MAX];
  char base[PATH_MAX];
  if (path[0] == '/') {
    snprintf(full, sizeof full, "%s", path);
  } else if (dirfd == AT_FDCWD) {
    if (getcwd(base, sizeof base) == NULL) return -1;
    snprintf(full, sizeof full, "%s/%s", base, path);
  } else {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd);
    ssize_t n = readlink(link, base, sizeof base - 1);
    if (n < 0) return -1;
    base[n] = '\0';
    snprintf(full, sizeof full, "%s/%s", base, path);
  }
  size_t n = strlen(full);
  while (n > 1 && full[n - 1] == '/')
    full[--n] = '\0';
  char* slash = strrchr(full, '/');
  if (slash == NULL) return -1;
  char parent[PATH_MAX];
  *slash = '\0';
  if (realpath(full[0] == '\0' ? "/" : full, parent) == NULL) return -1;
  int w = snprintf(out, out_size, "%s/%s", parent, slash + 1);
  return w < 0 || (size_t)w >= out_size ? -1 : 0;
}

/* ---- the fd and file tables (caller holds mu) ---- */

static uint32_t find_file(dev_t dev, ino_t ino) {
  for (uint32_t id = file_count; id >= 1; --id)
    if (files[id].dev == dev && files[id].ino == ino) return id;
  return 0;
}

static uint32_t new_file(dev_t dev, ino_t ino) {
  if (file_count >= MAX_FILES) abort();
  ++file_count;
  files[file_count].dev = dev;
  files[file_count].ino = ino;
  return file_count;
}

static uint32_t fd_file(int fd) {
  if (fd < 0 || fd >= MAX_FDS) return 0;
  return __atomic_load_n(&fds[fd].file, __ATOMIC_ACQUIRE);
}

static void set_fd(int fd, uint32_t file, int flags, uint16_t dn) {
  if (fd < 0 || fd >= MAX_FDS) return;
  fds[fd].flags = flags;
  fds[fd].dir_name = dn;
  __atomic_store_n(&fds[fd].file, file, __ATOMIC_RELEASE);
}

/* The file id of an existing regular file at canonical path p below the data dir (binding it
 * with PL_FILE if first seen); 0 if p is not such a file. */
static uint32_t existing_file(const char* p) {
  const char* rel = rel_name(p);
  struct stat st;
  if (rel == NULL || *rel == '\0' || stat(p, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  uint32_t id = find_file(st.st_dev, st.st_ino);
  if (id == 0) {
    id = new_file(st.st_dev, st.st_ino);
    emit_str(PL_FILE, id, rel);
  }
  return id;
}

/* After a successful open of fd. `existed`: the path existed before the call. */
static void note_open(int fd, int flags, int existed) {
  set_fd(fd, 0, 0, 0);
  char link[64], p[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, p, sizeof p - 1);
  if (n < 0) return;
  p[n] = '\0';
  const char* rel = rel_name(p);
  if (rel == NULL) return;
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  if (fd >= MAX_FDS) {
    emit_str(PL_UNSUPPORTED, 0, "fd beyond the shim's table");
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    unsigned i = 0;
    while (i < dir_name_count && strcmp(dir_names[i], rel) != 0)
      ++i;
    if (i == dir_name_count && i < 64) snprintf(dir_names[dir_name_count++], 256, "%s", rel);
    set_fd(fd, FD_DIR, flags, (uint16_t)(i < 64 ? i : 0));
    return;
  }
  if (!S_ISREG(st.st_mode)) return;
  if ((flags & O_TMPFILE) == O_TMPFILE) {
    emit_str(PL_UNSUPPORTED, 0, "O_TMPFILE in the data directory");
    return;
  }
  uint32_t id = find_file(st.st_dev, st.st_ino);
  if (id == 0 || !existed) {
    id = new_file(st.st_dev, st.st_ino);
    emit_str(existed ? PL_FILE : PL_CREATE, id, rel);
  }
  if (existed && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
    emit(PL_TRUNCATE, id, 0, 0, NULL, 0);
  emit(PL_OPEN, id, (uint64_t)fd, (uint64_t)flags, NULL, 0);
  set_fd(fd, id, flags, 0);
}

static int do_open(int dirfd, const char* path, int flags, mode_t mode) {
  INIT();
  if (!enabled) return real_openat(dirfd, path, flags, mode);
  pthread_mutex_lock(&mu);
  struct stat st;
  int existed = 1;
  if (flags & O_CREAT) existed = fstatat(dirfd, path, &st, 0) == 0;
  int fd = real_openat(dirfd, path, flags, mode);
  int e = errno;
  if (fd >= 0) note_open(fd, flags, existed);
  pthread_mutex_unlock(&mu);
  errno = e;
  return fd;
}

#define MODE_ARG(flags)                                                                            \
  mode_t mode = 0;                                                                                 \
  if ((flags) & (O_CREAT | O_TMPFILE)) {                                                           \
    va_list ap;                                                                                    \
    va_start(ap, flags);                                                                           \
    mode = (mode_t)va_arg(ap, int);                                                                \
    va_end(ap);                                                                                    \
  }

int open(const char* path, int flags, ...) {
  MODE_ARG(flags)
  return do_open(AT_FDCWD, path, flags, mode);
}
int open64(const char* path, int flags, ...) {
  MODE_ARG(flags)
  return do_open(AT_FDCWD, path, flags, mode);
}
int openat(int dirfd, const char* path, int flags, ...) {
  MODE_ARG(flags)
  return do_open(dirfd, path, flags, mode);
}
int openat64(int dirfd, const char* path, int flags, ...) {
  MODE_ARG(flags)
  return do_open(dirfd, path, flags, mode);
}
int __open_2(const char* path, int flags) {
  return do_open(AT_FDCWD, path, flags, 0);
}
int __open64_2(const char* path, int flags) {
  return do_open(AT_FDCWD, path, flags, 0);
}
int __openat_2(int dirfd, const char* path, int flags) {
  return do_open(dirfd, path, flags, 0);
}
int __openat64_2(int dirfd, const char* path, int flags) {
  return do_open(dirfd, path, flags, 0);
}
int creat(const char* path, mode_t mode) {
  return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
int creat64(const char* path, mode_t mode) {
  return do_open(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int close(int fd) {
  INIT();
  if (!enabled || fd < 0 || fd >= MAX_FDS) return real_close(fd);
  pthread_mutex_lock(&mu);
  uint32_t id = fd_file(fd);
  int r = real_close(fd);
  int e = errno;
  set_fd(fd, 0, 0, 0); /* Linux frees the fd even when close fails */
  if (id != 0 && id != FD_DIR) emit(PL_CLOSE, id, (uint64_t)fd, 0, NULL, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}

static void copy_fd(int from, int to) {
  if (from < 0 || from >= MAX_FDS || to < 0 || to >= MAX_FDS) return;
  set_fd(to, fds[from].file, fds[from].flags, fds[from].dir_name);
}

int dup(int fd) {
  INIT();
  if (!enabled) return real_dup(fd);
  pthread_mutex_lock(&mu);
  int r = real_dup(fd);
  int e = errno;
  if (r >= 0) copy_fd(fd, r);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int dup2(int fd, int to) {
  INIT();
  if (!enabled) return real_dup2(fd, to);
  pthread_mutex_lock(&mu);
  int r = real_dup2(fd, to);
  int e = errno;
  if (r >= 0 && fd != to) copy_fd(fd, r);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int dup3(int fd, int to, int flags) {
  INIT();
  if (!enabled) return real_dup3(fd, to, flags);
  pthread_mutex_lock(&mu);
  int r = real_dup3(fd, to, flags);
  int e = errno;
  if (r >= 0) copy_fd(fd, r);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}

static int do_fcntl(int fd, int cmd, void* arg) {
  INIT();
  /* F_SETLKW and friends may block: only duplications and flag changes take the lock. */
  if (!enabled || !(cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_SETFL))
    return real_fcntl(fd, cmd, arg);
  pthread_mutex_lock(&mu);
  int r = real_fcntl(fd, cmd, arg);
  int e = errno;
  if (r >= 0 && cmd != F_SETFL) copy_fd(fd, r);
  if (r >= 0 && cmd == F_SETFL && fd_file(fd) != 0) {
    int f = fds[fd].flags & ~O_APPEND;
    fds[fd].flags = f | ((int)(intptr_t)arg & O_APPEND);
  }
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return do_fcntl(fd, cmd, arg);
}
int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return do_fcntl(fd, cmd, arg);
}

/* ---- writes ---- */

static int recorded_fd(int fd) {
  uint32_t id = fd_file(fd);
  return enabled && ((id != 0 && id != FD_DIR) || fd == 1);
}

/* Where a write at the current offset (pos < 0) or at pos lands. Caller holds mu. */
static uint64_t write_offset(int fd, off_t pos) {
  if (fds[fd].flags & O_APPEND) { /* Linux appends even for pwrite on an O_APPEND fd */
    struct stat st;
    return fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
  }
  if (pos >= 0) return (uint64_t)pos;
  off_t cur = lseek(fd, 0, SEEK_CUR);
  return cur < 0 ? 0 : (uint64_t)cur;
}

/* Records r bytes written from iov (caller holds mu). */
static void note_write(int fd, uint64_t off, const struct iovec* iov, int n, ssize_t r,
                       int durable) {
  if (r <= 0) return;
  uint32_t id = fd_file(fd);
  if (id == 0) {
    emit_iov(PL_MARKER, 0, 0, 0, iov, n, (size_t)r);
    return;
  }
  durable = durable || (fds[fd].flags & O_DSYNC) != 0; /* O_SYNC includes O_DSYNC */
  emit_iov(PL_WRITE, id, off, durable ? 1 : 0, iov, n, (size_t)r);
}

ssize_t write(int fd, const void* buf, size_t count) {
  INIT();
  if (!recorded_fd(fd)) return real_write(fd, buf, count);
  pthread_mutex_lock(&mu);
  uint64_t off = fd_file(fd) != 0 ? write_offset(fd, -1) : 0;
  ssize_t r = real_write(fd, buf, count);
  int e = errno;
  struct iovec v = {(void*)buf, count};
  note_write(fd, off, &v, 1, r, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}

static ssize_t do_pwrite(int fd, const void* buf, size_t count, off_t pos) {
  INIT();
  if (!recorded_fd(fd)) return real_pwrite(fd, buf, count, pos);
  pthread_mutex_lock(&mu);
  uint64_t off = fd_file(fd) != 0 ? write_offset(fd, pos) : 0;
  ssize_t r = real_pwrite(fd, buf, count, pos);
  int e = errno;
  struct iovec v = {(void*)buf, count};
  note_write(fd, off, &v, 1, r, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
ssize_t pwrite(int fd, const void* buf, size_t count, off_t pos) {
  return do_pwrite(fd, buf, count, pos);
}
ssize_t pwrite64(int fd, const void* buf, size_t count, off_t pos) {
  return do_pwrite(fd, buf, count, pos);
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  INIT();
  if (!recorded_fd(fd)) return real_writev(fd, iov, n);
  pthread_mutex_lock(&mu);
  uint64_t off = fd_file(fd) != 0 ? write_offset(fd, -1) : 0;
  ssize_t r = real_writev(fd, iov, n);
  int e = errno;
  note_write(fd, off, iov, n, r, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}

static ssize_t do_pwritev2(int fd, const struct iovec* iov, int n, off_t pos, int flags, int v2) {
  INIT();
  if (!recorded_fd(fd))
    return v2 ? real_pwritev2(fd, iov, n, pos, flags) : real_pwritev(fd, iov, n, pos);
  pthread_mutex_lock(&mu);
  uint64_t off = 0;
  if (fd_file(fd) != 0) { /* pos -1 (pwritev2): the current offset; RWF_APPEND: the end */
    struct stat st;
    if (v2 && (flags & RWF_APPEND))
      off = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    else
      off = write_offset(fd, pos);
  }
  ssize_t r = v2 ? real_pwritev2(fd, iov, n, pos, flags) : real_pwritev(fd, iov, n, pos);
  int e = errno;
  note_write(fd, off, iov, n, r, v2 && (flags & (RWF_DSYNC | RWF_SYNC)) != 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t pos) {
  return do_pwritev2(fd, iov, n, pos, 0, 0);
}
ssize_t pwritev64(int fd, const struct iovec* iov, int n, off_t pos) {
  return do_pwritev2(fd, iov, n, pos, 0, 0);
}
ssize_t pwritev2(int fd, const struct iovec* iov, int n, off_t pos, int flags) {
  return do_pwritev2(fd, iov, n, pos, flags, 1);
}
ssize_t pwritev64v2(int fd, const struct iovec* iov, int n, off_t pos, int flags) {
  return do_pwritev2(fd, iov, n, pos, flags, 1);
}

/* ---- sizes ---- */

static int do_ftruncate(int fd, off_t len) {
  INIT();
  if (!enabled || fd_file(fd) == 0 || fd_file(fd) == FD_DIR) return real_ftruncate(fd, len);
  pthread_mutex_lock(&mu);
  int r = real_ftruncate(fd, len);
  int e = errno;
  if (r == 0) emit(PL_TRUNCATE, fd_file(fd), (uint64_t)len, 0, NULL, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int ftruncate(int fd, off_t len) {
  return do_ftruncate(fd, len);
}
int ftruncate64(int fd, off_t len) {
  return do_ftruncate(fd, len);
}

static int do_truncate(const char* path, off_t len) {
  INIT();
  if (!enabled) return real_truncate(path, len);
  pthread_mutex_lock(&mu);
  char p[PATH_MAX];
  uint32_t id = realpath(path, p) != NULL ? existing_file(p) : 0;
  int r = real_truncate(path, len);
  int e = errno;
  if (r == 0 && id != 0) emit(PL_TRUNCATE, id, (uint64_t)len, 0, NULL, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int truncate(const char* path, off_t len) {
  return do_truncate(path, len);
}
int truncate64(const char* path, off_t len) {
  return do_truncate(path, len);
}

static int do_fallocate(int fd, int mode, off_t off, off_t len, int posix) {
  INIT();
  if (!enabled || fd_file(fd) == 0 || fd_file(fd) == FD_DIR)
    return posix ? real_posix_fallocate(fd, off, len) : real_fallocate(fd, mode, off, len);
  pthread_mutex_lock(&mu);
  int r = posix ? real_posix_fallocate(fd, off, len) : real_fallocate(fd, mode, off, len);
  int e = errno;
  if (r == 0) {
    if (mode & ~FALLOC_FL_KEEP_SIZE)
      emit_str(PL_UNSUPPORTED, fd_file(fd), "fallocate mode that changes content");
    else if (!(mode & FALLOC_FL_KEEP_SIZE))
      emit(PL_EXTEND, fd_file(fd), (uint64_t)(off + len), 0, NULL, 0);
  }
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int fallocate(int fd, int mode, off_t off, off_t len) {
  return do_fallocate(fd, mode, off, len, 0);
}
int fallocate64(int fd, int mode, off_t off, off_t len) {
  return do_fallocate(fd, mode, off, len, 0);
}
int posix_fallocate(int fd, off_t off, off_t len) {
  return do_fallocate(fd, 0, off, len, 1);
}
int posix_fallocate64(int fd, off_t off, off_t len) {
  return do_fallocate(fd, 0, off, len, 1);
}

/* ---- durability ---- */

static int do_sync(int fd, int data_only) {
  INIT();
  uint32_t id = enabled ? fd_file(fd) : 0;
  if (id == 0) return data_only ? real_fdatasync(fd) : real_fsync(fd);
  pthread_mutex_lock(&mu);
  int r = data_only ? real_fdatasync(fd) : real_fsync(fd);
  int e = errno;
  if (r == 0) {
    if (id == FD_DIR)
      emit_str(PL_DIRSYNC, 0, dir_names[fds[fd].dir_name]);
    else
      emit(data_only ? PL_FDATASYNC : PL_FSYNC, id, 0, 0, NULL, 0);
  }
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int fsync(int fd) {
  return do_sync(fd, 0);
}
int fdatasync(int fd) {
  return do_sync(fd, 1);
}

void sync(void) {
  INIT();
  if (!enabled) {
    real_sync();
    return;
  }
  pthread_mutex_lock(&mu);
  real_sync();
  emit(PL_SYNCALL, 0, 0, 0, NULL, 0);
  pthread_mutex_unlock(&mu);
}

int syncfs(int fd) {
  INIT();
  if (!enabled) return real_syncfs(fd);
  pthread_mutex_lock(&mu);
  int r = real_syncfs(fd);
  int e = errno;
  struct stat st;
  if (r == 0 && fstat(fd, &st) == 0 && st.st_dev == dir_dev) emit(PL_SYNCALL, 0, 0, 0, NULL, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}

int sync_file_range(int fd, off_t off, off_t len, unsigned int flags) {
  INIT();
  uint32_t id = enabled ? fd_file(fd) : 0;
  if (id == 0 || id == FD_DIR) return real_sync_file_range(fd, off, len, flags);
  pthread_mutex_lock(&mu);
  int r = real_sync_file_range(fd, off, len, flags);
  int e = errno;
  if (r == 0) emit(PL_SYNC_RANGE, id, (uint64_t)off, (uint64_t)len, NULL, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}

int msync(void* addr, size_t len, int flags) {
  INIT();
  if (!enabled) return real_msync(addr, len, flags);
  pthread_mutex_lock(&mu);
  int r = real_msync(addr, len, flags);
  int e = errno;
  if (r == 0) emit(PL_MSYNC, 0, (uint64_t)len, (uint64_t)flags, NULL, 0);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}

static void* do_mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  INIT();
  uint32_t id = enabled ? fd_file(fd) : 0;
  void* r = real_mmap(addr, len, prot, flags, fd, off);
  if (id != 0 && id != FD_DIR && r != MAP_FAILED && (prot & PROT_WRITE) && (flags & MAP_SHARED)) {
    int e = errno;
    pthread_mutex_lock(&mu);
    emit(PL_MMAP_SHARED, id, (uint64_t)off, (uint64_t)len, NULL, 0);
    pthread_mutex_unlock(&mu);
    errno = e;
  }
  return r;
}
void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  return do_mmap(addr, len, prot, flags, fd, off);
}
void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  return do_mmap(addr, len, prot, flags, fd, off);
}

/* ---- namespace ---- */

static int do_rename(int olddir, const char* from, int newdir, const char* to, unsigned int flags) {
  INIT();
  if (!enabled) return real_renameat2(olddir, from, newdir, to, flags);
  pthread_mutex_lock(&mu);
  char pf[PATH_MAX], pt[PATH_MAX];
  int have = canon_at(olddir, from, pf, sizeof pf) == 0 && canon_at(newdir, to, pt, sizeof pt) == 0;
  if (have) existing_file(pf); /* binds a file never opened before it moves */
  int r = real_renameat2(olddir, from, newdir, to, flags);
  int e = errno;
  if (r == 0 && have) {
    const char* rf = rel_name(pf);
    const char* rt = rel_name(pt);
    if (rf != NULL && rt != NULL) {
      if (flags & ~(unsigned)RENAME_NOREPLACE) {
        emit_str(PL_UNSUPPORTED, 0, "renameat2 with RENAME_EXCHANGE or RENAME_WHITEOUT");
      } else {
        size_t a = strlen(rf), b = strlen(rt);
        char buf[2 * PATH_MAX + 2];
        memcpy(buf, rf, a + 1);
        memcpy(buf + a + 1, rt, b);
        emit(PL_RENAME, 0, 0, 0, buf, a + 1 + b);
      }
    } else if (rf != NULL) {
      emit_str(PL_UNLINK, 0, rf);
    } else if (rt != NULL) {
      emit_str(PL_UNSUPPORTED, 0, "rename into the data directory from outside");
    }
  } else if (r == 0) {
    emit_str(PL_UNSUPPORTED, 0, "rename whose path could not be resolved");
  }
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int rename(const char* from, const char* to) {
  return do_rename(AT_FDCWD, from, AT_FDCWD, to, 0);
}
int renameat(int od, const char* from, int nd, const char* to) {
  return do_rename(od, from, nd, to, 0);
}
int renameat2(int od, const char* from, int nd, const char* to, unsigned int flags) {
  return do_rename(od, from, nd, to, flags);
}

static int do_unlink(int dirfd, const char* path, int flags) {
  INIT();
  if (!enabled) return real_unlinkat(dirfd, path, flags);
  pthread_mutex_lock(&mu);
  char p[PATH_MAX];
  int have = canon_at(dirfd, path, p, sizeof p) == 0;
  int r = real_unlinkat(dirfd, path, flags);
  int e = errno;
  const char* rel = have ? rel_name(p) : NULL;
  if (r == 0 && rel != NULL && !(flags & AT_REMOVEDIR)) emit_str(PL_UNLINK, 0, rel);
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int unlink(const char* path) {
  return do_unlink(AT_FDCWD, path, 0);
}
int unlinkat(int dirfd, const char* path, int flags) {
  return do_unlink(dirfd, path, flags);
}

static int do_link(int od, const char* from, int nd, const char* to, int flags) {
  INIT();
  if (!enabled) return real_linkat(od, from, nd, to, flags);
  pthread_mutex_lock(&mu);
  char pt[PATH_MAX];
  int have = canon_at(nd, to, pt, sizeof pt) == 0;
  int r = real_linkat(od, from, nd, to, flags);
  int e = errno;
  if (r == 0 && have && rel_name(pt) != NULL)
    emit_str(PL_UNSUPPORTED, 0, "hard link into the data directory");
  pthread_mutex_unlock(&mu);
  errno = e;
  return r;
}
int link(const char* from, const char* to) {
  return do_link(AT_FDCWD, from, AT_FDCWD, to, 0);
}
int linkat(int od, const char* from, int nd, const char* to, int flags) {
  return do_link(od, from, nd, to, flags);
}

/* stdio writes bypass the shim: say so instead of silently missing them. */
static void note_fopen(const char* path, const char* mode) {
  if (!enabled || strpbrk(mode, "wa+") == NULL) return;
  char p[PATH_MAX];
  if (canon_at(AT_FDCWD, path, p, sizeof p) != 0 || rel_name(p) == NULL) return;
  pthread_mutex_lock(&mu);
  emit_str(PL_UNSUPPORTED, 0, "fopen for writing in the data directory (stdio bypasses the shim)");
  pthread_mutex_unlock(&mu);
}
FILE* fopen(const char* path, const char* mode) {
  INIT();
  note_fopen(path, mode);
  return real_fopen(path, mode);
}
FILE* fopen64(const char* path, const char* mode) {
  INIT();
  note_fopen(path, mode);
  return real_fopen64(path, mode);
}
