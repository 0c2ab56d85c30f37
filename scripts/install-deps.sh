#!/usr/bin/env bash
# Installs Ordo's build and test dependencies from Debian 12 packages.
# Idempotent and non-interactive: installs only what is missing; safe to run often.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev
  openssl libssl-dev
  libprotobuf-dev protobuf-compiler
  liblmdb-dev lmdb-utils
  libfmt-dev
  libtomlplusplus-dev
  libboost-dev
  libcli11-dev
  prometheus-cpp-dev
  doctest-dev
  libjemalloc-dev
  strace
  python3
  faketime
  universal-ctags
  etcd-server etcd-client
  clang-14 libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
