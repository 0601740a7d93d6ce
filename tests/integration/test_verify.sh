#!/usr/bin/env bash
# `dbdeploy verify`: every way HEAD can break a published migration fails with exit 3 and names
# the file and the commit; additions pass; CRLF-only and whitespace-only edits are still edits.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
m=$proj/migrations
mkdir -p "$m" "$proj/pipeline"
printf '[git]\n\tprotected-branch = main\n' >"$proj/pipeline/dbdeploy.conf"
printf 'CREATE TABLE a (id int);\n' >"$m/0001_a.up.sql"
printf 'DROP TABLE a;\n' >"$m/0001_a.down.sql"
printf 'CREATE TABLE b (id int);\n' >"$m/0002_b.up.sql"
printf 'CREATE TABLE c (id int);\n' >"$m/0005_c.up.sql"
commit_all "$proj" "published migrations"

branch() { git -C "$proj" checkout -q -B "$1" main; }
edit_commit() { # message, then the change has been made by the caller
  git -C "$proj" add -A
  GIT_AUTHOR_NAME="Eve Editor" GIT_AUTHOR_DATE="2026-11-19T09:00:00Z" git -C "$proj" commit -q -m "$1"
}

# on main itself, and with a new migration on a branch: ok
expect_rc 0 -C "$proj" verify
assert_contains "$out" "ok: 3 migrations" "clean main"
branch feature
printf 'CREATE TABLE d (id int);\n' >"$m/0006_d.up.sql"
printf 'README\n' >"$m/README.md"
edit_commit "add d"
expect_rc 0 -C "$proj" verify
assert_contains "$out" "ok: 4 migrations; nothing published in main" "addition passes"
# adding a down file to a published up is allowed too
printf 'DROP TABLE b;\n' >"$m/0002_b.down.sql"
edit_commit "add the missing down"
expect_rc 0 -C "$proj" verify

# modified
branch edit
printf 'CREATE TABLE a (id bigint);\n' >"$m/0001_a.up.sql"
edit_commit "widen a.id in place"
short=$(git -C "$proj" rev-parse --short HEAD)
expect_rc 3 -C "$proj" verify
assert_contains "$err" "1 published migration problem between main" "summary"
assert_contains "$err" "modified: migrations/0001_a.up.sql in $short \"widen a.id in place\" (Eve Editor, 2026-11-19)" "file and commit"
assert_contains "$err" "dbdeploy new NAME" "hint"
expect_rc 3 -C "$proj" --json verify
assert_eq "$(jq -r '.problems[0].kind' <<<"$out")" "modified" "json kind"
assert_eq "$(jq -r '.ok' <<<"$out")" "false" "json ok"

# CRLF-only
branch crlf
printf 'CREATE TABLE a (id int);\r\n' >"$m/0001_a.up.sql"
edit_commit "crlf"
expect_rc 3 -C "$proj" verify
assert_contains "$err" "modified: migrations/0001_a.up.sql" "CRLF edit fails"
assert_contains "$err" "only line endings differ: still an edit" "says it is line endings only"

# whitespace-only
branch ws
printf 'CREATE TABLE a (id int);   \n\n' >"$m/0001_a.up.sql"
edit_commit "trailing spaces"
expect_rc 3 -C "$proj" verify
assert_contains "$err" "only whitespace differs: still an edit" "says it is whitespace only"

# deleted (a down file counts too)
branch del
git -C "$proj" rm -q migrations/0001_a.down.sql
edit_commit "drop the down"
expect_rc 3 -C "$proj" verify
assert_contains "$err" "deleted: migrations/0001_a.down.sql in" "deletion"

# renamed
branch ren
git -C "$proj" mv migrations/0002_b.up.sql migrations/0002_bee.up.sql
edit_commit "rename b"
expect_rc 3 -C "$proj" verify
assert_contains "$err" "renamed: migrations/0002_b.up.sql -> migrations/0002_bee.up.sql in" "rename"

# out of order: 0003 is below 0005, the newest on main
branch ooo
printf 'CREATE TABLE late (id int);\n' >"$m/0003_late.up.sql"
edit_commit "late"
expect_rc 3 -C "$proj" verify
assert_contains "$err" "out of order: migrations/0003_late.up.sql (version 3 is not above 5, the newest in main)" "out of order"
expect_rc 0 -C "$proj" verify --allow-out-of-order

# duplicate version
branch dup
printf 'CREATE TABLE x (id int);\n' >"$m/00005_x.up.sql"
edit_commit "dup"
expect_rc 3 -C "$proj" verify
assert_contains "$err" "version 5 is also used by" "duplicate"

# --base with an explicit ref; unknown base is a usage error
git -C "$proj" checkout -q main
expect_rc 0 -C "$proj" verify --base main
expect_rc 2 -C "$proj" verify --base no-such-branch
assert_contains "$err" "the base 'no-such-branch' does not exist" "unknown base"
# a migration only the changelog records as applied (deployed from a branch, never merged):
# editing it fails verify even though the base never had the file
branch hotfix
printf 'CREATE TABLE hot (id int);\n' >"$m/0007_hot.up.sql"
sum=$(sha256sum "$m/0007_hot.up.sql" | cut -d' ' -f1)
mkdir -p "$proj/changelog/prod"
printf '# Deployments to prod\n\n<!-- dbdeploy:applied env=prod version=7 checksum=sha256:%s file=migrations/0007_hot.up.sql -->\n' "$sum" >"$proj/changelog/prod/CHANGELOG.md"
printf '[database]\n\turl = postgresql:///unused\n' >"$proj/pipeline/prod.conf"
edit_commit "hotfix deployed to prod"
expect_rc 0 -C "$proj" verify
printf 'CREATE TABLE hot (id bigint);\n' >"$m/0007_hot.up.sql"
edit_commit "edit the hotfix"
expect_rc 3 -C "$proj" verify
assert_contains "$err" "applied-modified: migrations/0007_hot.up.sql differs from what changelog/prod/CHANGELOG.md records as applied to prod" "changelog record enforced"
git -C "$proj" rm -q migrations/0007_hot.up.sql
edit_commit "remove the hotfix"
expect_rc 3 -C "$proj" verify
assert_contains "$err" "applied-missing: migrations/0007_hot.up.sql is recorded as applied" "deletion of a recorded migration"
pass "verify: modified, CRLF, whitespace, deleted, renamed, out of order, duplicate, changelog records"
