#!/usr/bin/env bash
# The demo (README, first command). It installs dependencies, builds dbdeploy, then:
#   1. starts two throwaway PostgreSQL clusters (staging and prod) and a local health endpoint;
#   2. deploys this repository's migrations/ to staging, then to prod, through the whole
#      pipeline (gate, health checks, lock, verified backup, apply, record, changelog);
#   3. catches an index added to prod by hand (drift) before the next deploy;
#   4. deploys a new migration whose health check fails afterwards, and shows prod being
#      put back automatically by the least destructive way (its down file; exit 4), exactly
#      as it was, with the rows written meanwhile kept.
# It works on a temporary clone, so your checkout is never modified; everything it starts is
# stopped and deleted when it ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" >/dev/null
dbdeploy=$root/build/src/dbdeploy
stub=$root/build/tests/http_stub

# shellcheck source=../tests/support/pg.sh
source "$root/tests/support/pg.sh"
DD_PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dbdeploy-demo.XXXXXX")
export DD_PG_TMP DD_PG_TEMPLATE_DIR=$DD_PG_TMP/template
stub_pids=()
cleanup() {
  for p in "${stub_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pg_stop_all
  rm -rf "$DD_PG_TMP"
}
trap cleanup EXIT
export PATH="$(pg_bindir):$PATH"

if [[ -t 1 ]]; then bold=$'\033[1m' off=$'\033[0m'; else bold= off=; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
run() {
  printf '$ %s\n' "$*"
  set +e
  "$@"
  local rc=$?
  set -e
  printf '(exit status %s)\n' "$rc"
}
start_stub() { # NAME SCRIPT...: a local HTTP endpoint; sets stub_port
  "$stub" "$@" >"$DD_PG_TMP/stub.port" 2>/dev/null &
  stub_pids+=($!)
  for _ in $(seq 100); do
    [[ -s "$DD_PG_TMP/stub.port" ]] && break
    sleep 0.05
  done
  read -r stub_port <"$DD_PG_TMP/stub.port"
}

step "two throwaway PostgreSQL clusters and a health endpoint"
pg_start staging >/dev/null
pg_start prod >/dev/null
for env in staging prod; do
  createdb -h "$DD_PG_TMP/pg-$env/sock" -U postgres shop
done
export STAGING_DATABASE_URL="postgresql:///shop?host=$DD_PG_TMP/pg-staging/sock&user=postgres"
export PROD_DATABASE_URL="postgresql:///shop?host=$DD_PG_TMP/pg-prod/sock&user=postgres"
export PROD_HEALTH_TOKEN=demo-secret-token
start_stub 200
export STAGING_HEALTH_URL="http://127.0.0.1:$stub_port/healthz" PROD_HEALTH_URL="http://127.0.0.1:$stub_port/healthz"
export DBDEPLOY_BACKUP_DIR=$DD_PG_TMP/backups
echo "staging: $STAGING_DATABASE_URL"
echo "prod:    $PROD_DATABASE_URL"
echo "health:  $PROD_HEALTH_URL (always 200 for now)"

step "a clean clone of this repository (your checkout stays untouched)"
git clone -q --no-hardlinks "$root" "$DD_PG_TMP/project"
cd "$DD_PG_TMP/project"
git config user.name "dbdeploy demo"
git config user.email "demo@example.com"
ls migrations

step "prod is gated on staging: nothing is on staging yet, so prod is refused (exit 3)"
run "$dbdeploy" prod
step "deploy to staging, then promote to prod"
run "$dbdeploy" staging
run "$dbdeploy" prod
run "$dbdeploy" status prod
step "the deployment history, in git"
sed -n '1,30p' changelog/prod/CHANGELOG.md

step "a new migration, deployed to staging"
"$dbdeploy" new add_loyalty_points >/dev/null
cat >migrations/0005_add_loyalty_points.up.sql <<'SQL'
ALTER TABLE accounts ADD COLUMN loyalty_points integer NOT NULL DEFAULT 0;
SQL
echo 'ALTER TABLE accounts DROP COLUMN loyalty_points;' >migrations/0005_add_loyalty_points.down.sql
git add migrations && git commit -q -m "add loyalty points"
run "$dbdeploy" staging

step "someone adds an index on prod by hand: the next prod deploy is refused before anything changes (exit 3)"
psql -q -d "$PROD_DATABASE_URL" -c "CREATE INDEX accounts_name_hotfix ON accounts (name)"
run "$dbdeploy" prod
run "$dbdeploy" drift prod
echo "(the hand-made index is dropped again; 'dbdeploy prod --accept-drift REASON' would have kept it, on record)"
psql -q -d "$PROD_DATABASE_URL" -c "DROP INDEX accounts_name_hotfix"

step "prod's application breaks after this deploy (its health endpoint answers 503 after the migration)"
psql -q -d "$PROD_DATABASE_URL" -c "INSERT INTO accounts (email, name) VALUES ('ada@example.com', 'Ada')"
start_stub 200 503
export PROD_HEALTH_URL="http://127.0.0.1:$stub_port/healthz"
run "$dbdeploy" prod
step "prod is exactly as before: the column is gone, the data is there, the failure is on record"
psql -d "$PROD_DATABASE_URL" -c "SELECT id, email, name FROM accounts" \
  -c "SELECT id, result, array_to_string(versions, ',') AS versions FROM dbdeploy.deployments ORDER BY id"
run "$dbdeploy" status prod
echo
echo "demo finished; the clusters and the endpoint are being stopped and removed"
