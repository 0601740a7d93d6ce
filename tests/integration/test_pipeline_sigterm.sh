#!/usr/bin/env bash
# SIGTERM in the middle of apply: the running migration is cancelled, the backup restored, the
# exit status is 4, and prod equals its pre-deploy dump.
source "$DD_SUPPORT/lib.sh"

export HEALTH_TOKEN=tok-term
staging=$(new_db app_staging)
prod=$(new_db app_prod)
start_stub ok 200
proj=$PWD/proj
pipeline_project "$proj" "$staging" "$prod" "http://127.0.0.1:$stub_port/healthz"
sed -i '/^\[gate\]/,/requires/d' "$proj/pipeline/prod.conf"
echo 'CREATE TABLE base (id int); INSERT INTO base VALUES (1);' >"$proj/migrations/0001_base.up.sql"
commit_all "$proj" "base"
expect_rc 0 -C "$proj" deploy prod
echo 'CREATE TABLE second (id int);' >"$proj/migrations/0002_second.up.sql"
printf 'CREATE TABLE slow (id int);\nSELECT pg_sleep(60);\n' >"$proj/migrations/0003_slow.up.sql"
commit_all "$proj" "slow"
dump() { pg_dump --no-owner --no-privileges --restrict-key=dbdeploytest --exclude-table-data='dbdeploy.deployment*' -d "$prod" | grep -vE '^-- Dumped (from|by)'; }
dump >"$PWD/before.sql"

"$DBDEPLOY_BIN" -C "$proj" deploy prod >"$PWD/out" 2>"$PWD/err" &
pid=$!
wait_for "$prod" "select exists (select 1 from pg_stat_activity where application_name = 'dbdeploy' and query like '%pg_sleep(60)%' and state = 'active')"
t0=$(date +%s)
kill -TERM $pid
set +e
wait $pid
rc=$?
set -e
elapsed=$(( $(date +%s) - t0 ))
[[ $rc == 4 ]] || { cat "$PWD/err" >&2; fail "SIGTERM during apply should exit 4, got $rc"; }
(( elapsed < 30 )) || fail "stopping took ${elapsed}s; the running statement should be cancelled"
assert_contains "$(cat "$PWD/err")" "interrupted" "says it was interrupted"
assert_contains "$(cat "$PWD/err")" "restore        ok" "restored"
dump >"$PWD/after.sql"
diff -u "$PWD/before.sql" "$PWD/after.sql" >&2 || fail "prod differs after SIGTERM and restore"
assert_eq "$(q "$prod" "select result from dbdeploy.deployments order by id desc limit 1")" "restored" "recorded"
pass "SIGTERM mid-apply cancels, restores and exits 4"
