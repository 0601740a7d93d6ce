#!/usr/bin/env bash
# Run one integration test with a throwaway PostgreSQL cluster.
#
#   run.sh tests/integration/test_x.sh
#
# Makes a private temp dir, starts a cluster there (unix socket only; as root the server runs
# as the postgres user), exports DBDEPLOY_TEST_URL / PGHOST / PGPORT / PGUSER, runs the test
# with that dir as cwd, and on EXIT/INT/TERM stops every cluster it (or the test) started and
# deletes the dir. Missing PostgreSQL is a failure unless DBDEPLOY_TEST_ALLOW_SKIP=1, in which
# case it exits 77 (CTest's SKIP_RETURN_CODE).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
test_script=$1
shift

export DBDEPLOY_SOURCE_DIR=${DBDEPLOY_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export DBDEPLOY_BUILD_DIR=${DBDEPLOY_BUILD_DIR:-$DBDEPLOY_SOURCE_DIR/build}
export DBDEPLOY_BIN=${DBDEPLOY_BIN:-$DBDEPLOY_BUILD_DIR/src/dbdeploy}
export DD_SUPPORT=$DBDEPLOY_SOURCE_DIR/tests/support
# shellcheck source=../support/pg.sh
source "$DD_SUPPORT/pg.sh"

if ! pg_bindir >/dev/null; then
  if [[ "${DBDEPLOY_TEST_ALLOW_SKIP:-0}" == 1 ]]; then
    echo "skip: no PostgreSQL server binaries found" >&2
    exit 77
  fi
  echo "error: no PostgreSQL server binaries found (install postgresql, or run scripts/install-deps.sh)" >&2
  exit 1
fi

DD_PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dbdeploy-test.XXXXXX")
export DD_PG_TMP
export DD_PG_TEMPLATE_DIR=${DD_PG_TEMPLATE_DIR:-$DBDEPLOY_BUILD_DIR/pg-template/data}
cleanup() {
  local rc=$?
  pg_stop_all
  # kill anything the test left in our process group's background (http stubs...)
  jobs -p | xargs -r kill 2>/dev/null
  if [[ "${DBDEPLOY_TEST_KEEP:-0}" == 1 ]]; then
    echo "kept test directory $DD_PG_TMP" >&2
  else
    rm -rf "$DD_PG_TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

url=$(pg_start main) || exit 1
export DBDEPLOY_TEST_URL=$url
export PGHOST=$DD_PG_TMP/pg-main/sock PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
export PATH="$(pg_bindir):$PATH"
mkdir -p "$DD_PG_TMP/work"
cd "$DD_PG_TMP/work" || exit 1
bash "$test_script" "$@"
