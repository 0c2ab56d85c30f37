#!/usr/bin/env bash
# The cost of a cross-node hop, and a 3-node cluster's throughput, on loopback.
#
#   bench/cluster_bench.sh [seconds]        (default 10; needs scripts/build.sh release first)
#
# Three runs of placements (ordo-loadgen, closed loop, 64 connections, saga off so that only
# the placements themselves are measured), full sync:
#   1. one node                                  — every command local
#   2. a 3-node cluster, all load sent to node 1 — 2/3 of the placements are forwarded
#   3. the 3-node cluster, one loadgen per node  — the cluster's total
# All processes share this machine's cores (2 here): the cluster figures say what the hop
# costs and that routing works under load, not what 3 machines would do.
# Prints a summary and, last, one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
bin=build/release/app/ordo-node
lg=build/release/bench/loadgen/ordo-loadgen
dir=$(mktemp -d /tmp/ordo-cluster-bench.XXXXXX)
source bench/cluster_lib.sh
metric() { curl -s "http://$1/metrics" | awk -v k="$2" '$1==k {print $2}'; }

run_lg() { # address, connections
  "$lg" --url "http://$1" --connections "$2" --duration "${secs}s" --warmup 2s --mix place=100 2>/dev/null | tail -1
}

echo "cluster_bench: ${secs}s per run, placements only, full sync, $(nproc) cores shared by all processes"
node_up single; single=$addr
r1=$(run_lg "$single" 64)
kill -TERM "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()
echo "1 node:                 $(echo "$r1" | json_field rps) placements/s, p50 $(echo "$r1" | json_field p50_ms) ms, p99 $(echo "$r1" | json_field p99_ms) ms"

p1=$(port); p2=$(port); p3=$(port)
cfg="$dir/cluster.toml"
{
  for i in 1 2 3; do
    eval "p=\$p$i"
    printf '[[cluster.nodes]]\nid = %s\nhost = "127.0.0.1"\nport = %s\n' "$i" "$p"
  done
} >"$cfg"
node_up n1 --config "$cfg" --node.id=1; a1=$addr
node_up n2 --config "$cfg" --node.id=2; a2=$addr
node_up n3 --config "$cfg" --node.id=3; a3=$addr
for _ in $(seq 100); do
  up=$(curl -s "http://$a1/metrics" | awk '/^ordo_cluster_peer_up/ {s+=$2} END {print s+0}')
  [ "$up" = 2 ] && break; sleep 0.1
done
r2=$(run_lg "$a1" 64)
fw=$(metric "$a1" ordo_cluster_forwarded_total)
fs=$(metric "$a1" ordo_cluster_forward_seconds_sum)
fwd_ms=$(python3 -c "print(round(1000*$fs/max($fw,1),3))")
echo "3 nodes, load on node 1: $(echo "$r2" | json_field rps) placements/s, p50 $(echo "$r2" | json_field p50_ms) ms, p99 $(echo "$r2" | json_field p99_ms) ms; $fw forwarded, mean forward round trip $fwd_ms ms"
run_lg "$a1" 22 >"$dir/l1" & l1=$!
run_lg "$a2" 21 >"$dir/l2" & l2=$!
run_lg "$a3" 21 >"$dir/l3" & l3=$!
wait $l1 $l2 $l3
t=0; worst=0
for f in l1 l2 l3; do
  t=$(python3 -c "print($t + $(json_field rps <"$dir/$f"))")
  worst=$(python3 -c "print(max($worst, $(json_field p99_ms <"$dir/$f")))")
done
echo "3 nodes, load on all:   $t placements/s in total, worst p99 $worst ms"
echo "{\"single_rps\":$(echo "$r1" | json_field rps),\"single_p99_ms\":$(echo "$r1" | json_field p99_ms),\"cluster_one_entry_rps\":$(echo "$r2" | json_field rps),\"cluster_one_entry_p99_ms\":$(echo "$r2" | json_field p99_ms),\"forward_mean_ms\":$fwd_ms,\"cluster_all_entries_rps\":$t,\"cluster_all_entries_worst_p99_ms\":$worst}"
