#!/usr/bin/env bash
# The apply-time data-loss guard (docs/guard.md): destruction a migration does not declare fails
# it and leaves the data; declared, it succeeds and the reason is shown; what a migration leaves
# behind (invalid indexes, NOT VALID constraints) and rows it adds to existing tables are checked.
source "$DD_SUPPORT/lib.sh"

url=$(new_db dataloss)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url" "[git]" "allow-dirty = true"
m=$proj/migrations
mkdir -p "$m"

# tables filled by their own run: nothing existed before, so nothing is checked
cat >"$m/0001_base.sql" <<'SQL'
CREATE TABLE orders (id int PRIMARY KEY, note text, legacy text, total int);
INSERT INTO orders VALUES (1, 'a', NULL, 5), (2, 'b', NULL, 6), (3, NULL, NULL, 7);
CREATE TABLE items (id int);
INSERT INTO items SELECT generate_series(1, 4);
DELETE FROM items WHERE id = 4;
CREATE TABLE dup (v int);
INSERT INTO dup VALUES (1), (1);
SQL
expect_rc 0 -C "$proj" apply dev
assert_eq "$(q "$url" "select count(*) from items")" "3" "a run may empty what it created"

# applies $1 expecting exit $2; the file is removed again on failure
attempt() {
  expect_rc "$2" -C "$proj" apply dev
}
not_recorded() {
  assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations where version = $1")" "0" "$2: not recorded"
}

# --- DROP COLUMN on a column with data: fails, the column and its values stay
echo 'ALTER TABLE orders DROP COLUMN note;' >"$m/0002_drop_note.sql"
attempt 0002 1
assert_contains "$err" "error: migrations/0002_drop_note.sql:1:1: DROP COLUMN orders.note destroyed 2 non-null values, which the migration does not declare" "names table, column and count"
assert_contains "$err" "hint: If the loss is intended" "hint"
assert_eq "$(q "$url" "select count(note) from orders")" "2" "values still there"
not_recorded 2 "undeclared DROP COLUMN"
# declared: applied and recorded, the reason shown
printf -- '-- dbdeploy:allow data-loss note moved to order_notes in 0001\nALTER TABLE orders DROP COLUMN note;\n' >"$m/0002_drop_note.sql"
attempt 0002 0
assert_contains "$err" "DROP COLUMN orders.note destroyed 2 non-null values (declared data-loss at line 1: note moved to order_notes in 0001)" "reason in the log"
assert_eq "$(q "$url" "select count(*) from dbdeploy.migrations where version = 2")" "1" "declared DROP COLUMN recorded"

# --- DROP COLUMN on an all-NULL column: nothing lost
echo 'ALTER TABLE orders DROP COLUMN legacy;' >"$m/0003_drop_legacy.sql"
attempt 0003 0

# --- DELETE without WHERE (per-migration transactions this time)
echo 'DELETE FROM orders;' >"$m/0004_delete.sql"
printf '[apply]\n\ttransaction = per-migration\n' >>"$proj/pipeline/dev.conf"
attempt 0004 1
assert_contains "$err" "migrations/0004_delete.sql:1:1: DELETE removed 3 rows from orders, which the migration does not declare" "DELETE counted"
assert_eq "$(q "$url" "select count(*) from orders")" "3" "rows still there"
not_recorded 4 "undeclared DELETE"
# a declaration without a reason is an error, and nothing runs
printf -- '-- dbdeploy:allow data-loss\nDELETE FROM orders;\n' >"$m/0004_delete.sql"
attempt 0004 2
assert_contains "$err" "migrations/0004_delete.sql:1: dbdeploy:allow data-loss has no reason" "reasonless declaration"
# a DELETE that removes nothing needs no declaration; the statement's own declaration covers it
printf 'DELETE FROM orders WHERE id > 100;\n-- dbdeploy:allow data-loss orders are archived nightly\nDELETE FROM orders;\n' >"$m/0004_delete.sql"
attempt 0004 0
assert_eq "$(q "$url" "select count(*) from orders")" "0" "declared DELETE ran"

# --- TRUNCATE, in a no-transaction migration: the guarded statement runs in its own transaction
printf -- '-- dbdeploy:no-transaction\nTRUNCATE items;\n' >"$m/0005_truncate.sql"
attempt 0005 1
assert_contains "$err" "TRUNCATE items removed 3 rows, which the migration does not declare" "TRUNCATE counted"
assert_eq "$(q "$url" "select count(*) from items")" "3" "rows still there"
q "$url" "delete from dbdeploy.migrations where version = 5" >/dev/null # dirty row of the no-transaction file
printf -- '-- dbdeploy:no-transaction\nTRUNCATE items; -- dbdeploy:allow truncate rebuilt by the importer\n' >"$m/0005_truncate.sql"
attempt 0005 0
assert_eq "$(q "$url" "select count(*) from items")" "0" "declared TRUNCATE ran"
assert_eq "$(q "$url" "select state from dbdeploy.migrations where version = 5")" "applied" "recorded"

