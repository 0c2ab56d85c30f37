#!/usr/bin/env bash
# Slow-client check (run after run.sh has built /tmp/h-eval): two clients send
# half a request header and stall for 12 s; then one normal POST is timed.
# With 2 server threads, a blocking thread-per-connection server cannot
# answer it until a stalled client gives up. Bounded: ~15 s per server.
set -uo pipefail
BUILD=/tmp/h-eval
for s in "beast_server 18095" "mhd_server 18096" "httplib_server 18097"; do
  set -- $s
  "$BUILD/$1" "$2" >/dev/null 2>&1 &
  pid=$!
  sleep 0.3
  stallers=()
  for _ in 1 2; do
    ( exec 3<>"/dev/tcp/127.0.0.1/$2"; printf 'POST /v1/orders HTTP/1.1\r\nHost: x\r\n' >&3; sleep 12 ) &
    stallers+=($!)
  done
  sleep 0.3
  echo "$1: $(curl -s -o /dev/null -m 20 -w '%{http_code} after %{time_total}s' -d '{}' "http://127.0.0.1:$2/v1/orders")"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  for p in "${stallers[@]}"; do wait "$p" 2>/dev/null; done
done
