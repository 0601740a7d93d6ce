#!/usr/bin/env bash
# Every byte dbdeploy writes — stdout, stderr, --json, -v output, changelogs, backup archives
# (manifest and header included), ledger rows — is searched for the database password and the
# health-check token. Neither may appear anywhere.
source "$DD_SUPPORT/lib.sh"

export PROD_DB_PASSWORD='pw-Zq8#secret-DB'
export STAGING_DB_PASSWORD='pw-Staging-Xy7'
export HEALTH_TOKEN='hc-token-9f8e7d6c'
createdb app_staging
createdb app_prod
staging="postgresql://postgres:\${STAGING_DB_PASSWORD}@/app_staging?host=$PGHOST&port=$PGPORT"
prod="postgresql://postgres:\${PROD_DB_PASSWORD}@/app_prod?host=$PGHOST&port=$PGPORT"
start_stub ok 200 --require-header "Authorization: Bearer $HEALTH_TOKEN"
ok_port=$stub_port
start_stub flaky 200 503 --require-header "Authorization: Bearer $HEALTH_TOKEN"
flaky_port=$stub_port
proj=$PWD/proj
pipeline_project "$proj" "$staging" "$prod" "http://127.0.0.1:$ok_port/healthz?token=\${HEALTH_TOKEN}"
five_migrations "$proj"
# a migration whose failure message could echo a value: still nothing secret
commit_all "$proj" "five"

log=$PWD/all-output
: >"$log"
run() { run_dd "$@"; printf '%s\n%s\n' "$out" "$err" >>"$log"; }
run -C "$proj" -v deploy staging
[[ $rc == 0 ]] || fail "staging deploy failed: $err"
run -C "$proj" -v --json deploy prod
[[ $rc == 0 ]] || fail "prod deploy failed: $err"
run -C "$proj" --json status prod
run -C "$proj" -v status staging
run -C "$proj" --json backups prod
run -C "$proj" -v health prod
run -C "$proj" --json health prod
# a failing deploy with a restore, and a connection failure
echo 'CREATE TABLE t6 (id int);' >"$proj/migrations/0006_t6.up.sql"
commit_all "$proj" "six"
run -C "$proj" deploy staging
sed -i "/^\[health\]/,\$ s|127.0.0.1:$ok_port|127.0.0.1:$flaky_port|" "$proj/pipeline/prod.conf"
commit_conf "$proj"
run -C "$proj" -v --json deploy prod
[[ $rc == 4 ]] || fail "expected the flaky health check to restore prod (exit 4), got $rc: $err"
sed -i "s|@/app_prod?host=|@127.0.0.1:1/app_prod?x=|" "$proj/pipeline/prod.conf"
run -C "$proj" -v --json status prod
[[ $rc == 1 ]] || fail "expected a connection failure"
assert_contains "$err" "postgres:***@" "the masked URL is what appears"

# everything written to disk: changelogs, archives (decompressed), ledger rows
disk=$PWD/disk-output
cat "$proj"/changelog/*/CHANGELOG.md >"$disk"
for a in "$proj"/.dbdeploy/backups/*/*.tar.zst; do
  tar --use-compress-program=unzstd -xOf "$a" >>"$disk"
done
for db in app_staging app_prod; do
  pg_dump --data-only --schema=dbdeploy -d "$db" >>"$disk"
done
[[ -s "$disk" && -s "$log" ]] || fail "nothing collected"
for secret in "$PROD_DB_PASSWORD" "$STAGING_DB_PASSWORD" "$HEALTH_TOKEN"; do
  if grep -aF -- "$secret" "$log" "$disk" "$DD_PG_TMP"/*.log >/dev/null 2>&1; then
    grep -anF -- "$secret" "$log" "$disk" | head -5 >&2
    fail "a secret leaked"
  fi
done
echo "searched $(wc -c <"$log") bytes of output and $(wc -c <"$disk") bytes on disk"
pass "no password or token in any output, changelog, archive or ledger row"
