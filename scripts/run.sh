#!/usr/bin/env bash
# Installs what is missing, builds, and starts a single Ordo node on embedded defaults with
# its data under ./data. Extra arguments go to the node (see: build/release/app/ordo-node --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh release
exec build/release/app/ordo-node --data ./data "$@"
