#pragma once
// ordo::storage::journal — a durable, group-committed event journal on LMDB.
//
// WHAT IT STORES
//   Bytes, keys and sequences; never orders. An *entity* (1..255 bytes, opaque) owns a history
//   of events numbered 1, 2, 3 ... without gaps. Every event also gets a *position* in one
//   node-wide feed (1, 2, 3 ... in commit order): the transactional outbox. Next to the events:
//   idempotency records, the latest snapshot per entity, durable timers, named consumer offsets.
//
// WHAT AN ACKNOWLEDGEMENT MEANS
//   submit() hands an append_request to the single writer thread. Its completion is called
//   with a value (append_result) only after ALL of that request — its events, idempotency
//   records, snapshot and timer changes — is in the shard log with the configured durability:
//   full sync (the default) means the batch's log frame was written and fdatasync'd before the
//   callback runs. A request is all-or-nothing: never partly visible, to readers or after a
//   crash. Readers see a request only once it is acknowledged.
//
// THE SHARD LOG (storage/shard_log.hpp, docs/storage.md)
//   The commit point is an append-only, checksummed log in `<dir>/log/`: one frame per group
//   commit, written sequentially into preallocated segment files, one fdatasync per frame. Each
//   frame carries an epoch (journal_options::epoch) and a position (1, 2, 3 ... per store): the
//   unit a replica will ship. LMDB stays the store the reads use; a CHECKPOINTER thread applies
//   the log's tail to it every checkpoint_interval_ms (or once the tail holds
//   checkpoint_max_records records), in synced transactions of about one segment's worth each
//   (so a nearly full disk needs room for one segment's worth, not the whole tail), recording
//   in each the last position applied, and deletes the segments it no longer needs. Until then the tail is held in memory (the
//   overlay) and every read merges it, so everything acknowledged is visible at once. The
//   writer waits while the tail is over log_tail_max_bytes (backpressure through the bounded
//   queue: `overloaded`). open() replays the frames after the last checkpoint into memory and
//   serves at once; close() checkpoints everything.
//
// DURABILITY MODES (journal_options::mode)
//   full_sync     default. An acknowledged request survives process crash, OS crash and power
//                 loss (as far as the disk honours flushes).
//   no_meta_sync  kept for configurations written before the shard log: now the same as
//                 full_sync (the log is synced per batch, checkpoints are synced).
//   no_sync       nothing is synced (log or checkpoints). A process crash loses nothing (the
//                 page cache survives it); an OS crash or power loss can lose every commit since
//                 the last OS writeback and leave the store unopenable. For tests and
//                 throwaway data only.
//
// GROUP COMMIT
//   Submitters on any thread enqueue into a bounded queue (queue_max_requests; a full queue
//   refuses at once with `overloaded`). ONE writer thread takes up to batch_max_requests /
//   batch_max_bytes (waiting up to batch_max_wait_us for more while fewer are queued than
//   the previous batch held: a lone submitter is never delayed), checks
//   them against the store (LMDB + the tail), writes the accepted ones as one log frame, syncs
//   once, then calls each completion in submit order. Validation failures (sequence_conflict,
//   duplicate) fail only that request and are not logged. A request sees the effects of
//   earlier requests of the same batch (two appends to one entity with the same expected_seq
//   in one batch: the first wins, the second gets a conflict).
//
// THREADING
//   journal is thread-safe. The env is opened with MDB_NOTLS and every read call opens and
//   closes its own read-only transaction within the call, so a caller (a CAF actor that may
//   move between threads) never holds a transaction across calls. Visitors run after the
//   call's data was gathered: keep them short, do not call the journal's write functions from
//   them, and do not keep the string_views they receive after returning.
//   Completions run on the writer thread and must be short and must not throw (the actor layer
//   only forwards them as a message). A completion may call submit(), but not a standalone
//   write (it would wait for the writer it runs on).
//   Standalone writes (save_snapshot, expire_idempotency, truncate_feed, import_records,
//   drop_timers) pause the writer, checkpoint the tail, then run their own synced LMDB write
//   transaction on the calling thread; they block for a checkpoint and a commit. Consumer
//   offsets (save_offset, delete_offset) do not pause the writer. Exports checkpoint first.
//   Keep them off hot paths. Reads never wait for the writer's sync.
//   close() must not race with other calls on the same journal (reads after it return closed).
//
// ERRORS (caf::error with category "storage", code storage_errc; see errors.hpp)
//   invalid_argument   entity empty or > 255 bytes, idempotency key or timer id empty or too
//                      long (> 200 bytes), snapshot seq beyond the entity's last seq, offset name
//                      empty or > 255 bytes, bad options.                    [submit, writes,
//                      reads]
//   record_too_large   an event, result, snapshot or timer payload > record_max_bytes.  [submit]
//   overloaded         the submit queue is full.                               [submit]
//   sequence_conflict  expected_seq != the entity's current last seq. Nothing is written.
//   duplicate          an idempotency key of the request is already stored for that entity;
//                      nothing is written; duplicate_result(err) is the stored result bytes.
//   storage_full       no room for a new log segment, or a checkpoint met MDB_MAP_FULL / ENOSPC
//                      / a commit EIO with < 1 MiB free (LMDB 0.9.24 reports a short write as
//                      EIO): the batch was not written. While checkpoints fail for space the
//                      writer refuses batches (after retrying the checkpoint) rather than grow
//                      the tail. Reads keep working; writes succeed again once space is freed
//                      (disk) or the journal is reopened with a larger map_size_bytes.
//   io_error           any other commit/write failure (EIO, failed fdatasync of the log, a
//                      failed checkpoint). The journal FAIL-STOPS: this batch fails and so does
//                      everything after it. Sticky, like MDB_PANIC; never retried. Reopen after
//                      fixing the cause. The failed batch's outcome is UNKNOWN: its frame was
//                      written before the sync failed, so a reopen may find it (all of it) or
//                      not; nothing acknowledged is ever missing.
//                      A damaged feed counter (meta) found by the writer also fail-stops,
//                      with `corrupted`, rather than risk reusing feed positions.
//   failed             submitted after (or queued behind) a fail-stop; standalone writes too.
//   corrupted          a record failed its CRC32C, its chain to the entity's previous event, or
//                      an index/feed cross-check; or (open) a log frame before the end of the log
//                      failed its checksum, positions skip, or the log does not continue the
//                      store. The context names the table / segment and the entity and seq (or
//                      position). Never treated as end of data; only a torn LAST frame (written,
//                      never synced, so never acknowledged) is cut at open.
//   truncated          read_feed below the feed low-water mark; read_events from a seq whose
//                      events were removed by truncate_feed (start at the snapshot instead).
//   format_too_new     open() of a store written by a newer format version.
//   closed             submit after close() began.
//   lmdb_error         open failures (permissions, no such dir), MDB_READERS_FULL, other LMDB
//                      errors on reads; the context carries mdb_strerror().
//   locked             open(): another process holds the directory (its `ordo.lock`, an
//                      exclusive flock held for the journal's life); the context names the
//                      holder's pid. Also a second open of the same directory in one process.
//
// FEED TRUNCATION
//   The log is both the feed and the entities' history. truncate_feed(up_to) moves the feed
//   low-water mark to up_to (read_feed(after < low_water) → truncated) and physically deletes
//   a record at position ≤ up_to only if its entity has a snapshot at or past its seq, it is
//   not the entity's last event, and no earlier event of the entity is still stored (only a
//   prefix of a history goes; with its index entries); other records stay readable through
//   read_events but are no longer in the feed. The last event is kept so last_seq and the
//   checksum chain continue.
//   Pick up_to ≤ the smallest offset of every consumer that must see everything.
//
// SHARD TRANSFER
//   export_records() reads the records of selected entities; import_records() writes them
//   into another store. Imported events keep their entity sequences but do NOT enter the
//   importing store's feed: they were published on the exporting store's feed already, and a
//   consumer of the new store (a saga) must not handle them again. They are stored at
//   positions of an import range (2^63 and up, in a table of their own beside the log) that
//   read_feed, feed_head and truncate_feed never reach (truncate_feed never removes them);
//   read_events, last_seq and appends treat them like any event (appends continue the
//   checksum chain from the last imported record). A store may import the same entity again
//   later with a longer history (a shard coming back): only the events it lacks are written.
//   The exporting store keeps its copy; nothing is deleted.
//
// LIMITS AND CAVEATS
//   Entity 1..255 bytes; idempotency key and timer id 1..200 bytes; payloads ≤ record_max_bytes
//   (default 1 MiB, max 256 MiB). The map (map_size_bytes, default 64 GiB) is a sparse file that
//   grows with use; MDB_MAP_FULL at that size. Long-running visitors pin old pages (the file
//   grows). Open a directory from one journal at a time (LMDB would serialize two writers,
//   but that is neither needed nor tested). Not for network file systems.
//   Timers fire by polling due_timers(); cancel them (in the append that handles them) to
//   remove them. Entities with a snapshot may have early events removed by truncate_feed.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "ordo/durability.hpp"
#include "ordo/journal_stats.hpp"
#include "storage/errors.hpp"

