#pragma once
// Running storage_power_child under the shim, and sweeping crash images over its op log.

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "crash_image.hpp"
#include "image_check.hpp"
#include "op_log.hpp"

namespace ordo::storage::power {

bool long_form(); // ORDO_LONG=1

/// A temporary directory on tmpfs (/dev/shm) when there is one, else in /tmp; removed with
/// its contents on destruction. Crash images go there: checking them commits (journal::open),
/// and those syncs need not reach a disk.
struct scratch_dir {
  std::string path;
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
};

/// One run of the child on `data_dir` (what the directory held before is its base).
struct phase {
  std::string name;
  file_map base;
  op_log log;
  std::string stdout_bytes;
  int exit_status = -1; // raw wait status
  std::string problem;  // non-empty: the run or its self-check failed
};

/// Runs storage_power_child <mode> <data_dir> <batches> <max_seconds> with the shim preloaded,
/// its stdout in work_dir/<name>.out and the op log in work_dir/<name>.log, then checks the
/// recording itself: the child exited 0 and printed no "E" line, the markers are exactly its
/// stdout, the model knows every op, only lock.mdb was written through a shared mapping, and
/// the image that keeps every write equals the directory the child left behind.
phase run_phase(const std::string& name, const std::string& mode, const std::string& data_dir,
                const std::string& work_dir, uint64_t batches, int max_seconds);

struct cut_spec {
  size_t cut = 0; // ops [0, cut) happened
  persist policy = persist::synced;
  bool in_flight = false; // the op at `cut`, if a write, was under way
};

/// Cut points: after every sync point (`syncs`), after the last marker of every run of
/// markers (`acks`: a commit's acknowledgements), the end, and `random` uniform ones.
std::vector<size_t> choose_cuts(const op_log& log, bool syncs, bool acks, size_t random,
                                std::mt19937_64& rng);
/// A policy for each cut: synced 30 %, subset 25 %, torn 25 %, ordered 15 %, all 5 %; one in
/// five with the next write in flight.
std::vector<cut_spec> mixed_policies(const std::vector<size_t>& cuts, std::mt19937_64& rng);
std::vector<cut_spec> one_policy(const std::vector<size_t>& cuts, persist p);
/// At most n of `cuts`, evenly spread, always with the last one.
std::vector<size_t> thin(const std::vector<size_t>& cuts, size_t n);

struct sweep_totals {
  size_t images = 0;
  size_t failed = 0;           // images that broke a promise (image_result::clean)
  size_t with_loss = 0;        // ... of them, with acknowledged items missing
  size_t unopenable = 0;       // ... of them, that verify() or journal::open could not open
                               //     although "R" was acknowledged
  size_t corrupt = 0;          // ... of them, crashed, damaged, unreadable or with verify
                               //     problems
  size_t unopenable_fresh = 0; // could not open, but nothing was acknowledged yet (allowed)
  uint64_t events_checked = 0; // acked events looked up, over all images
  std::map<std::string, size_t> per_policy;
  std::vector<std::string> failures; // the first few, described
  std::string worst;                 // the failure with the most acknowledged items lost
  uint64_t worst_lost = 0;
  std::string kept_dir; // where failing images were kept ("" if none kept)
  double seconds = 0;
};

/// Builds and checks an image per cut. `before`: what earlier phases acknowledged.
/// keep_failures: copy the first failing images, the op log and the base to a kept directory
/// (ORDO_POWER_KEEP, else a fresh /tmp/ordo-power-loss-kept-XXXXXX) for replay by hand.
void sweep(const phase& ph, const expectations& before, std::vector<cut_spec> cuts,
           model_options mo, std::mt19937_64& rng, bool keep_failures, sweep_totals& totals);

/// `before` plus every acknowledgement of the phase.
expectations after_phase(const phase& ph, expectations before);

} // namespace ordo::storage::power
