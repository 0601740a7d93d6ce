#!/usr/bin/env bash
# Files with their own BEGIN/COMMIT (hand-written runners, lakefs) are not double-wrapped: the
# outer pair is replaced by dbdeploy's transaction so the ledger row stays atomic with the file.
source "$DD_SUPPORT/lib.sh"

url=$(new_db owntx)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url"
m=$proj/migrations
mkdir -p "$m"
cat >"$m/000001_wrapped.up.sql" <<'SQL'
BEGIN;
CREATE TABLE w (id int);
CREATE FUNCTION w_count() RETURNS bigint AS $$ BEGIN RETURN (SELECT count(*) FROM w); END; $$ LANGUAGE plpgsql;
END;
SQL
cat >"$m/000002_fails_inside.up.sql" <<'SQL'
BEGIN;
CREATE TABLE x (id int);
SELECT 1/0;
COMMIT ;
SQL
commit_all "$proj" "wrapped"
expect_rc 1 -C "$proj" apply dev
assert_not_contains "$err" "there is already a transaction in progress" "no double BEGIN warning"
assert_contains "$err" "migrations/000002_fails_inside.up.sql:3:1: division by zero (SQLSTATE 22012)" "error located"
# one transaction for the whole deployment ([apply] transaction = auto): nothing stayed
assert_contains "$err" "none of its 2 migrations stayed applied" "whole deployment rolled back"
assert_eq "$(q "$url" "select to_regclass('w') is null, to_regclass('x') is null")" "t|t" "nothing of either file"
# one transaction per file: the first stays
write_env "$proj" dev "$url" "[apply]" "transaction = per-migration"
expect_rc 1 -C "$proj" apply dev
assert_contains "$err" "migrations/000002_fails_inside.up.sql:3:1: division by zero (SQLSTATE 22012)" "error located"
assert_eq "$(q "$url" "select w_count(), to_regclass('x') is null")" "0|t" "first applied; second left nothing"
assert_eq "$(q "$url" "select transactional from dbdeploy.migrations where version = 1")" "t" "ran in dbdeploy's transaction"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "1" "ledger consistent"

# two separate transaction blocks in one file: the file manages its transactions itself
cat >"$m/000002_fails_inside.up.sql" <<'SQL'
BEGIN;
CREATE TABLE x (id int);
COMMIT;
BEGIN;
CREATE TABLE y (id int);
COMMIT;
SQL
commit_all "$proj" "two blocks"
expect_rc 0 -C "$proj" apply dev
assert_contains "$err" "runs without a transaction: it manages its own (COMMIT at line 3)" "explained"
assert_eq "$(q "$url" "select state, statements_done from dbdeploy.migrations where version = 2")" "applied|6" "recorded"
pass "own BEGIN/COMMIT unwrapped; multi-block files run as written"
