#!/usr/bin/env bash
# What a membership change costs: a 4th node joins a loaded 3-node cluster on loopback.
#
#   bench/handoff_bench.sh [preload_seconds] [batch_kb]   (defaults 20, 512; needs
#                                                          scripts/build.sh release first)
#
# 1. three nodes (saga off: placements only, full sync); ordo-loadgen fills them for
#    preload_seconds (64 connections through node 1);
# 2. node 4 starts with cluster.join = true; a second loadgen (32 connections, node 1) runs
#    while `POST /v1/cluster/members` adds node 4 and the shards move;
# 3. reported: how long the change took; per moved shard how long its copy took while it
#    still served, how long it then refused commands (drain, copy of what changed meanwhile,
#    activation) and how many entities it carried (from the old owners' shard_moved_out log
#    lines); and what the load saw meanwhile (throughput, p99, 503s).
# All four processes share this machine's cores (2 here). Prints a summary and, last, JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
preload=${1:-20}
batch_kb=${2:-512}
bin=build/release/app/ordo-node
lg=build/release/bench/loadgen/ordo-loadgen
dir=$(mktemp -d /tmp/ordo-handoff-bench.XXXXXX)
source bench/cluster_lib.sh

start_node() { # name, config, extra args...; sets $addr
  local name=$1 cfg=$2; shift 2
  node_up "$name" --config "$cfg" --cluster.handoff_batch_kb="$batch_kb" "$@"
}

p1=$(port); p2=$(port); p3=$(port); p4=$(port)
members() { # the [[cluster.nodes]] of nodes 1..$1
  for i in $(seq "$1"); do
    eval "p=\$p$i"
    printf '[[cluster.nodes]]\nid = %s\nhost = "127.0.0.1"\nport = %s\n' "$i" "$p"
  done
}
members 3 >"$dir/three.toml"
{ printf '[cluster]\njoin = true\n'; members 4; } >"$dir/four.toml"
start_node n1 "$dir/three.toml" --node.id=1; a1=$addr
start_node n2 "$dir/three.toml" --node.id=2
start_node n3 "$dir/three.toml" --node.id=3
for _ in $(seq 100); do
  up=$(curl -s "http://$a1/metrics" | awk '/^ordo_cluster_peer_up/ {s+=$2} END {print s+0}')
  [ "$up" = 2 ] && break; sleep 0.1
done
echo "handoff_bench: preload ${preload}s, handoff batches ${batch_kb} KiB, full sync, $(nproc) cores shared by 4 nodes and the load"
pre=$("$lg" --url "http://$a1" --connections 64 --duration "${preload}s" --warmup 0s --mix place=100 2>/dev/null | tail -1)
echo "preloaded: $(echo "$pre" | json_field status_2xx) orders at $(echo "$pre" | json_field rps) placements/s"

start_node n4 "$dir/four.toml" --node.id=4
window=$((30))
"$lg" --url "http://$a1" --connections 32 --duration "${window}s" --warmup 0s --mix place=100 \
  2>/dev/null >"$dir/during" &
lgpid=$!
sleep 3
body=$(python3 -c "import json; print(json.dumps({'nodes':[{'id':i,'host':'127.0.0.1','port':p} for i,p in enumerate([$p1,$p2,$p3,$p4],1)]}))")
t0=$(date +%s.%N)
curl -s -X POST -H 'Content-Type: application/json' -d "$body" "http://$a1/v1/cluster/members" >/dev/null
result=""
for _ in $(seq 6000); do
  st=$(curl -s "http://$a1/v1/cluster")
  result=$(echo "$st" | python3 -c "import json,sys; c=json.load(sys.stdin)['change']; print('' if c['running'] else c['result'])")
  [ -n "$result" ] && break
  sleep 0.05
done
t1=$(date +%s.%N)
change_ms=$(python3 -c "print(round(1000*($t1-$t0)))")
wait $lgpid
during=$(tail -1 "$dir/during")
cat "$dir"/n[123]/log | grep 'event=shard_moved_out' >"$dir/moves" || true
read -r moves ent_total ms_p50 ms_max ent_max delta_total pre_p50 < <(python3 - "$dir/moves" <<'EOF'
import re, sys
rows = [dict(kv.split("=", 1) for kv in re.findall(r"\w+=\S+", l)) for l in open(sys.argv[1])]
ms = sorted(float(r["ms"]) for r in rows)
ent = [int(r["entities"]) for r in rows]
pre = [int(r.get("precopy_entities", 0)) for r in rows]
pre_ms = sorted(float(r.get("precopy_ms", 0)) for r in rows)
if not ms: print(0, 0, 0, 0, 0, 0, 0)
else: print(len(ms), sum(pre), ms[len(ms) // 2], ms[-1], max(pre), sum(ent), pre_ms[len(pre_ms) // 2])
EOF
)
echo "change: $result in $change_ms ms (polled every 50 ms); $moves shards moved, $ent_total entities"
echo "per moved shard: copied while serving in p50 $pre_p50 ms (largest shard $ent_max entities); then refused commands for p50 $ms_p50 ms, max $ms_max ms (drain, copying the $delta_total entities touched meanwhile in all, activation)"
echo "load during the ${window}s window (change inside it): $(echo "$during" | json_field rps) placements/s, p99 $(echo "$during" | json_field p99_ms) ms, max $(echo "$during" | json_field max_ms) ms, $(echo "$during" | json_field status_5xx) answered 5xx (retry later)"
echo "{\"preloaded_orders\":$(echo "$pre" | json_field status_2xx),\"change_ms\":$change_ms,\"shards_moved\":$moves,\"entities_moved\":$ent_total,\"shard_refusing_p50_ms\":$ms_p50,\"shard_refusing_max_ms\":$ms_max,\"precopy_p50_ms\":$pre_p50,\"delta_entities\":$delta_total,\"load_rps\":$(echo "$during" | json_field rps),\"load_p99_ms\":$(echo "$during" | json_field p99_ms),\"load_5xx\":$(echo "$during" | json_field status_5xx),\"result\":\"$result\"}"
