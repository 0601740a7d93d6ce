#!/usr/bin/env bash
# Install everything dbdeploy needs to build, test, benchmark and run its demo on Debian 12
# (or Ubuntu 22.04+). Idempotent: only missing packages are installed. Uses sudo when not root.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libpq-dev libgit2-dev libcurl4-openssl-dev libarchive-dev libcmocka-dev libssl-dev
  postgresql postgresql-contrib postgresql-client
  jq zstd tar time python3 python3-yaml groff-base zsh
  libpg-query-dev
)
# scripts/fuzz.sh (clang with libFuzzer) and scripts/coverage.sh (gcovr)
packages+=(clang libclang-rt-dev gcovr)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's postgresql package starts a system cluster; tests and the demo use their own
# throwaway clusters on unix sockets and never touch it.
