# shellcheck shell=bash
# Shared by bench/*/run.sh: a throwaway cluster with default durability settings (fsync on,
# unlike the test clusters), timing helpers and a median.
set -euo pipefail
bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export DBDEPLOY_BIN=${DBDEPLOY_BIN:-$bench_root/build/src/dbdeploy}
[[ -x "$DBDEPLOY_BIN" ]] || { echo "build dbdeploy first (scripts/build.sh), or set DBDEPLOY_BIN" >&2; exit 1; }
# shellcheck source=../../tests/support/pg.sh
source "$bench_root/tests/support/pg.sh"
DD_PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dbdeploy-bench.XXXXXX")
export DD_PG_TMP DD_PG_SETTINGS=""
export DD_PG_TEMPLATE_DIR=$DD_PG_TMP/template
trap 'pg_stop_all; rm -rf "$DD_PG_TMP"' EXIT
export PATH="$(pg_bindir):$PATH" NO_COLOR=1

now_ms() { date +%s%3N; }

# median of numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

machine() {
  echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r), PostgreSQL $(postgres --version | awk '{print $3}')"
}
