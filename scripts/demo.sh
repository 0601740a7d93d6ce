#!/usr/bin/env bash
# The demo: installs dependencies, builds dbdeploy, starts a throwaway PostgreSQL cluster and
# deploys this repository's own migrations/ to it, then prints `dbdeploy status`.
# It works on a temporary clone, so your checkout is never modified; everything it starts is
# stopped and deleted when it ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" >/dev/null
dbdeploy=$root/build/src/dbdeploy

# shellcheck source=../tests/support/pg.sh
source "$root/tests/support/pg.sh"
DD_PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dbdeploy-demo.XXXXXX")
export DD_PG_TMP DD_PG_TEMPLATE_DIR=$DD_PG_TMP/template
trap 'pg_stop_all; rm -rf "$DD_PG_TMP"' EXIT
export PATH="$(pg_bindir):$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "a throwaway PostgreSQL cluster"
url=$(pg_start demo)
sock=$DD_PG_TMP/pg-demo/sock
createdb -h "$sock" -U postgres demo_dev
export DEV_DATABASE_URL="postgresql:///demo_dev?host=$sock&user=postgres"
echo "dev database: $DEV_DATABASE_URL"

step "a clean clone of this repository (your checkout stays untouched)"
git clone -q --no-hardlinks "$root" "$DD_PG_TMP/project"
cd "$DD_PG_TMP/project"
ls migrations

step "apply the repository's migrations to dev"
run "$dbdeploy" apply dev
step "status"
run "$dbdeploy" status dev
step "nothing left to do: a second apply is a no-op"
run "$dbdeploy" apply dev
echo
echo "demo finished; the cluster is being stopped and removed"
