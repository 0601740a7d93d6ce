#!/usr/bin/env bash
# db_ledger_ensure skips its DDL when the ledger already is what that DDL makes it (its info
# row 'ddl' holds the script's hash): a reader of a ledger table no longer blocks the next
# deploy behind ALTER TABLE's lock. Old ledgers (no 'ddl' row, or another version's) still get
# upgraded.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
echo "CREATE TABLE a (id int);" >"$proj/migrations/0001_a.sql"
url=$(new_db lc)
write_env "$proj" prod "$url" "[backup]" "	enabled = false"
commit_all "$proj" "a"
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(q "$url" "select length(value) from dbdeploy.info where key = 'ddl'")" "64" "the script records its hash"

# a long read of the ledger (a report, a dashboard) holds ACCESS SHARE on dbdeploy.migrations
psql -X -q -d "$url" -c "BEGIN; SELECT count(*) FROM dbdeploy.migrations; SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
wait_for "$url" "select count(*) = 1 from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()"
echo "CREATE TABLE b (id int);" >"$proj/migrations/0002_b.sql"
commit_all "$proj" "b"
set +e
timeout 20 "$DBDEPLOY_BIN" -C "$proj" deploy prod >deploy.out 2>&1
drc=$?
set -e
q "$url" "select pg_terminate_backend(pid) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()" >/dev/null
wait "$holder" || true
[[ $drc == 0 ]] || { cat deploy.out >&2; fail "deploy beside a ledger reader exited $drc (124: it waited for the reader)"; }
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "2" "deployed beside the reader"

# an old ledger: no 'ddl' row and a column added since; the next deploy upgrades it
q "$url" "delete from dbdeploy.info where key = 'ddl'; alter table dbdeploy.deployments drop column drift" >/dev/null
echo "CREATE TABLE c (id int);" >"$proj/migrations/0003_c.sql"
commit_all "$proj" "c"
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(q "$url" "select count(*) from information_schema.columns where table_schema = 'dbdeploy' and table_name = 'deployments' and column_name = 'drift'")" "1" "an old ledger is upgraded"
# another version's script ran last: ours runs again
q "$url" "update dbdeploy.info set value = 'other' where key = 'ddl'; alter table dbdeploy.deployments drop column drift" >/dev/null
echo "CREATE TABLE d (id int);" >"$proj/migrations/0004_d.sql"
commit_all "$proj" "d"
expect_rc 0 -C "$proj" deploy prod
assert_eq "$(q "$url" "select count(*) from information_schema.columns where table_schema = 'dbdeploy' and table_name = 'deployments' and column_name = 'drift'")" "1" "another version's ledger is brought to ours"
assert_eq "$(q "$url" "select length(value) from dbdeploy.info where key = 'ddl'")" "64" "and records our hash"

pass "ledger DDL skipped when current, old ledgers upgraded"
