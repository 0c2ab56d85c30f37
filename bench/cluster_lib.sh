# Shared by the cluster benchmarks (sourced, not run): temporary dir and process cleanup,
# free ports, JSON fields, and starting ordo-node processes that print their address.
# The sourcing script sets $bin (ordo-node) and $dir (a temporary directory) first.
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json_field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

node_up() { # name, ordo-node args...; sets $addr once the node prints where it listens
  local name=$1; shift
  mkdir -p "$dir/$name"
  "$bin" --data "$dir/$name/data" --listen 127.0.0.1:0 --saga.enabled=false "$@" \
    >"$dir/$name/out" 2>"$dir/$name/log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$dir/$name/out" 2>/dev/null && break; sleep 0.05; done
  addr=$(sed -n 's/.*listening on //p' "$dir/$name/out")
}
