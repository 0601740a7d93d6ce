#!/usr/bin/env bash
# A migration's SET ROLE / SET SESSION AUTHORIZATION must not leak: RESET ALL leaves both alone,
# so before the fix the next migration's objects were owned by that role and the ledger row was
# written as it (here a role without access to the ledger, so the ledger write failed).
source "$DD_SUPPORT/lib.sh"

url=$(new_db roles)
psql -X -q -v ON_ERROR_STOP=1 -d "$url" -c "CREATE ROLE someone NOLOGIN" -c "GRANT CREATE ON SCHEMA public TO someone"
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url"
m=$proj/migrations
mkdir -p "$m"
printf 'SET ROLE someone;\nCREATE TABLE t1 (id int);\n' >"$m/0001_as_someone.sql"
echo 'CREATE TABLE t2 (id int);' >"$m/0002_after.sql"
printf 'SET SESSION AUTHORIZATION someone;\nCREATE TABLE t3 (id int);\n' >"$m/0003_session_auth.sql"
echo 'CREATE TABLE t4 (id int);' >"$m/0004_after_session.sql"
commit_all "$proj" "migrations"

expect_rc 0 -C "$proj" apply dev
owner() { q "$url" "select tableowner from pg_tables where tablename = '$1'"; }
assert_eq "$(owner t1)" someone "the migration that set the role owns its table"
assert_eq "$(owner t2)" postgres "the next migration runs as the deploy user"
assert_eq "$(owner t3)" someone "SET SESSION AUTHORIZATION applies within its migration"
assert_eq "$(owner t4)" postgres "session authorization is reset after the migration"
assert_eq "$(q "$url" "select string_agg(version::text || ':' || state, ',' order by version) from dbdeploy.migrations")" \
  "1:applied,2:applied,3:applied,4:applied" "every ledger row written"
pass "role and session authorization reset after each migration"
