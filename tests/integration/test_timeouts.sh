#!/usr/bin/env bash
# statement-timeout from the config and per file (-- dbdeploy:statement-timeout=...), and that a
# migration's own SET does not leak into the next one.
source "$DD_SUPPORT/lib.sh"

url=$(new_db timeouts)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url" "[database]" "statement-timeout = 300ms"
m=$proj/migrations
mkdir -p "$m"
echo 'SELECT pg_sleep(1);' >"$m/0001_slow.sql"
commit_all "$proj" "slow"
expect_rc 1 -C "$proj" apply dev
assert_contains "$err" "canceling statement due to statement timeout (SQLSTATE 57014)" "config timeout applies"

# the file raises its own limit
printf -- '-- dbdeploy:statement-timeout=5s\nSELECT pg_sleep(1);\n' >"$m/0001_slow.sql"
# a file that changes session settings; the next file must not inherit them
printf 'SET search_path = nowhere;\nSET statement_timeout = 0;\nCREATE TABLE public.t2 (id int);\n' >"$m/0002_sets.sql"
printf 'CREATE TABLE t3 (id int);\nSELECT pg_sleep(1);\n' >"$m/0003_after.sql"
commit_all "$proj" "fixed"
expect_rc 1 -C "$proj" apply dev
# all three in one transaction: 0003 runs with the configured 300ms again (0002's SET does not
# reach it even inside the same transaction), so nothing stays
assert_contains "$err" "0003_after.sql:2:1: canceling statement due to statement timeout" "0002's SET statement_timeout did not leak (one transaction)"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "0" "the deployment's transaction was rolled back"
# one transaction per file: 0001 and 0002 applied; 0003 runs with the configured 300ms again, in the public schema
write_env "$proj" dev "$url" "[database]" "statement-timeout = 300ms" "[apply]" "transaction = per-migration"
expect_rc 1 -C "$proj" apply dev
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1,2" "directive lifted the limit for 0001 only"
assert_eq "$(q "$url" "select duration_ms between 1000 and 5000 from dbdeploy.migrations where version = 1")" "t" "the ledger records how long the file ran"
assert_contains "$err" "0003_after.sql:2:1: canceling statement due to statement timeout" "0002's SET statement_timeout did not leak"
printf 'CREATE TABLE t3 (id int);\n' >"$m/0003_after.sql"
commit_all "$proj" "fixed 3"
expect_rc 0 -C "$proj" apply dev
assert_eq "$(q "$url" "select to_regclass('public.t3') is not null")" "t" "0002's search_path did not leak"
pass "statement timeouts and session isolation"
