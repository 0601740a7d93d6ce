#!/usr/bin/env bash
# dbdeploy schema dump / check: a canonical, byte-stable schema file; `check` builds the
# migrations' schema on a scratch database ([schema] scratch-url, or a temporary cluster it
# starts and removes) and fails with a unified diff when the file is stale.
source "$DD_SUPPORT/lib.sh"

proj=$PWD/proj
git_init "$proj"
cp -r "$DBDEPLOY_SOURCE_DIR/migrations" "$proj/"
rm -f "$proj/migrations/README.md"
printf '[schema]\n\tscratch-url = %s\n' "$DBDEPLOY_TEST_URL" >"$proj/pipeline.tmp"
mkdir -p "$proj/pipeline" && mv "$proj/pipeline.tmp" "$proj/pipeline/dbdeploy.conf"
a=$(new_db schema_a)
b=$(new_db schema_b)
write_env "$proj" a "$a"
write_env "$proj" b "$b"
commit_all "$proj" "migrations"

scratch_left() { q "$DBDEPLOY_TEST_URL" "select count(*) from pg_database where datname like 'dbdeploy_schema_%'"; }

# no file yet: exit 1 naming it; --write creates it
expect_rc 1 -C "$proj" schema check
assert_contains "$err" "'schema.sql' does not exist" "missing file named"
assert_contains "$err" "schema check --write" "hint names --write"
expect_rc 0 -C "$proj" schema check --write
assert_contains "$out" "wrote schema.sql from 4 migrations" "file written"
grep -q '^CREATE TABLE public.orders' "$proj/schema.sql" || fail "schema.sql lacks the orders table"
grep -q '^-- dbdeploy:applied 4 migrations/0004_account_order_totals.up.sql$' "$proj/schema.sql" ||
  fail "schema.sql lacks the applied-version lines"
if grep -qE '^(\\restrict|\\unrestrict|-- Dumped (from|by))' "$proj/schema.sql"; then
  fail "schema.sql keeps version comments or the restrict key"
fi
grep -q 'dbdeploy' <(grep -v '^-- dbdeploy' "$proj/schema.sql") && fail "the ledger schema leaked into schema.sql"
assert_eq "$(scratch_left)" 0 "scratch databases dropped"

# byte-stable: a second build compares equal, also as a fresh install
expect_rc 0 -C "$proj" schema check --fresh-install
assert_contains "$out" "schema.sql is up to date with 4 migrations; a fresh install from it gives the same schema" "fresh install"
commit_all "$proj" "schema.sql"

# two databases migrated the same way dump the same bytes, equal to what check built
expect_rc 0 -C "$proj" apply a
expect_rc 0 -C "$proj" apply b
expect_rc 0 -C "$proj" schema dump a -o "$PWD/a1.sql"
expect_rc 0 -C "$proj" schema dump a -o "$PWD/a2.sql"
expect_rc 0 -C "$proj" schema dump b -o "$PWD/b.sql"
cmp "$PWD/a1.sql" "$PWD/a2.sql" || fail "two dumps of one database differ"
cmp "$PWD/a1.sql" "$PWD/b.sql" || fail "two databases built by the same migrations dump differently"
cmp "$PWD/a1.sql" "$proj/schema.sql" || fail "schema dump of a migrated database differs from schema check's build"
expect_rc 0 --json -C "$proj" schema dump a
assert_contains "$out" '"command":"schema dump"' "json document"
assert_eq "$(git -C "$proj" status --porcelain -- . ':!changelog')" "" "schema dump with -o elsewhere leaves the project alone"

# a migration added without updating the file: exit 1 and the diff names the new column
printf 'ALTER TABLE accounts ADD COLUMN nickname text;\n' >"$proj/migrations/0005_nickname.up.sql"
expect_rc 1 -C "$proj" schema check
assert_contains "$out" "+    nickname text," "diff shows the new column"
assert_contains "$out" "+-- dbdeploy:applied 5 migrations/0005_nickname.up.sql" "diff shows the new version"
assert_contains "$err" "'schema.sql' is stale" "stale named"
expect_rc 1 --json -C "$proj" schema check
assert_contains "$out" '"up_to_date":false' "json says stale"
assert_contains "$out" '"exit_status":1' "json exit status"
# `schema dump ENV` after deploying brings it up to date too
expect_rc 0 -C "$proj" schema check --write
assert_contains "$out" "updated schema.sql from 5 migrations" "updated"
expect_rc 0 -C "$proj" schema check
assert_eq "$(scratch_left)" 0 "scratch databases dropped after failures too"

