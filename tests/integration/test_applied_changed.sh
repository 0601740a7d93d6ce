#!/usr/bin/env bash
# Applied migrations are immutable: edits (even whitespace/CRLF), deletions and renames block
# with exit 3 before anything runs; so do out-of-order versions unless allowed.
source "$DD_SUPPORT/lib.sh"

url=$(new_db changed)
proj=$PWD/proj
git_init "$proj"
write_env "$proj" dev "$url" "[git]" "allow-dirty = true"
m=$proj/migrations
mkdir -p "$m"
echo 'CREATE TABLE a (id int);' >"$m/0001_a.up.sql"
echo 'CREATE TABLE b (id int);' >"$m/0002_b.up.sql"
expect_rc 0 -C "$proj" apply dev
echo 'CREATE TABLE c (id int);' >"$m/0003_c.up.sql"

# whitespace-only edit of an applied file
echo 'CREATE TABLE a (id int); ' >"$m/0001_a.up.sql"
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "1 migration applied to dev was changed since" "summary"
assert_contains "$err" "modified: migrations/0001_a.up.sql" "file named"
assert_contains "$err" "line endings and whitespace included" "explains exact-bytes rule"
expect_rc 0 -C "$proj" status dev
assert_contains "$out" "2 applied, 1 pending; 1 modified" "status counts the problem on its own"
assert_eq "$(q "$url" "select to_regclass('c') is null")" "t" "pending 0003 not applied"
# CRLF-only edit
printf 'CREATE TABLE a (id int);\r\n' >"$m/0001_a.up.sql"
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "modified: migrations/0001_a.up.sql" "CRLF edit blocks"
echo 'CREATE TABLE a (id int);' >"$m/0001_a.up.sql"

# deletion
mv "$m/0002_b.up.sql" "$PWD/saved.sql"
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "missing: migrations/0002_b.up.sql (version 2) is applied but no file has that version" "deletion"
# rename
cp "$PWD/saved.sql" "$m/0002_bee.up.sql"
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "renamed: migrations/0002_b.up.sql is now migrations/0002_bee.up.sql" "rename"
rm "$m/0002_bee.up.sql"
mv "$PWD/saved.sql" "$m/0002_b.up.sql"
expect_rc 0 -C "$proj" apply dev

# out of order: version 2.5 arrives after 3 was applied
echo 'CREATE TABLE late (id int);' >"$m/0002_5_late.up.sql" # version 0002 again would be a duplicate
rm "$m/0002_5_late.up.sql"
echo 'CREATE TABLE late (id int);' >"$m/00025_late.up.sql" # 25 > 3: in order
expect_rc 0 -C "$proj" apply dev
echo 'CREATE TABLE early (id int);' >"$m/0004_early.up.sql" # 4 < 25: out of order
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "1 pending migration is older than the newest version applied to dev (25)" "out-of-order summary"
assert_contains "$err" "out of order: migrations/0004_early.up.sql" "file named"
expect_rc 0 -C "$proj" status dev
assert_contains "$out" "out-of-order" "status shows it"
printf '[migrations]\n\tout-of-order = true\n' >>"$proj/pipeline/dev.conf"
expect_rc 0 -C "$proj" apply dev
assert_eq "$(q "$url" "select to_regclass('early') is not null")" "t" "applied when allowed"
pass "edits, CRLF, whitespace, deletions, renames and out-of-order versions block"