# --- rows added to a table that existed before: row-changes
echo 'INSERT INTO items VALUES (10);' >"$m/0006_seed.sql"
attempt 0006 1
assert_contains "$err" "INSERT added 1 row to items, which the migration does not declare" "INSERT counted"
printf -- '-- dbdeploy:allow row-changes seed row the application expects\nINSERT INTO items VALUES (10);\n' >"$m/0006_seed.sql"
attempt 0006 0

# --- a constraint left NOT VALID
echo 'ALTER TABLE items ADD CONSTRAINT items_pos CHECK (id > 0) NOT VALID;' >"$m/0007_check.sql"
attempt 0007 1
assert_contains "$err" "constraint items_pos on items is left NOT VALID, which the migration does not declare" "NOT VALID found"
assert_eq "$(q "$url" "select count(*) from pg_constraint where conname = 'items_pos'")" "0" "rolled back"
printf -- '-- dbdeploy:allow not-valid validated in 0008\nALTER TABLE items ADD CONSTRAINT items_pos CHECK (id > 0) NOT VALID;\n' >"$m/0007_check.sql"
attempt 0007 0

# --- narrowing a column that holds values
printf 'ALTER TABLE dup ALTER COLUMN v TYPE smallint;\n' >"$m/0008_narrow.sql"
attempt 0008 1
assert_contains "$err" "ALTER COLUMN dup.v TYPE narrowed int4 to int2 while it held 2 values" "narrowing found"
rm "$m/0008_narrow.sql"

# --- an index left invalid by a partitioned table's ON ONLY index, in a transaction
cat >"$m/0008_parted.sql" <<'SQL'
CREATE TABLE parted (x int) PARTITION BY RANGE (x);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);
CREATE INDEX parted_x ON ONLY parted (x);
SQL
attempt 0008 1
assert_contains "$err" "index parted_x on parted is left invalid" "invalid index found before COMMIT"
assert_eq "$(q "$url" "select to_regclass('parted') is null")" "t" "rolled back"
rm "$m/0008_parted.sql"

# --- the warning setting lets it through, said out loud
printf 'UPDATE items SET id = id + 1;\n' >"$m/0008_bump.sql"
printf '[guard]\n\trow-changes = warning\n' >>"$proj/pipeline/dev.conf"
attempt 0008 0
assert_contains "$err" "warning: migrations/0008_bump.sql:1:1: UPDATE changed 1 row of items, which the migration does not declare" "warning"

# --- what changed: recorded in the ledger, shown by status -v; plan shows it for pending files
expect_rc 0 -C "$proj" -v status dev
assert_contains "$out" "changes: -column orders.note" "status -v: the ledger recorded 0002's change"
assert_contains "$out" "changes: +table orders, +table items, +table dup" "status -v: 0001's"
expect_rc 0 -C "$proj" --json status dev
assert_eq "$(jq -r '.migrations[] | select(.version == 7) | .changes' <<<"$out")" "+constraint items.items_pos" "json"
printf -- '-- dbdeploy:allow drop-index-without-concurrently only here to show the plan\n-- dbdeploy:allow alter-column-type only here to show the plan\nCREATE TABLE notes (id int);\nALTER TABLE items ADD COLUMN x int, ALTER COLUMN id TYPE bigint;\nDROP INDEX IF EXISTS gone;\n' >"$m/0009_plan.sql"
expect_rc 0 -C "$proj" plan dev
assert_contains "$out" "changes: +table notes, +column items.x, ~type items.id, -index gone" "plan shows what a pending file changes"
rm "$m/0009_plan.sql"

# --- a failed CREATE UNIQUE INDEX CONCURRENTLY: the invalid index it leaves is named
echo 'CREATE UNIQUE INDEX CONCURRENTLY dup_v ON dup (v);' >"$m/0009_unique.sql"
attempt 0009 1
assert_contains "$err" "index dup_v on dup is left invalid: drop it (DROP INDEX CONCURRENTLY) before running the migration again" "invalid index reported"
assert_eq "$(q "$url" "select count(*) from dup")" "2" "data untouched"

pass "data-loss guard"