# a migration that fails on an empty database is named, and nothing is left behind
printf 'ALTER TABLE nosuch ADD COLUMN x int;\n' >"$proj/migrations/0006_broken.up.sql"
expect_rc 1 -C "$proj" schema check
assert_contains "$err" "0006_broken.up.sql" "failing migration named"
assert_eq "$(scratch_left)" 0 "scratch database dropped after a failed build"
rm "$proj/migrations/0006_broken.up.sql"

# a file that does not load: --fresh-install names its line
cp "$proj/schema.sql" "$PWD/good.sql"
expect_rc 0 -C "$proj" schema check --fresh-install

# [schema] source = a: a successful deploy to a rewrites the file (here: back to what check built)
commit_all "$proj" "0005 and schema.sql"
cp "$proj/schema.sql" "$PWD/want.sql"
write_env "$proj" a "$a" "[backup]" "enabled = false" "[schema]" "source = a"
commit_all "$proj" "a is the schema source"
echo "-- stale" >"$proj/schema.sql"
expect_rc 0 -C "$proj" a
assert_contains "$err" "rewrote schema.sql from a" "deploy says it rewrote the file"
cmp "$PWD/want.sql" "$proj/schema.sql" || fail "the deploy to the source environment did not rewrite schema.sql"
echo "-- stale" >"$proj/schema.sql"
expect_rc 0 -C "$proj" b
assert_eq "$(cat "$proj/schema.sql")" "-- stale" "a deploy to another environment leaves the file alone"
cp "$PWD/want.sql" "$proj/schema.sql"

# without scratch-url: a temporary cluster (PostgreSQL refuses root: run as an ordinary user)
rm "$proj/pipeline/dbdeploy.conf"
if [[ $(id -u) -eq 0 ]]; then
  expect_rc 2 -C "$proj" schema check
  assert_contains "$err" "cannot start a temporary PostgreSQL server as root" "root refused with a reason"
  assert_contains "$err" "scratch-url" "hint names scratch-url"
  user=${DD_PG_USER:-postgres}
  box=$(mktemp -d "${TMPDIR:-/tmp}/dbdeploy-schema-test.XXXXXX")
  chmod 755 "$box"
  cp -r "$proj" "$box/proj"
  cp "$DBDEPLOY_BIN" "$box/dbdeploy"
  mkdir "$box/tmp"
  chown -R "$user" "$box"
  as_user() { runuser -u "$user" -- env TMPDIR="$box/tmp" HOME="$box" "$box/dbdeploy" "$@"; }
else
  box=$(mktemp -d "${TMPDIR:-/tmp}/dbdeploy-schema-test.XXXXXX")
  cp -r "$proj" "$box/proj"
  mkdir "$box/tmp"
  as_user() { env TMPDIR="$box/tmp" "$DBDEPLOY_BIN" "$@"; }
fi
set +e
tout=$(as_user -C "$box/proj" schema check --fresh-install 2>"$box/err")
trc=$?
set -e
[[ $trc == 0 ]] || { cat "$box/err" >&2; fail "schema check on a temporary cluster exited $trc"; }
assert_contains "$tout" "built on a temporary PostgreSQL cluster" "temporary cluster used"
assert_eq "$(ls -A "$box/tmp")" "" "temporary cluster removed"
pgrep -f "$box/tmp" >/dev/null && fail "temporary server still running"
printf 'ALTER TABLE accounts ADD COLUMN note text;\n' >"$box/proj/migrations/0007_note.up.sql"
set +e
tout=$(as_user -C "$box/proj" schema check 2>"$box/err")
trc=$?
set -e
assert_eq "$trc" 1 "stale on a temporary cluster: exit 1"
assert_contains "$tout" "+    note text," "diff from the temporary cluster"
assert_eq "$(ls -A "$box/tmp")" "" "temporary cluster removed after a stale check"
rm -rf "$box"
pass "schema dump and check"