namespace ordo::storage {

/// The on-disk format this build writes; it opens stores of this version or older.
/// 2: shard transfer (the import table). 3: the shard log (`<dir>/log/`), which may hold
/// acknowledged data LMDB does not have yet; a store becomes version 3 when this build opens it
/// (older builds then refuse it with format_too_new).
constexpr uint32_t format_version = 3;

using ordo::durability; // include/ordo/durability.hpp

struct journal_options {
  std::string dir;                              // created if missing
  uint64_t map_size_bytes = uint64_t{64} << 30; // sparse; grows with use
  durability mode = durability::full_sync;
  size_t batch_max_requests = 4'096;         // requests per group commit
  size_t batch_max_bytes = size_t{16} << 20; // payload bytes per group commit (≥ 1 request)
  uint64_t batch_max_wait_us = 100;          // wait for more when fewer than last time are queued
  size_t queue_max_requests = 65'536;        // bounded submit queue
  size_t record_max_bytes = size_t{1} << 20; // per event / result / snapshot / payload
  unsigned max_readers = 1'024;              // concurrent read calls (LMDB reader table)
  // The shard log (see THE SHARD LOG above).
  uint64_t epoch = 1;                               // written into every log frame
  uint64_t log_segment_bytes = uint64_t{16} << 20;  // size of a log segment file (≥ 64 KiB)
  uint64_t checkpoint_interval_ms = 200;            // apply the tail to LMDB at least this often
  size_t checkpoint_max_records = 100'000;          // ... or once the tail holds this many records
  size_t log_tail_max_bytes = size_t{64} << 20;     // the writer waits while the tail is larger
};

struct idempotency_record {
  std::string entity; // empty: the request's entity
  std::string key;
  std::string result; // what a retry with this key gets back
};

struct snapshot_write {
  uint64_t seq = 0; // state after event `seq`; must be ≤ the entity's last seq after the request
  std::string bytes;
};

struct timer_schedule {
  std::string timer_id; // per entity; scheduling an existing id replaces it
  uint64_t due_ms = 0;
  std::string payload;
};

struct append_request {
  std::string entity;
  uint64_t expected_seq = 0;                   // the entity's current last seq (0: new)
  std::vector<std::string> events;             // become seqs expected_seq+1 ...
  std::vector<idempotency_record> idempotency; // all checked for duplicates first
  std::optional<snapshot_write> snapshot;      // kept only if newer than the stored one
  std::vector<timer_schedule> timer_schedules; // on `entity`
  std::vector<std::string> timer_cancels;      // timer ids on `entity`; absent ids are fine
  uint64_t now_ms = 0;                         // creation time of idempotency records
};

struct append_result {
  uint64_t first_seq = 0;      // expected_seq + 1
  uint64_t last_seq = 0;       // expected_seq + events.size()
  uint64_t first_position = 0; // feed position of the first event (0 when no events)
  uint64_t last_position = 0;
};

using completion = std::function<void(caf::expected<append_result>)>;

struct snapshot {
  uint64_t seq = 0;
  std::string bytes;
};

struct truncate_result {
  uint64_t low_water = 0; // feed positions ≤ this are gone from the feed
  uint64_t removed = 0;   // records physically deleted by this call
  uint64_t kept = 0;      // records left for entities without a covering snapshot
  bool done = true;       // false: call again, max_records were examined
};

/// Everything the store holds for one entity, for moving it to another store (a cluster
/// handing a shard to a new owner; see SHARD TRANSFER). Plain bytes, like the rest.
struct entity_records {
  struct stored_event {
    uint64_t seq = 0;
    std::string bytes;
  };
  struct stored_idempotency {
    std::string key;
    uint64_t created_ms = 0;
    std::string result;
  };
  std::string entity;
  std::vector<stored_event> events; // ascending, gap-free, from the first one still stored
  std::optional<snapshot> latest_snapshot;
  std::vector<stored_idempotency> idempotency;
  std::vector<timer_schedule> timers;
};

/// Which records an export takes: whole entities (events, snapshot, idempotency records,
/// timers) for which `entity` is true, and, of the other entities, the single idempotency
/// records for which `idempotency_record` is true (e.g. placement records keyed by a
/// client key under one pseudo-entity). Either may be empty (selects nothing).
struct export_selector {
  std::function<bool(std::string_view entity)> entity;
  std::function<bool(std::string_view entity, std::string_view key)> idempotency_record;
};

struct export_batch {
  std::vector<entity_records> entities;
  std::string resume; // pass back as `resume` for the next batch; meaningless once done
  bool done = false;  // nothing selected is left after this batch
};

/// Visitors return false to stop early. string_views are valid only during the call.
using event_visitor = std::function<bool(uint64_t seq, std::string_view bytes)>;
using feed_visitor = std::function<bool(uint64_t position, std::string_view entity, uint64_t seq,
                                        std::string_view bytes)>;
using timer_visitor = std::function<bool(std::string_view entity, std::string_view timer_id,
                                         uint64_t due_ms, std::string_view payload)>;

class journal {
public:
  /// Opens (creating if needed) the store in options.dir and starts the writer thread.
  /// Takes the directory's lock first (storage/dir_lock.hpp): `locked` while another process
  /// (or another open journal) holds it.
  static caf::expected<std::unique_ptr<journal>> open(journal_options options);

