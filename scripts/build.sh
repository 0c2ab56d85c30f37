#!/usr/bin/env bash
# Installs missing dependencies, then configures and builds Ordo (release preset, -j2).
# Usage: scripts/build.sh [preset]    presets: release (default), debug, asan, tsan
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
scripts/install-deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
