#!/usr/bin/env bash
# With [restore] strategy = backup and one transaction per file, failures after the database
# changed are undone by the backup: a SQL error in the 3rd of 5 migrations (2
# committed) and a health check failing after apply both restore the backup, exit 4, and leave
# prod exactly as before (pg_dump equal); the failed deployment is still recorded and the
# ledger is rewound. With backups off, the same failure exits 1 and says nothing was restored.
source "$DD_SUPPORT/lib.sh"

export HEALTH_TOKEN=tok-restore
staging=$(new_db app_staging)
prod=$(new_db app_prod)
start_stub staging_health 200
staging_port=$stub_port
start_stub prod_health 200
proj=$PWD/proj
pipeline_project "$proj" "$staging" "$prod" "http://127.0.0.1:$staging_port/healthz"
set_prod_health() { sed -i "/^\[health\]/,\$ s|url = http://127.0.0.1:[0-9]*/healthz|url = http://127.0.0.1:$1/healthz|" "$proj/pipeline/prod.conf"; commit_conf "$proj"; }
set_prod_health "$stub_port"
# this test is about the backup rung: one transaction per file, and the backup even where down
# files exist (test_recovery_ladder covers the other rungs)
printf '[apply]\n\ttransaction = per-migration\n[restore]\n\tstrategy = backup\n' >>"$proj/pipeline/prod.conf"
printf 'CREATE TABLE customers (id int PRIMARY KEY, name text);\nINSERT INTO customers VALUES (1, %s), (2, %s);\n' \
  "'ada'" "'bob'" >"$proj/migrations/0000_customers.up.sql"
commit_all "$proj" "customers"
expect_rc 0 -C "$proj" deploy staging
expect_rc 0 -C "$proj" deploy prod
# prod has data staging does not: the migration below fails there only
q "$prod" "INSERT INTO customers VALUES (3, 'cyd')" >/dev/null

prod_dump() {
  # everything but the deployment history, which is meant to grow
  pg_dump --no-owner --no-privileges --restrict-key=dbdeploytest --exclude-table-data='dbdeploy.deployment*' \
    -d "$prod" | grep -vE '^-- Dumped (from|by)'
}

# 1. SQL failure in the 3rd of 5, after 2 committed
five_migrations "$proj"
printf 'CREATE TABLE t3 (id int);\n-- dbdeploy:allow row-changes imports a customer\nINSERT INTO customers VALUES (3, %s);\n' \
  "'imported'" >"$proj/migrations/0003_t3.up.sql"
commit_all "$proj" "five tables and an import"
expect_rc 0 -C "$proj" deploy staging
prod_dump >"$PWD/before.sql"
expect_rc 4 -C "$proj" deploy prod
assert_contains "$err" "error: migrations/0003_t3.up.sql:3:1: duplicate key value violates unique constraint" "failing file and line"
assert_contains "$err" "detail: Key (id)=(3) already exists." "server detail"
assert_contains "$err" "hint: The database was restored from" "restore hint"
assert_contains "$err" "restore        ok" "restore stage line"
assert_contains "$out" "back to its state before the deployment" "report"
prod_dump >"$PWD/after.sql"
diff -u "$PWD/before.sql" "$PWD/after.sql" >&2 || fail "prod differs from its pre-deploy dump after the restore"
assert_eq "$(q "$prod" "select string_agg(id::text, ',' order by id) from customers")" "1,2,3" "data written before the deploy survived"
assert_eq "$(q "$prod" "select string_agg(version::text, ',') from dbdeploy.migrations")" "0" "ledger rewound"
assert_eq "$(q "$prod" "select result, array_to_string(versions, ',') from dbdeploy.deployments order by id desc limit 1")" "restored|1,2,3" "failed deployment recorded after the restore"
assert_eq "$(q "$prod" "select string_agg(status, ',' order by version) from dbdeploy.deployment_migrations where deployment_id = (select max(id) from dbdeploy.deployments)")" "restored,restored,failed" "per-migration outcome kept"
assert_contains "$(cat "$proj/changelog/prod/CHANGELOG.md")" "— prod — restored" "changelog entry for the restored failure"
expect_rc 0 -C "$proj" status prod
assert_contains "$out" "1 applied, 5 pending" "status after restore"

# 2. the health check fails after apply (200 before, 503 after): restored likewise
q "$prod" "DELETE FROM customers WHERE id = 3" >/dev/null
stop_stubs
start_stub staging_health2 200
sed -i "s|127.0.0.1:[0-9]*/healthz|127.0.0.1:$stub_port/healthz|" "$proj/pipeline/staging.conf"
start_stub flapping 200 503
set_prod_health "$stub_port"
prod_dump >"$PWD/before2.sql"
expect_rc 4 -C "$proj" deploy prod
assert_contains "$err" "health-after" "health-after named"
assert_contains "$err" "503" "status named"
prod_dump >"$PWD/after2.sql"
diff -u "$PWD/before2.sql" "$PWD/after2.sql" >&2 || fail "prod differs after the health-triggered restore"
assert_eq "$(q "$prod" "select to_regclass('t1') is null")" "t" "applied tables are gone"

# 3. without backups the same failure exits 1 and says the database was not restored
printf '[backup]\n\tenabled = false\n' >>"$proj/pipeline/prod.conf"
start_stub flapping2 200 503
set_prod_health "$stub_port"
expect_rc 1 -C "$proj" deploy prod
assert_contains "$out" "the database was NOT restored" "says it was not restored"
assert_eq "$(q "$prod" "select count(*) from dbdeploy.migrations")" "6" "migrations stay applied"
# 4. no pg_restore: preflight refuses before any change, since the way back would not exist
sed -i '/^\[backup\]/,$d' "$proj/pipeline/prod.conf"
printf '[backup]\n\tpg-restore = /nonexistent/pg_restore\n' >>"$proj/pipeline/prod.conf"
expect_rc 0 -C "$proj" rollback prod --steps 5
start_stub flapping3 200 503
set_prod_health "$stub_port"
expect_rc 3 -C "$proj" deploy prod
assert_contains "$err" "no way back" "preflight names the missing way back"
assert_contains "$err" "/nonexistent/pg_restore" "and the program"
assert_eq "$(q "$prod" "select count(*) from dbdeploy.migrations")" "1" "nothing changed"
# 5. the restore itself fails (pg_restore answers --version, then fails): exit 5, with the archive and the way out
printf '#!/bin/sh\n[ "$1" = --version ] && exec pg_restore --version\necho "pg_restore: simulated failure" >&2\nexit 1\n' >"$PWD/bad_pg_restore"
chmod +x "$PWD/bad_pg_restore"
sed -i "s|/nonexistent/pg_restore|$PWD/bad_pg_restore|" "$proj/pipeline/prod.conf"
start_stub flapping4 200 503
set_prod_health "$stub_port"
expect_rc 5 -C "$proj" deploy prod
assert_contains "$err" "restore failed too" "the failed restore is reported"
assert_contains "$err" "dbdeploy restore prod" "hint gives the manual restore command"
assert_contains "$err" "docs/backup.md" "hint points to the emergency procedure"
assert_contains "$out" "the restore failed too" "report"
assert_eq "$(q "$prod" "select result from dbdeploy.deployments order by id desc limit 1")" "restore-failed" "recorded as such"
pass "restores after a SQL failure and after a failed health check; dumps equal; a failed restore exits 5"
