#!/usr/bin/env bash
# Bad input is refused before anything runs; a SQL error mid-batch keeps what committed, names
# file:line:col, and leaves nothing of the failing migration.
source "$DD_SUPPORT/lib.sh"

url=$(new_db fail)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url" "[git]" "allow-dirty = true"
m=$proj/migrations
mkdir -p "$m"

# --- malformed names, duplicates, a down without its up: all listed, exit 2, nothing applied
echo 'CREATE TABLE a (id int);' >"$m/0001_a.sql"
echo 'CREATE TABLE b (id int);' >"$m/V2.1__flyway_style.sql"
echo 'CREATE TABLE c (id int);' >"$m/3_c.up.sql"
echo 'CREATE TABLE c2 (id int);' >"$m/003_c_again.sql"
echo 'DROP TABLE d;' >"$m/4_d.down.sql"
echo 'x' >"$m/notes.txt"
expect_rc 2 -C "$proj" apply dev
assert_contains "$err" "error: migrations: 3 migration files cannot be used" "one-line summary"
assert_contains "$err" "migrations/V2.1__flyway_style.sql: Flyway versions with dots or single underscores (V1.1, V1_1) are not supported; use whole numbers" "malformed listed"
assert_contains "$err" "migrations/3_c.up.sql: version 3 is also used by '003_c_again.sql'" "duplicate listed"
assert_contains "$err" "migrations/4_d.down.sql: down migration without its up" "orphan down listed"
assert_contains "$err" "hint:" "a hint follows"
assert_eq "$(q "$url" "select to_regclass('a') is null")" "t" "nothing applied"
rm -f "$m"/*

# --- psql meta-command: refused up front with file and line, even in the 3rd file
echo 'CREATE TABLE a (id int);' >"$m/0001_a.sql"
echo 'CREATE TABLE b (id int);' >"$m/0002_b.sql"
printf 'CREATE TABLE c (id int);\n\\i other.sql\n' >"$m/0003_c.sql"
expect_rc 2 -C "$proj" apply dev
assert_contains "$err" "migrations/0003_c.sql:2:1: psql meta-command '\\i' is not supported" "meta-command located"
assert_eq "$(q "$url" "select to_regclass('a') is null")" "t" "nothing applied before the refusal"
rm -f "$m"/*

# --- SQL error in the 3rd of 5: two committed, third rolled back entirely, 4 and 5 not run
for i in 1 2 4 5; do echo "CREATE TABLE t$i (id int);" >"$m/000${i}_t$i.sql"; done
cat >"$m/0003_t3.sql" <<'SQL'
CREATE TABLE t3 (id int);
INSERT INTO t3 VALUES (1);
SELECT * FROM   no_such_table;
SQL
# by default all five run in one transaction: nothing stays
expect_rc 1 -C "$proj" apply dev
assert_contains "$err" 'error: migrations/0003_t3.sql:3:17: relation "no_such_table" does not exist (SQLSTATE 42P01)' "error names file:line:col (one transaction)"
assert_contains "$err" "none of its 5 migrations stayed applied" "says nothing stayed"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations")" "0" "ledger empty"
assert_eq "$(q "$url" "select to_regclass('t1') is null, to_regclass('t3') is null")" "t|t" "no table of the deployment"
# one transaction per file keeps what committed
write_env "$proj" dev "$url" "[git]" "allow-dirty = true" "[apply]" "transaction = per-migration"
expect_rc 1 -C "$proj" apply dev
assert_contains "$err" 'error: migrations/0003_t3.sql:3:17: relation "no_such_table" does not exist (SQLSTATE 42P01)' "error names file:line:col"
assert_contains "$err" "while applying 0003_t3.sql to dev" "context line"
assert_contains "$err" "2 migrations before it were committed" "says what stayed"
assert_eq "$(q "$url" "select string_agg(version::text, ',' order by version) from dbdeploy.migrations")" "1,2" "ledger holds 1,2"
assert_eq "$(q "$url" "select to_regclass('t1') is not null, to_regclass('t3') is null, to_regclass('t4') is null")" "t|t|t" "schema matches the ledger"
# fix the file (it was never applied, so editing is fine) and continue
sed -i 's/no_such_table/t3/' "$m/0003_t3.sql"
expect_rc 0 -C "$proj" apply dev
assert_contains "$out" "applied 3 migrations" "resumes at 3"

# --- detail and server hint are shown
cat >"$m/0006_dup.sql" <<'SQL'
CREATE TABLE u (id int PRIMARY KEY);
INSERT INTO u VALUES (1), (1);
SQL
expect_rc 1 -C "$proj" apply dev
assert_contains "$err" "duplicate key value violates unique constraint" "message"
assert_contains "$err" "detail: Key (id)=(1) already exists." "detail line"
assert_eq "$(q "$url" "select to_regclass('u') is null")" "t" "rolled back"
pass "bad names, meta-commands, mid-batch SQL errors"
