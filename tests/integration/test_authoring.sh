#!/usr/bin/env bash
# Authoring (issue 11): `new` writes templates with a header (file, date, git author) that are
# refused until edited; empty or comment-only migrations are refused (exit 2, naming the file)
# by every command that would apply them, unless they say `-- dbdeploy:allow empty`; on a
# development environment `redo` reverts and re-applies an edited migration, without `mark`.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
mkdir -p "$proj/migrations"
dev=$(new_db dev)
staging=$(new_db staging)
write_env "$proj" dev "$dev" '[git]' '	allow-dirty = true' '[backup]' '	enabled = false'
write_env "$proj" staging "$staging" '[backup]' '	enabled = false'
for n in a b c; do expect_rc 0 -C "$proj" new "add $n"; done
up=$proj/migrations/0001_add_a.up.sql
assert_contains "$(cat "$up")" "-- 0001_add_a.up.sql: the change" "header names the file"
assert_contains "$(cat "$up")" "-- Created $(date -u +%Y-%m-%d) by Test Author <author@example.com>." "date and git author"
assert_contains "$(cat "$proj/migrations/0001_add_a.down.sql")" "reverts the up migration" "down template"

# three unedited templates: refused, nothing applied (on the old code: "applied 3 migrations")
expect_rc 2 -C "$proj" apply dev
assert_contains "$err" "migrations/0001_add_a.up.sql: the migration has no SQL statement" "file named"
assert_contains "$err" "dbdeploy:allow empty" "hint names the way out"
assert_eq "$(q "$dev" "select count(*) from pg_namespace where nspname = 'dbdeploy'")" "0" "nothing applied"
commit_all "$proj" "templates"
expect_rc 2 -C "$proj" deploy staging
assert_contains "$err" "migrations/0001_add_a.up.sql: the migration has no SQL statement" "deploy refuses in preflight"

# written, and one deliberately empty
for n in a b c; do
  printf 'CREATE TABLE %s (id int);\n' "$n" >>"$proj/migrations/000$(($(printf '%d' "'$n") - 96))_add_$n.up.sql"
  printf 'DROP TABLE %s;\n' "$n" >>"$proj/migrations/000$(($(printf '%d' "'$n") - 96))_add_$n.down.sql"
done
printf -- '-- dbdeploy:allow empty  (kept as a marker)\n' >"$proj/migrations/0004_marker.up.sql"
printf -- '-- nothing to revert\n' >"$proj/migrations/0004_marker.down.sql"
expect_rc 0 -C "$proj" apply dev
assert_contains "$out" "applied 4 migrations to dev" "applied, the marker included"
run_dd -C "$proj" lint
assert_not_contains "$out$err" "bad-suppression" "allow empty is no lint suppression"

# edit an applied migration on dev: apply blocks (modified), redo re-runs it
printf 'CREATE TABLE c (id int, note text);\n' >"$proj/migrations/0003_add_c.up.sql"
expect_rc 3 -C "$proj" apply dev
assert_contains "$err" "0003_add_c.up.sql" "apply still blocks on the edited file"
expect_rc 0 -C "$proj" redo dev 3
assert_contains "$out" "redid version 3 on dev" "redo report"
assert_contains "$out" "migrations/0003_add_c.up.sql" "lists what it applied"
assert_contains "$out" "reverted 2, applied 2" "0004 reverted and re-applied around it"
assert_eq "$(q "$dev" "select count(*) from information_schema.columns where table_name = 'c' and column_name = 'note'")" "1" "edited version applied"
expect_rc 0 -C "$proj" status dev
assert_not_contains "$out" "modified" "ledger records the edited file"
expect_rc 0 -C "$proj" redo dev
assert_contains "$out" "redid version 4 on dev" "default: the newest applied"
assert_contains "$out" "reverted 1, applied 1" "only that one"
expect_rc 2 -C "$proj" redo dev 0009
assert_contains "$err" "version 9 is not applied on dev" "unknown version"
printf 'CREATE TABLE e (id int);\n' >"$proj/migrations/0005_e.sql"
expect_rc 0 -C "$proj" apply dev
expect_rc 3 -C "$proj" redo dev
assert_contains "$err" "migrations/0005_e.sql has no down migration, so redo cannot revert it" "no down file"

# not on a shared environment
commit_all "$proj" "written"
expect_rc 0 -C "$proj" deploy staging
before=$(dump "$staging")
expect_rc 3 -C "$proj" redo staging
assert_contains "$err" "redo is for development environments, and staging has no [git] allow-dirty" "refused"
assert_contains "$err" "hint:" "with a hint"
assert_eq "$(dump "$staging")" "$before" "staging unchanged"

# the dbmate and Flyway templates
mkdir -p "$PWD/p2/db" && git_init "$PWD/p2"
write_env "$PWD/p2" dev "$dev"
expect_rc 0 -C "$PWD/p2" new --format dbmate first
f=$(ls "$PWD"/p2/migrations/*_first.sql)
assert_contains "$(cat "$f")" "-- migrate:up" "dbmate up section"
assert_contains "$(cat "$f")" "-- migrate:down" "dbmate down section"
rm "$f"
expect_rc 0 -C "$PWD/p2" new --format flyway second
assert_eq "$out" $'migrations/V0001__second.sql\nmigrations/U0001__second.sql' "Flyway versioned and undo files"
expect_rc 0 -C "$PWD/p2" new third
assert_contains "$out" "migrations/V0002__third.sql" "the format in use is followed"
pass "templates, empty migrations refused, redo on dev"
