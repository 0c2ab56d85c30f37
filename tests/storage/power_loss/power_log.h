/* The op log of the power-loss test: what power_shim.c writes and op_log.cpp reads.
 *
 * The file starts with the 8 bytes PL_MAGIC, then records: a pl_rec header followed by `len`
 * payload bytes. Native byte order (written and read on the same machine). Records appear in
 * the order the calls COMPLETED: the shim holds one process-wide lock around each recorded
 * call and its record, so the log is a total order of the process's file-system effects.
 * C, because the shim is C (an LD_PRELOAD library should not need the C++ runtime). */
#ifndef ORDO_POWER_LOG_H
#define ORDO_POWER_LOG_H

#include <stdint.h>

#define PL_MAGIC "ORDOPL01"

enum pl_type {
  /* Namespace. Names are relative to the data directory ("data.mdb", "sub/x.log"). */
  PL_FILE = 1,   /* file `file` is the existing file named by the payload (first seen) */
  PL_CREATE = 2, /* open(O_CREAT) created a new empty file `file` named by the payload */
  PL_RENAME = 3, /* payload "from\0to": rename within the data directory */
  PL_UNLINK = 4, /* payload: name removed (unlink, or renamed out of the directory) */
  /* Content. */
  PL_WRITE = 5,    /* a = file offset; b = 1 if durable at completion (O_DSYNC/O_SYNC fd,
                      RWF_DSYNC); payload = the bytes the call reported written */
  PL_TRUNCATE = 6, /* a = new size (ftruncate, truncate, O_TRUNC) */
  PL_EXTEND = 7,   /* a = minimum size after fallocate/posix_fallocate without KEEP_SIZE */
  /* Durability points (only successful calls are recorded). */
  PL_FSYNC = 8,
  PL_FDATASYNC = 9,
  PL_DIRSYNC = 10, /* fsync/fdatasync of a directory; payload = its name ("" = data dir) */
  PL_SYNCALL = 11, /* sync(), or syncfs() on the data directory's file system */
  /* Acknowledgements: bytes the process wrote to its stdout (fd 1). */
  PL_MARKER = 12,
  /* Information and unmodellable events. */
  PL_OPEN = 13,        /* a = fd, b = open flags */
  PL_CLOSE = 14,       /* a = fd */
  PL_MMAP_SHARED = 15, /* a writable MAP_SHARED mapping of `file`: its writes are invisible */
  PL_SYNC_RANGE = 16,  /* sync_file_range: starts writeback only; not a durability point */
  PL_MSYNC = 17,       /* msync: a = length (address not mapped back to a file) */
  PL_UNSUPPORTED = 18  /* payload: what happened that the model cannot represent */
};

struct pl_rec {
  uint32_t type;
  uint32_t file; /* file id (1, 2, ...; an inode incarnation), 0 when none */
  uint64_t a;
  uint64_t b;
  uint32_t tid; /* Linux thread id of the caller */
  uint32_t len; /* payload bytes that follow */
};

#endif
