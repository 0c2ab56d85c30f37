#!/usr/bin/env bash
# Builds the fuzz preset (clang-14: libFuzzer + ASan + UBSan, build/fuzz) and runs each fuzz
# target for SECONDS (default 60: the CI form; fuzz/README.md has the long form). Exits
# non-zero when any target crashed, failed one of its checks, leaked, timed out or ran out of
# memory; each such input is copied to fuzz/regressions/<target>/, where it becomes a
# regression test once checked in with the fix.
# Usage: scripts/fuzz.sh [seconds-per-target] [target ...]
#   ORDO_FUZZ_JOBS=n   fuzz each target with n processes (libFuzzer -fork=n; default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
all=(http_request json_body envelope journal_record log_frame snapshot node_config cluster_message)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
jobs="${ORDO_FUZZ_JOBS:-1}"

scripts/build.sh fuzz

# Corpora grown by these runs and raw artifacts stay in the build tree: only seeds and
# crashers are checked in.
work=build/fuzz/fuzz-work
failed=()
for t in "${targets[@]}"; do
  bin=build/fuzz/fuzz/fuzz_$t
  if [ ! -x "$bin" ]; then
    echo "fuzz: no target '$t' (targets: ${all[*]})" >&2
    exit 2
  fi
  corpus=$work/corpus/$t
  artifacts=$work/artifacts/$t
  log=$work/$t.log
  rm -rf "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  parallel=()
  if [ "$jobs" -gt 1 ]; then parallel=(-fork="$jobs"); fi
  echo "fuzz: $t for ${secs}s (log: $log)"
  set +e
  # The first corpus directory is the writable one; seeds and regressions are read only.
  "$bin" "${parallel[@]}" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "fuzz/corpus/$t" "fuzz/regressions/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  echo "fuzz: $t: exit $rc, ${execs:-?} executions, ${cov:-no coverage line}, corpus $(ls "$corpus" | wc -l) files"
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    found=0
    for a in "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
      [ -e "$a" ] || continue
      found=1
      cp "$a" "fuzz/regressions/$t/"
      echo "fuzz: $t: $(basename "$a") copied to fuzz/regressions/$t/ — reproduce with" \
        "$bin fuzz/regressions/$t/$(basename "$a"), fix the decoder, and check the file in" \
        "with the fix (fuzz/README.md)" >&2
    done
    if [ "$found" -eq 0 ]; then echo "fuzz: $t failed without an artifact; see $log" >&2; fi
    grep -E 'ERROR|FUZZ CHECK FAILED|SUMMARY' "$log" | head -5 >&2 || true
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran ${secs}s without a finding"
