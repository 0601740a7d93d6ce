#!/usr/bin/env bash
# Files that cannot run in a transaction: detected automatically (with the statement's line),
# opted in by annotation, refused under strict-transactions, and a part-way failure leaves a
# dirty ledger row that blocks every later command until `mark` resolves it.
source "$DD_SUPPORT/lib.sh"

url=$(new_db notx)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url"
m=$proj/migrations
mkdir -p "$m"
echo 'CREATE TABLE items (id int, name text);' >"$m/0001_items.sql"
cat >"$m/0002_items_name_idx.sql" <<'SQL'
SET statement_timeout = 0;

CREATE INDEX CONCURRENTLY IF NOT EXISTS items_name_idx ON items (name);
RESET statement_timeout;
SQL
commit_all "$proj" "two migrations"

# strict mode refuses before anything runs, naming file and line
write_env "$proj" strict "$url" "[migrations]" "strict-transactions = true"
expect_rc 2 -C "$proj" apply strict
assert_contains "$err" "migrations/0002_items_name_idx.sql:3: CREATE INDEX CONCURRENTLY cannot run inside a transaction, and strict-transactions is on" "strict refusal"
assert_eq "$(q "$url" "select to_regclass('items') is null")" "t" "strict refusal changed nothing"

# default: runs statement by statement and says why
expect_rc 0 -C "$proj" apply dev
assert_contains "$err" "0002_items_name_idx.sql runs without a transaction: CREATE INDEX CONCURRENTLY at line 3" "announced"
assert_eq "$(q "$url" "select indisvalid from pg_index where indexrelid = 'items_name_idx'::regclass")" "t" "index built"
assert_eq "$(q "$url" "select transactional, statements_done, statements_total, state from dbdeploy.migrations where version = 2")" "f|3|3|applied" "ledger progress"
assert_eq "$(q "$url" "show statement_timeout")" "0" "server default untouched"

# annotated file that fails part-way
cat >"$m/0003_partial.sql" <<'SQL'
-- dbdeploy:no-transaction
CREATE TABLE p1 (id int);
CREATE TABLE p2 (id int);
INSERT INTO missing_table VALUES (1);
CREATE TABLE p3 (id int);
SQL
echo 'CREATE TABLE after_partial (id int);' >"$m/0004_after.sql"
commit_all "$proj" "partial"
expect_rc 1 -C "$proj" apply dev
assert_contains "$err" "migrations/0003_partial.sql:4:13: statement 3 of 4 failed: relation \"missing_table\" does not exist (SQLSTATE 42P01)" "names the statement"
assert_contains "$err" "statements 1 to 2 stayed applied" "says how far it got"
assert_eq "$(q "$url" "select state, statements_done, statements_total, dirty_op from dbdeploy.migrations where version = 3")" "dirty|2|4|apply" "dirty row"
assert_eq "$(q "$url" "select to_regclass('p2') is not null, to_regclass('p3') is null")" "t|t" "database matches progress"

# every later command refuses with instructions
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "dev is in a dirty state" "apply blocked"
assert_contains "$err" "stopped after statement 2 of 4" "progress shown"
assert_contains "$err" "dbdeploy mark dev 0003 --applied" "instructions"
expect_rc 3 -C "$proj" rollback dev
assert_contains "$err" "dirty state" "rollback blocked"
expect_rc 0 -C "$proj" status dev
assert_contains "$out" "dirty" "status shows it"

# resolve by hand, then mark
q "$url" "CREATE TABLE p3 (id int)" >/dev/null
expect_rc 0 -C "$proj" mark dev 0003 --applied
assert_eq "$(q "$url" "select state, statements_done from dbdeploy.migrations where version = 3")" "applied|4" "marked"
expect_rc 0 -C "$proj" apply dev
assert_eq "$(q "$url" "select to_regclass('after_partial') is not null")" "t" "continues after mark"

# mark --pending forgets a row without running SQL
expect_rc 0 -C "$proj" mark dev 4 --pending
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations where version = 4")" "0" "row removed"
assert_eq "$(q "$url" "select to_regclass('after_partial') is not null")" "t" "mark ran no SQL"
expect_rc 2 -C "$proj" mark dev 4
assert_contains "$err" "--applied or --pending" "mark needs a choice"
pass "auto/annotated no-transaction, strict refusal, dirty state and mark"
