#!/usr/bin/env bash
# Builds the candidate servers into /tmp/h-eval, runs each on a loopback port,
# loads it with wrk (1 client thread, 64 then 256 connections, 10 s each) and
# prints one table. Bounded: every wrk run has a fixed duration, each server
# is stopped (SIGTERM, then SIGKILL after 3 s) before the next one starts.
#
# NOTE: wrk and the server share the machine's 2 cores, so these are
# relative numbers for *this* box, not capacity figures.
#
# Usage: bench/http_eval/run.sh            (DURATION=10s by default)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD=/tmp/h-eval
DURATION="${DURATION:-10s}"
RESULTS="$(mktemp -d /tmp/h-eval-results.XXXXXX)"

command -v wrk >/dev/null || { echo "wrk missing: apt-get -y install wrk" >&2; exit 1; }

cmake -S "$HERE" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 >/dev/null

# label | binary | port | extra args
SERVERS=(
  "beast|beast_server|18081|"
  "libmicrohttpd|mhd_server|18082|"
  "cpp-httplib (ka=5)|httplib_server|18083|5"
  "cpp-httplib (ka=1000)|httplib_server|18084|1000"
)

SERVER_PID=""
stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
trap stop_server EXIT INT TERM

wait_port() {  # up to 5 s
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# utime+stime of a process, in clock ticks (USER_HZ, 100 on Linux).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Pull "req/s p50 p99 errors" out of wrk's --latency output.
parse() {
  awk '
    /Requests\/sec:/           { rps = $2 }
    /^ +50%/                   { p50 = $2 }
    /^ +99%/                   { p99 = $2 }
    /Non-2xx or 3xx/           { non2xx = $NF }
    /Socket errors:/           { gsub(",", ""); err = "c" $4 "/r" $6 "/w" $8 "/t" $10 }
    END {
      e = (non2xx != "" ? "non2xx=" non2xx " " : "") (err != "" ? err : "-")
      printf "%s|%s|%s|%s\n", rps, p50, p99, e
    }' "$1"
}

ROWS=()
for entry in "${SERVERS[@]}"; do
  IFS='|' read -r label bin port extra <<<"$entry"
  # shellcheck disable=SC2086
  "$BUILD/$bin" "$port" $extra >"$RESULTS/$bin-$port.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$port" || { echo "$label did not start" >&2; stop_server; continue; }
  curl -sf -o /dev/null -H 'Content-Type: application/json' -d '{}' \
    "http://127.0.0.1:$port/v1/orders" || echo "warning: $label sanity POST failed" >&2
  wrk -t1 -c64 -d2s -s "$HERE/post.lua" "http://127.0.0.1:$port" >/dev/null  # warm-up
  for conns in 64 256; do
    out="$RESULTS/$bin-$port-c$conns.txt"
    t0=$(cpu_ticks "$SERVER_PID")
    # --timeout 10s: a slow answer is counted in the latency, not dropped as
    # a 2 s (wrk default) timeout.
    wrk -t1 -c"$conns" -d"$DURATION" --timeout 10s --latency -s "$HERE/post.lua" \
      "http://127.0.0.1:$port" >"$out" 2>&1 || true
    t1=$(cpu_ticks "$SERVER_PID")
    # Server CPU per request: independent of how much CPU wrk took.
    reqs=$(awk '/requests in/ {print $1}' "$out")
    cpu_us=$(awk -v t=$((t1 - t0)) -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.1f", t * 10000 / n; else print "-" }')
    ROWS+=("$label|$conns|$(parse "$out")|$cpu_us")
  done
  kill -0 "$SERVER_PID" 2>/dev/null || echo "warning: $label died during the run" >&2
  stop_server
done

echo
echo "wrk -t1 -cN -d$DURATION --timeout 10s --latency -s post.lua   (raw output: $RESULTS)"
printf '%-22s | %5s | %10s | %9s | %9s | %12s | %s\n' library conns "req/s" p50 p99 "srv CPU us/req" "errors (connect/read/write/timeout)"
printf '%s\n' "-----------------------+-------+------------+-----------+-----------+----------------+---------------"
for row in "${ROWS[@]}"; do
  IFS='|' read -r label conns rps p50 p99 errs cpu <<<"$row"
  printf '%-22s | %5s | %10s | %9s | %9s | %14s | %s\n' "$label" "$conns" "$rps" "$p50" "$p99" "$cpu" "$errs"
done