  ~journal(); // close()

  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Queues `req`. Returns an error if refused at once (invalid_argument, record_too_large,
  /// overloaded, closed, failed) and then never calls `done`. Otherwise `done` is called
  /// exactly once, on the writer thread, after the batch's commit (or its failure).
  caf::error submit(append_request req, completion done);

  /// Stops accepting, completes everything queued, joins the writer, closes the env.
  void close();

  // Reads: each runs in its own read-only transaction; safe from any thread.

  /// Streams the entity's events with seq ≥ from_seq in order, verified.
  caf::error read_events(std::string_view entity, uint64_t from_seq,
                         const event_visitor& visit) const;
  /// 0 when the entity has no events.
  caf::expected<uint64_t> last_seq(std::string_view entity) const;
  caf::expected<std::optional<snapshot>> load_snapshot(std::string_view entity) const;
  caf::expected<std::optional<std::string>> find_idempotency(std::string_view entity,
                                                             std::string_view key) const;
  /// Feed records with position > after, at most `max`, in position order.
  caf::error read_feed(uint64_t after, size_t max, const feed_visitor& visit) const;
  /// Highest feed position committed so far (0: empty).
  caf::expected<uint64_t> feed_head() const;
  /// The feed's low-water mark, truncation cursor (records up to it were examined by
  /// truncate_feed) and head, read together.
  struct feed_bounds_t {
    uint64_t low_water = 0, truncate_cursor = 0, head = 0;
  };
  caf::expected<feed_bounds_t> feed_bounds() const;
  caf::expected<std::optional<uint64_t>> load_offset(std::string_view name) const;
  /// Every saved offset whose name starts with `prefix` ("" for all), in name order.
  caf::expected<std::vector<std::pair<std::string, uint64_t>>>
  list_offsets(std::string_view prefix) const;
  /// Timers with due_ms ≤ now_ms, earliest first, at most `max`.
  caf::error due_timers(uint64_t now_ms, size_t max, const timer_visitor& visit) const;
  /// The greatest entity in byte order that starts with `prefix` and has events; nullopt if
  /// none. Costs one seek per possible entity length (≤ 255): for startup, not hot paths.
  caf::expected<std::optional<std::string>> last_entity_with_prefix(std::string_view prefix) const;

  // Shard transfer (see SHARD TRANSFER above).

  /// The next batch of selected records after `resume` ("" to start; otherwise an opaque
  /// token from the previous batch). First the whole selected entities in entity key order,
  /// then the single idempotency records (one entity_records per entity, only `entity` and
  /// `idempotency` filled; one entity's records may span batches). At most `max_bytes` of
  /// payload unless one entity alone is larger (at least one entity or record per batch).
  /// One read transaction per call; each entity is read whole, verified, and consistent
  /// within it. Scans every entity of the store once over all batches (not for hot paths).
  caf::expected<export_batch> export_records(const export_selector& select, std::string_view resume,
                                             size_t max_bytes) const;
  /// The named entities whole, as export_records emits them (one the store does not hold is
  /// left out), and the named single idempotency records (absent ones left out), in one read
  /// transaction. For handing over what changed after an export_records pass, when the
  /// caller knows which entities it touched; the caller bounds how many it names per call.
  caf::expected<std::vector<entity_records>>
  export_named(const std::vector<std::string>& entities,
               const std::vector<std::pair<std::string, std::string>>& idempotency_records) const;
  /// Writes the batch in one synced write transaction (all or nothing). Per entity: events
  /// with seq > the entity's local last seq are appended to its history (outside the feed);
  /// the snapshot replaces the local one if newer; idempotency records are put (replacing);
  /// the entity's local timers are replaced by the batch's, unless the entry carries only
  /// idempotency records (no events, snapshot or timers: single records, which leave the
  /// entity's timers alone). Importing the same batch twice changes nothing the second time
  /// (and commits nothing). Errors: sequence_conflict when the local history is AHEAD of the
  /// batch's, the batch's events do not continue it, or an event both have differs (names the
  /// entity); invalid_argument for a malformed batch (sizes, seqs not ascending and gap-free,
  /// a history starting after seq 1 without a snapshot covering the events before it, a
  /// snapshot beyond the last event); record_too_large; corrupted (local damage met);
  /// storage_full; io_error (fail-stop); failed; closed.
  caf::error import_records(const std::vector<entity_records>& batch);
  /// Deletes every timer of the entities `select.entity` selects (a shard this store no
  /// longer owns must not fire them). Returns how many were deleted. Scans every timer.
  caf::expected<uint64_t> drop_timers(const export_selector& select);

  // Standalone writes: one synced write transaction on the calling thread.

  caf::error save_snapshot(std::string_view entity, uint64_t seq, std::string_view bytes);
  /// Several snapshots in one synced transaction (feed retention): the same rules per entry,
  /// and an entry older than the stored snapshot is skipped. Returns how many were written.
  struct snapshot_entry {
    std::string entity;
    uint64_t seq = 0;
    std::string bytes;
  };
  caf::expected<size_t> save_snapshots(const std::vector<snapshot_entry>& batch);
  caf::error save_offset(std::string_view name, uint64_t position);
  /// Removes a saved offset; false when there was none.
  caf::expected<bool> delete_offset(std::string_view name);
  /// Deletes up to max_records idempotency records created before older_than_ms; returns how
  /// many were deleted (call again while it returns max_records).
  caf::expected<uint64_t> expire_idempotency(uint64_t older_than_ms, size_t max_records = 10'000);
  /// See FEED TRUNCATION above. Examines at most max_records records per call.
  caf::expected<truncate_result> truncate_feed(uint64_t up_to, size_t max_records = 100'000);

  /// The commit-latency histogram's buckets and the counters (include/ordo/journal_stats.hpp:
  /// the runtime hands them to a host as they are).
  static constexpr size_t commit_latency_buckets = ordo::journal_commit_latency_buckets;
  static constexpr auto commit_latency_bounds_us = ordo::journal_commit_latency_bounds_us;
  using stats_t = ordo::journal_stats;
  /// Counters since open (relaxed; for benchmarks and monitoring).
  stats_t stats() const;

  /// The sticky fail-stop error (empty while healthy).
  caf::error fail_stop_error() const;

  struct impl;

private:
  explicit journal(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// What verify() found. ok() when problems is empty.
struct verify_report {
  uint64_t events = 0, index_entries = 0, entities = 0, idempotency_records = 0, snapshots = 0,
           timers = 0, offsets = 0, feed_low_water = 0, feed_head = 0;
  std::vector<std::string> problems; // capped at 1000, each naming table and key
  bool ok() const { return problems.empty(); }
};

/// Scans a closed (or open: it reads one consistent snapshot) store read-only: every table's
/// checksums, entity chains, feed ↔ index consistency, timer and idempotency cross-tables.
caf::expected<verify_report> verify(const std::string& dir);

} // namespace ordo::storage
