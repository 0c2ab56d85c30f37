#!/usr/bin/env bash
# Installs what is missing, builds, and starts a single Ordo node on defaults: the HTTP/JSON
# API on 127.0.0.1:8080 (docs/api.md), data under ./data, full sync. Ctrl-C (SIGINT) or SIGTERM
# drains and stops it. Extra arguments go to the node (see: build/release/app/ordo-node --help),
# e.g. scripts/run.sh --config node.toml, or --http.listen=127.0.0.1:9000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release
exec build/release/app/ordo-node --data ./data "$@"
