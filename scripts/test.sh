#!/usr/bin/env bash
# Builds Ordo and runs every test (ctest, two at a time). Exit code is ctest's.
# Usage: scripts/test.sh [preset] [extra ctest args]   e.g. scripts/test.sh asan
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
scripts/build.sh "$preset"
ctest --preset "$preset" "$@"
