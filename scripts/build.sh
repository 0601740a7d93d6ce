#!/usr/bin/env bash
# Build dbdeploy. `scripts/build.sh` builds build/ (RelWithDebInfo, -Werror);
# `scripts/build.sh asan` builds build-asan/ with AddressSanitizer + UBSan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-release}
jobs=$(nproc 2>/dev/null || echo 2)
case $kind in
  release) dir=$root/build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan) dir=$root/build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DDBDEPLOY_SANITIZE=ON) ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
